"""Throwaway PostgreSQL databases for the benchmarks: created empty on the given server, dropped after."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def throwaway_postgres(postgres_url: str, prefix: str = "vigie_bench", keep: bool = False) -> Iterator[str]:
    """The URL of a new, empty database; dropped on the way out (even with connections left), unless
    ``keep``, which prints its URL to look at it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        try:
            yield url
        finally:
            if keep:
                print(f"kept: {url}", file=sys.stderr)
            else:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
