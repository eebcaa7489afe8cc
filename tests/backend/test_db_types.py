"""UTC datetimes bound for SQLite by one fused call give exactly the text SQLAlchemy's two steps give (SQLite
compares datetimes as text: one character apart and a filter by day misses rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from backend.db_types import UTCDateTime


def test_the_fused_sqlite_binding_writes_what_the_two_steps_write() -> None:
    dialect = sqlite.dialect()
    column = UTCDateTime()
    fused = column.dialect_impl(dialect)._cached_bind_processor(dialect)  # what SQLAlchemy binds with
    storage = sqlite.DATETIME().bind_processor(dialect)  # type: ignore[no-untyped-call]
    assert fused is not None and storage is not None

    def two_steps(value: datetime) -> object:  # the generic path it replaces: naive UTC, then SQLite text
        return storage(column.process_bind_param(value, dialect))

    paris = timezone(timedelta(hours=1))
    moments = [
        datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        datetime(2026, 12, 2, 0, 30, 0, 7, tzinfo=paris),  # the day before in UTC, microseconds kept
        datetime(2026, 3, 29, 2, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
        datetime(999, 1, 1, 12, tzinfo=UTC),  # a four-digit year, zero-padded
    ]
    for moment in moments:
        assert fused(moment) == two_steps(moment), moment
    assert fused(moments[1]) == "2026-12-01 23:30:00.000007"
    assert fused(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        fused(datetime(2026, 12, 2, 9, 30))


def test_postgresql_keeps_the_generic_binding() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    value = datetime(2026, 12, 2, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    processor = UTCDateTime().bind_processor(dialect)
    bound = processor(value) if processor is not None else UTCDateTime().process_bind_param(value, dialect)
    assert bound == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
