"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# How SQLAlchemy's SQLite dialect stores a DATETIME (sqlalchemy.dialects.sqlite.DATETIME's default).
SQLITE_STORAGE_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC.

    SQLite has no time zone type and hands back naive values; normalising here means every
    datetime the application reads is aware and in UTC, whatever the database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, the two steps (to naive UTC, then SQLite's text form) fused into one call: a push of
        500 observations binds four datetimes each, and the two-step path was an eighth of its time."""
        storage = getattr(self.impl_instance.dialect_impl(dialect), "_storage_format", None)
        if dialect.name != "sqlite" or storage != SQLITE_STORAGE_FORMAT:
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column; attach a time zone first")
            # « 2026-12-02 09:30:00.000000+00:00 » without its offset: SQLite's storage format exactly.
            return value.astimezone(UTC).isoformat(" ", "microseconds")[:-6]

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
