"""Database reachability for the health endpoint."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

log = logging.getLogger(__name__)


def database_status(session: Session) -> tuple[str, str | None]:
    """Return ("ok", revision) or ("unreachable", None); never raises."""
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except SQLAlchemyError:
        log.warning("database unreachable", exc_info=True)
        return "unreachable", None
    try:
        revision = session.exec(text("SELECT version_num FROM alembic_version")).scalar()  # type: ignore[call-overload]
    except SQLAlchemyError:
        session.rollback()
        return "ok", None
    return "ok", str(revision) if revision is not None else None
