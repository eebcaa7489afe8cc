"""Database engine and session dependency."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine, event, func
from sqlmodel import Session, col, create_engine, select

from backend.local_time import register_sqlite


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers proceed while a sync writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    register_sqlite(dbapi_connection)  # local hours, which PostgreSQL computes itself


def release_connection(session: Session) -> None:
    """End the session's read transaction so its connection goes back to the pool, keeping what it loaded.

    FastAPI runs each sync dependency, the route and the response's validation as separate trips to its
    worker threads (40 per process). A session that kept its connection from one trip to the next held
    it while waiting for a thread, while every thread waited for a connection: under load (bench/load.py,
    200 tablets) requests then stalled until the pool's 30 s timeout and failed. Call this at the end of a
    dependency or a read-only service that has read what it needs; the next statement takes a connection
    again. Loaded objects stay attached and are not expired: nothing is read twice.
    """
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


Key = TypeVar("Key")


def counts_per(session: Session, key: Any, keys: Sequence[Key], *conditions: Any) -> dict[Key, int]:
    """How many rows of ``key``'s table each of ``keys`` has (those meeting ``conditions``), in one query."""
    if not keys:
        return {}
    grouped = select(key, func.count()).where(col(key).in_(keys), *conditions).group_by(col(key))
    return {value: int(count) for value, count in session.exec(grouped).all()}


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
