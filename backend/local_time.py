"""The local hour of day and weekday of a stored moment, in a time zone named by a column or a value, as SQL
on both databases: what the observation filter narrows to when a facilitator opens the observations
behind one hour of day or weekday of a chart (hours in each structure's own time zone, as charts count)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class local_hour(FunctionElement[int]):  # noqa: N801  (used like a SQL function)
    """``local_hour(moment, zone)``: the hour of day (0 to 23) of a UTC moment in the IANA zone ``zone``."""

    type = Integer()
    inherit_cache = True
    name = "local_hour"


class local_weekday(FunctionElement[int]):  # noqa: N801
    """``local_weekday(moment, zone)``: the ISO day of week (1 Monday to 7 Sunday) of a UTC moment there."""

    type = Integer()
    inherit_cache = True
    name = "local_weekday"


# PostgreSQL converts with its own time zone database: timezone(zone, timestamptz) is the wall-clock time
# there, whatever the session's TimeZone. SQLite has none: the server registers these functions on each
# connection (``register_sqlite``), computed with Python's.
_PARTS = {local_hour: ("HOUR", "vigie_local_hour"), local_weekday: ("ISODOW", "vigie_local_weekday")}


def _on_postgresql(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    part, _ = _PARTS[type(element)]
    return f"CAST(EXTRACT({part} FROM timezone({zone}, {moment})) AS INTEGER)"


def _on_sqlite(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    _, function = _PARTS[type(element)]
    return f"{function}({moment}, {zone})"


for _element in _PARTS:
    compiles(_element, "postgresql")(_on_postgresql)
    compiles(_element, "sqlite")(_on_sqlite)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local(part: Callable[[datetime], int]) -> Callable[[str | None, str | None], int | None]:
    """The SQLite side: a moment as SQLite stores it (naive UTC text) to one part of its local time."""

    def convert(stored: str | None, zone_name: str | None) -> int | None:
        zone = _zone(zone_name) if zone_name is not None else None
        if stored is None or zone is None:
            return None
        try:
            moment = datetime.fromisoformat(stored)
        except (TypeError, ValueError):  # not a moment this application wrote: matches no hour
            return None
        return part(moment.replace(tzinfo=UTC).astimezone(zone))

    return convert


def register_sqlite(dbapi_connection: Any) -> None:
    hour, weekday = _local(lambda moment: moment.hour), _local(lambda moment: moment.isoweekday())
    dbapi_connection.create_function("vigie_local_hour", 2, hour, deterministic=True)
    dbapi_connection.create_function("vigie_local_weekday", 2, weekday, deterministic=True)
