"""Alembic environment: the models' metadata, the URL from settings, batch mode for SQLite."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Engine

from backend.db import make_engine
from backend.migrate import compare_type, render_item
from backend.models import metadata
from backend.settings import get_settings

config = context.config


def _url() -> str:
    url = config.attributes.get("database_url") or get_settings().database_url
    return str(url)


def _configure(**kwargs: Any) -> None:
    url = kwargs.get("url") or _url()
    context.configure(
        target_metadata=metadata,
        render_as_batch=url.startswith("sqlite"),
        render_item=render_item,
        compare_type=compare_type,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine: Engine = make_engine(_url())
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            if sqlite:
                # Batch mode rebuilds tables (copy, drop, rename), which enforced foreign keys forbid.
                # The pragma only takes effect outside a transaction, hence before the migration starts.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()  # end the implicit transaction so Alembic's own one commits the migration
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
