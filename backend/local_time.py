"""The local hour of week of a stored moment, in a time zone named by a column, as SQL on both databases:
what the observation filter narrows to when a facilitator opens the observations behind one hour of day
or weekday of a chart (hours in each structure's own time zone, as the charts count them)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SQLITE_FUNCTION = "vigie_hour_of_week"


class local_hour_of_week(FunctionElement[int]):  # noqa: N801  (used like a SQL function)
    """``local_hour_of_week(moment, zone)``: hours since Monday 00:00 local time (0 to 167) of a UTC
    moment in the IANA zone ``zone``. PostgreSQL converts with its own time zone database; SQLite has
    none, so the server registers ``vigie_hour_of_week`` on each connection (``register_sqlite``)."""

    type = Integer()
    inherit_cache = True
    name = "local_hour_of_week"


@compiles(local_hour_of_week, "postgresql")
def _on_postgresql(element: local_hour_of_week, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    # timezone(zone, timestamptz) is the wall-clock time there, whatever the session's TimeZone.
    local = f"timezone({zone}, {moment})"
    day, hour = (f"CAST(EXTRACT({part} FROM {local}) AS INTEGER)" for part in ("ISODOW", "HOUR"))
    return f"(({day} - 1) * 24 + {hour})"


@compiles(local_hour_of_week, "sqlite")
def _on_sqlite(element: local_hour_of_week, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{SQLITE_FUNCTION}({moment}, {zone})"


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def hour_of_week(stored: str | None, zone_name: str | None) -> int | None:
    """The SQLite side: a moment as SQLite stores it (naive UTC text) to its local hour of week."""
    if stored is None or zone_name is None:
        return None
    zone = _zone(zone_name)
    if zone is None:
        return None
    local = datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(zone)
    return local.weekday() * 24 + local.hour


def register_sqlite(dbapi_connection: Any) -> None:
    dbapi_connection.create_function(SQLITE_FUNCTION, 2, hour_of_week, deterministic=True)
