"""Liveness and readiness: is the process up, can it reach its database."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from backend.db import SessionDep

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


router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    schema_revision: str | None


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(session: SessionDep) -> Health | JSONResponse:
    database, revision = database_status(session)
    result = Health(
        status="ok" if database == "ok" else "degraded", database=database, schema_revision=revision
    )
    if database != "ok":
        return JSONResponse(status_code=503, content=result.model_dump())
    return result
