"""Run Alembic from code, wherever the package is installed, and check the models against the migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import String
from sqlmodel.sql.sqltypes import AutoString

import migrations
from backend.db import make_engine
from backend.db_types import UTCDateTime
from backend.models import metadata

SCRIPT_LOCATION = str(Path(migrations.__file__).parent)


def render_item(type_: str, obj: Any, _autogen_context: Any) -> str | Literal[False]:
    """Write our custom column types as plain SQLAlchemy ones, so old migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def compare_type(
    _context: Any, _inspected_column: Any, _metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Tell autogenerate that our custom types are the plain types the migrations create."""
    if isinstance(metadata_type, UTCDateTime):
        return None  # compared as the DateTime it is stored as
    if isinstance(metadata_type, AutoString) and isinstance(inspected_type, String):
        return bool(metadata_type.length != inspected_type.length)
    return None


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = database_url
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def schema_drift(database_url: str) -> list[Any]:
    """Differences between the models and a database migrated to head; empty when they agree."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": compare_type, "render_item": render_item}
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()
