"""Back up and restore the whole database: SQLite through its online backup API (a consistent copy while
the server keeps writing), PostgreSQL through pg_dump / pg_restore in their custom format.

A restore replaces everything in the target database, so it refuses a database that holds data unless
forced. Failures raise BackupError with a French message for the person at the keyboard.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, select, table, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from backend.db import make_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
MIGRATIONS_TABLE = "alembic_version"  # bookkeeping, not data: a freshly migrated database is empty


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    engine: str  # "SQLite" or "PostgreSQL"


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def backup(database_url: str, target: Path, *, overwrite: bool = False) -> BackupResult:
    """Write a copy of the whole database to ``target`` (through a temporary file, renamed at the end,
    so an interrupted backup never leaves a truncated file under the final name)."""
    if target.exists() and not overwrite:
        raise BackupError(f"Le fichier {target} existe déjà : choisissez un autre nom ou ajoutez --force.")
    if not target.parent.is_dir():
        raise BackupError(f"Dossier introuvable : {target.parent}")
    partial = target.with_name(target.name + ".partiel")
    partial.unlink(missing_ok=True)
    try:
        if is_sqlite(database_url):
            _sqlite_backup(_sqlite_path(database_url), partial)
        else:
            _run(["pg_dump", "--format=custom", f"--file={partial}"], database_url)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    kind = "SQLite" if is_sqlite(database_url) else "PostgreSQL"
    return BackupResult(path=target, size_bytes=target.stat().st_size, engine=kind)


def restore(database_url: str, source: Path, *, force: bool = False) -> str | None:
    """Replace the database's content with the backup's. Returns the schema revision restored."""
    if not source.is_file():
        raise BackupError(f"Sauvegarde introuvable : {source}")
    with source.open("rb") as file:
        magic = file.read(len(SQLITE_MAGIC))
    sqlite_target = is_sqlite(database_url)
    if sqlite_target and not magic.startswith(SQLITE_MAGIC):
        raise BackupError(_wrong_kind(source, magic, "SQLite"))
    if not sqlite_target and not magic.startswith(PG_DUMP_MAGIC):
        raise BackupError(_wrong_kind(source, magic, "PostgreSQL"))
    if sqlite_target:
        _check_sqlite_backup(source)
    else:
        _run(["pg_restore", "--list", str(source)], None)  # a readable archive, before anything is dropped
    if not force and holds_data(database_url):
        raise BackupError(
            "La base cible contient déjà des données : la restauration les remplacerait toutes. "
            "Ajoutez --force pour la remplacer (après l'avoir sauvegardée si besoin)."
        )
    if sqlite_target:
        _sqlite_restore(source, _sqlite_path(database_url))
    else:
        _drop_everything(database_url)
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                str(source),
            ],
            database_url,
        )
    return _revision(database_url)


def holds_data(database_url: str) -> bool:
    """Whether any table other than the migrations' bookkeeping has a row."""
    if is_sqlite(database_url) and not _sqlite_path(database_url).exists():
        return False
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            names = [n for n in inspect(connection).get_table_names() if n != MIGRATIONS_TABLE]
            return any(
                connection.execute(select(text("1")).select_from(table(name)).limit(1)).first() is not None
                for name in names
            )
    finally:
        engine.dispose()


def _engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    try:
        engine.connect().close()
    except OperationalError as exc:
        engine.dispose()
        raise BackupError(f"Base de données injoignable ({_safe(database_url)}) : {exc.orig}") from None
    return engine


def _revision(database_url: str) -> str | None:
    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            if MIGRATIONS_TABLE not in inspect(connection).get_table_names():
                return None
            return connection.execute(text(f"SELECT version_num FROM {MIGRATIONS_TABLE}")).scalar()  # noqa: S608 (a constant)
    finally:
        engine.dispose()


def _safe(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


def _wrong_kind(source: Path, magic: bytes, expected: str) -> str:
    found = (
        "une sauvegarde SQLite"
        if magic.startswith(SQLITE_MAGIC)
        else "une sauvegarde PostgreSQL (pg_dump)"
        if magic.startswith(PG_DUMP_MAGIC)
        else "un fichier qui n'est pas une sauvegarde Vigie"
    )
    return f"{source} est {found} ; la base cible est {expected} : restauration impossible."


# SQLite


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"Base SQLite sans fichier ({database_url}) : rien à sauvegarder ou restaurer.")
    return Path(database)


def _sqlite_backup(database: Path, target: Path) -> None:
    if not database.is_file():
        raise BackupError(f"Base SQLite introuvable : {database}")
    # One consistent snapshot even while the server writes (WAL), in one file (no -wal beside it).
    _sqlite_copy(sqlite3.connect(database), target, "DELETE", "Sauvegarde")


def _sqlite_copy(
    source: sqlite3.Connection, target: Path, journal_mode: str, what: str, timeout: float = 5.0
) -> None:
    """Copy ``source`` into the file ``target`` with SQLite's online backup, page by page under the
    target's lock, then set the target's journal mode; ``source`` is closed whatever happens."""
    try:
        copy = sqlite3.connect(target, timeout=timeout)
        try:
            source.backup(copy)
            copy.execute(f"PRAGMA journal_mode={journal_mode}")
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{what} SQLite impossible : {exc}") from None
    finally:
        source.close()


def _check_sqlite_backup(source: Path) -> None:
    connection = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchone()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        raise BackupError(f"Sauvegarde illisible ({source}) : {exc}") from None
    finally:
        connection.close()
    if verdict != ("ok",):
        raise BackupError(f"Sauvegarde endommagée ({source}) : {verdict[0] if verdict else 'illisible'}.")
    if MIGRATIONS_TABLE not in tables:
        raise BackupError(f"{source} n'est pas une sauvegarde d'une base Vigie.")


def _sqlite_restore(source: Path, database: Path) -> None:
    if not database.parent.is_dir():
        raise BackupError(f"Dossier introuvable : {database.parent}")
    backup_file = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    # Readers never see half of it; the restored base is in WAL mode, as the server keeps it.
    _sqlite_copy(backup_file, database, "WAL", "Restauration", timeout=30)


# PostgreSQL


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it, and the environment carrying its password (never on a command line,
    where ``ps`` would show it)."""
    url: URL = make_url(database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _run(command: list[str], database_url: str | None) -> None:
    program = command[0]
    if shutil.which(program) is None:
        raise BackupError(
            f"{program} introuvable : installez les outils clients PostgreSQL "
            "(apt-get install postgresql-client), de la version du serveur ou plus récente."
        )
    env = dict(os.environ)
    if database_url is not None:
        dsn, env = _libpq(database_url)
        command = [*command, f"--dbname={dsn}"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        where = f" ({_safe(database_url)})" if database_url else ""
        raise BackupError(f"{program} a échoué{where} : {completed.stderr.strip()}")


def _drop_everything(database_url: str) -> None:
    """Empty the target schema, so the restored database holds exactly what the backup held."""
    engine = _engine(database_url)
    try:
        with engine.begin() as connection:
            inspector = inspect(connection)
            quote = connection.dialect.identifier_preparer.quote
            for name in inspector.get_table_names():
                connection.execute(text(f"DROP TABLE IF EXISTS {quote(name)} CASCADE"))
            for name in inspector.get_sequence_names():
                connection.execute(text(f"DROP SEQUENCE IF EXISTS {quote(name)} CASCADE"))
    finally:
        engine.dispose()
