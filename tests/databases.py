"""Throwaway databases for tests: a SQLite file, or a PostgreSQL database created and dropped per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

POSTGRES_ADMIN_URL = os.environ.get(
    "VIGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DATABASE_KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _libpq_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def require_postgres() -> None:
    """Fail (never skip) when PostgreSQL cannot be reached: a silent skip would hide half the suite."""
    try:
        with psycopg.connect(_libpq_dsn(POSTGRES_ADMIN_URL), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {exc}\n"
            "Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            pytrace=False,
        )


@contextmanager
def postgres_database() -> Iterator[str]:
    require_postgres()
    name = f"vigie_test_{uuid.uuid4().hex[:12]}"
    admin = _libpq_dsn(POSTGRES_ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def empty_database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'vigie-test.db'}"
    else:
        with postgres_database() as url:
            yield url
