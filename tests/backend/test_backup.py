"""``vigie backup`` / ``vigie restore``: a restore gives back exactly the rows backed up, in every table,
on SQLite (online backup API) and PostgreSQL (pg_dump / pg_restore), and never overwrites data unasked."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select, update
from sqlmodel import Session
from typer.testing import CliRunner, Result

from backend import models
from backend.admin.demo_data import build_demo
from backend.cli import app as vigie_cli
from backend.db import make_engine
from backend.settings import get_settings
from tests.databases import postgres_database

runner = CliRunner()


@pytest.fixture
def vigie(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs ``vigie`` against the database given, as an operator would with DATABASE_URL set."""

    def run(url: str, *args: str) -> Result:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        return runner.invoke(vigie_cli, list(args))

    yield run
    get_settings.cache_clear()


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the database holds (migrations' bookkeeping included), in key order."""
    engine = make_engine(url)
    try:
        reflected = MetaData()
        reflected.reflect(engine)
        with engine.connect() as connection:
            return {
                name: [
                    tuple(row)
                    for row in connection.execute(
                        select(table).order_by(*(table.primary_key.columns or table.columns))
                    )
                ]
                for name, table in sorted(reflected.tables.items())
            }
    finally:
        engine.dispose()


@contextmanager
def another_empty_database(url: str, directory: Path) -> Iterator[str]:
    if url.startswith("sqlite"):
        yield f"sqlite:///{directory / 'restored.db'}"
    else:
        with postgres_database() as other:
            yield other


def change_everything(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(models.Programme(name="Ajouté après la sauvegarde", taxonomy_version="2026.1"))
        session.execute(update(models.Observation).values(note="modifiée après la sauvegarde"))
        session.execute(models.AuditEvent.__table__.delete())  # type: ignore[attr-defined]
        session.commit()
    engine.dispose()


def test_restore_gives_back_identical_data(migrated_url: str, tmp_path: Path, vigie: Any) -> None:
    engine = make_engine(migrated_url)
    with Session(engine) as session:
        build_demo(session)
    engine.dispose()
    before = snapshot(migrated_url)
    assert len(before["observation"]) > 100 and before["alembic_version"]
    backup = tmp_path / "vigie.sauvegarde"

    saved = vigie(migrated_url, "backup", str(backup))
    assert saved.exit_code == 0, saved.output
    assert "Sauvegarde" in saved.output and str(backup) in saved.output
    again = vigie(migrated_url, "backup", str(backup))
    assert again.exit_code == 1 and "existe déjà" in again.output
    assert not list(tmp_path.glob("*.partiel"))

    change_everything(migrated_url)
    changed = snapshot(migrated_url)
    assert changed != before

    refused = vigie(migrated_url, "restore", str(backup))
    assert refused.exit_code == 1
    assert "contient déjà des données" in refused.output and "--force" in refused.output
    assert snapshot(migrated_url) == changed  # refused means untouched

    restored = vigie(migrated_url, "restore", str(backup), "--force")
    assert restored.exit_code == 0, restored.output
    assert snapshot(migrated_url) == before
    checked = vigie(migrated_url, "db", "check")
    assert checked.exit_code == 0, checked.output

    # New rows take fresh identifiers after a restore (PostgreSQL's sequences came back too).
    engine = make_engine(migrated_url)
    with Session(engine) as session:
        added = models.Programme(name="Après restauration", taxonomy_version="2026.1")
        session.add(added)
        session.commit()
        assert added.id is not None and added.id > max(row[0] for row in before["programme"])
    engine.dispose()


def test_restore_into_an_empty_database_needs_no_force(migrated_url: str, tmp_path: Path, vigie: Any) -> None:
    engine = make_engine(migrated_url)
    with Session(engine) as session:
        build_demo(session, seed=7)
    engine.dispose()
    backup = tmp_path / "vigie.sauvegarde"
    assert vigie(migrated_url, "backup", str(backup)).exit_code == 0
    with another_empty_database(migrated_url, tmp_path) as empty:
        restored = vigie(empty, "restore", str(backup))
        assert restored.exit_code == 0, restored.output
        assert snapshot(empty) == snapshot(migrated_url)
        assert vigie(empty, "db", "check").exit_code == 0


def test_restore_refuses_what_is_not_a_backup_of_its_kind(tmp_path: Path, vigie: Any) -> None:
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    notes = tmp_path / "notes.txt"
    notes.write_text("pas une sauvegarde")
    refused = vigie(url, "restore", str(notes))
    assert refused.exit_code == 1
    assert "pas une sauvegarde Vigie" in refused.output
    dump = tmp_path / "pg.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00")
    wrong_kind = vigie(url, "restore", str(dump))
    assert wrong_kind.exit_code == 1
    assert "sauvegarde PostgreSQL" in wrong_kind.output and "SQLite" in wrong_kind.output
    assert not (tmp_path / "vigie.db").exists()
