"""The tablet's local SQLite store: visits, observations, reference data and the outbox of mutations.

Every save writes the record and its outbox entry in one transaction, so whatever the app showed as
saved survives a crash and is sent at the next sync. Mutation ids only grow (they are the server's
key for exactly-once application), and several edits of one record waiting in the outbox collapse
into the newest, which carries the whole latest state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.schema import Observation, Visit
from shared.sync import MutationResult, MutationStatus, PullResponse

SCHEMA_VERSION = 1
_MIGRATIONS: dict[int, str] = {
    1: """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE structure (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
        CREATE TABLE unit (id INTEGER PRIMARY KEY, structure_id INTEGER NOT NULL, name TEXT NOT NULL);
        CREATE TABLE visit (
            id TEXT PRIMARY KEY, data TEXT NOT NULL, started_at TEXT NOT NULL, deleted INTEGER NOT NULL
        );
        CREATE TABLE observation (
            id TEXT PRIMARY KEY, visit_id TEXT NOT NULL, data TEXT NOT NULL, occurred_at TEXT NOT NULL,
            deleted INTEGER NOT NULL, review_status TEXT
        );
        CREATE INDEX ix_observation_visit ON observation (visit_id, occurred_at);
        CREATE TABLE outbox (
            mutation_id INTEGER PRIMARY KEY, entity TEXT NOT NULL, record_id TEXT NOT NULL,
            data TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', code TEXT, message TEXT, details TEXT
        );
        CREATE INDEX ix_outbox_record ON outbox (record_id);
    """,
}

Record = Visit | Observation


@dataclass(frozen=True)
class OutboxEntry:
    mutation_id: int
    entity: str
    record_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class RejectedEntry:
    """A change the server refused; the observer sees why and can fix the record."""

    mutation_id: int
    entity: str
    record_id: str
    code: str
    message: str
    details: list[dict[str, str]]


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.RLock()  # the UI thread and the sync thread share one connection
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an observation shown as saved is on disk
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        current = self._db.execute("PRAGMA user_version").fetchone()[0]
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self._transaction() as db:
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {version}")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # --- settings kept on the tablet ------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, **values: str) -> None:
        with self._transaction() as db:
            for key, value in values.items():
                _put_meta(db, key, value)

    @property
    def installation_id(self) -> str:
        value = self.get_meta("installation_id")
        if value is None:
            value = str(uuid.uuid4())
            self.set_meta(installation_id=value)
        return value

    # --- records and the outbox -----------------------------------------------------------------

    def save_visit(self, visit: Visit) -> None:
        with self._transaction() as db:
            _write_visit(db, visit)
            self._enqueue(db, "visit", visit)

    def save_observation(self, observation: Observation) -> None:
        with self._transaction() as db:
            review = db.execute(
                "SELECT review_status FROM observation WHERE id = ?", (str(observation.id),)
            ).fetchone()
            _write_observation(db, observation, review[0] if review else None)
            self._enqueue(db, "observation", observation)

    def edit_observation(self, observation_id: uuid.UUID, **changes: Any) -> Observation:
        """Apply changes as a new version of the observation (validated, then saved and queued)."""
        current = self.observation(observation_id)
        if current is None:
            raise KeyError(observation_id)
        data = current.model_dump()
        data.update(changes, version=current.version + 1, updated_at=datetime.now(UTC))
        edited = Observation.model_validate(data)
        self.save_observation(edited)
        return edited

    def delete_observation(self, observation_id: uuid.UUID) -> Observation:
        return self.edit_observation(observation_id, deleted=True)

    def _enqueue(self, db: sqlite3.Connection, entity: str, record: Record) -> None:
        # Only a pending entry may be replaced: a rejected one stays visible until the observer fixes it,
        # and then the fix replaces it.
        db.execute(
            "DELETE FROM outbox WHERE record_id = ? AND state IN ('pending', 'rejected')", (str(record.id),)
        )
        row = db.execute("SELECT value FROM meta WHERE key = 'next_mutation_id'").fetchone()
        next_id = int(row[0]) if row else 1
        db.execute(
            "INSERT INTO outbox (mutation_id, entity, record_id, data) VALUES (?, ?, ?, ?)",
            (next_id, entity, str(record.id), record.model_dump_json()),
        )
        _put_meta(db, "next_mutation_id", str(next_id + 1))

    def visit(self, visit_id: uuid.UUID) -> Visit | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM visit WHERE id = ?", (str(visit_id),)).fetchone()
        return Visit.model_validate_json(row[0]) if row else None

    def visits(self) -> list[Visit]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM visit ORDER BY started_at").fetchall()
        return [Visit.model_validate_json(r[0]) for r in rows]

    def observation(self, observation_id: uuid.UUID) -> Observation | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM observation WHERE id = ?", (str(observation_id),)
            ).fetchone()
        return Observation.model_validate_json(row[0]) if row else None

    def observations(
        self, visit_id: uuid.UUID | None = None, include_deleted: bool = False
    ) -> list[Observation]:
        query = "SELECT data FROM observation WHERE (? IS NULL OR visit_id = ?)"
        if not include_deleted:
            query += " AND deleted = 0"
        with self._lock:
            rows = self._db.execute(
                query + " ORDER BY occurred_at", (_str(visit_id), _str(visit_id))
            ).fetchall()
        return [Observation.model_validate_json(r[0]) for r in rows]

    def review_status(self, observation_id: uuid.UUID) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT review_status FROM observation WHERE id = ?", (str(observation_id),)
            ).fetchone()
        return row[0] if row else None

    def pending(self, limit: int) -> list[OutboxEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT mutation_id, entity, record_id, data FROM outbox WHERE state = 'pending' "
                "ORDER BY mutation_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [OutboxEntry(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0])

    def rejected(self) -> list[RejectedEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT mutation_id, entity, record_id, code, message, details FROM outbox "
                "WHERE state = 'rejected' ORDER BY mutation_id"
            ).fetchall()
        return [RejectedEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5] or "[]")) for r in rows]

    def apply_results(self, results: list[MutationResult]) -> None:
        """Settle outbox entries with the server's answers; retryable rejections stay pending."""
        with self._transaction() as db:
            for result in results:
                if result.status in (MutationStatus.APPLIED, MutationStatus.SUPERSEDED):
                    db.execute("DELETE FROM outbox WHERE mutation_id = ?", (result.mutation_id,))
                elif not result.retryable:
                    db.execute(
                        "UPDATE outbox SET state = 'rejected', code = ?, message = ?, details = ? "
                        "WHERE mutation_id = ?",
                        (result.code, result.message, json.dumps(result.details), result.mutation_id),
                    )

    # --- what the server sends back -------------------------------------------------------------

    def apply_pull(self, page: PullResponse) -> None:
        with self._transaction() as db:
            for structure in page.structures:
                db.execute(
                    "INSERT OR REPLACE INTO structure (id, data) VALUES (?, ?)",
                    (structure.id, structure.model_dump_json()),
                )
            for unit in page.units:
                db.execute(
                    "INSERT OR REPLACE INTO unit (id, structure_id, name) VALUES (?, ?, ?)",
                    (unit.id, unit.structure_id, unit.name),
                )
            for pulled_visit in page.visits:
                visit = Visit.model_validate(pulled_visit.model_dump(include=set(Visit.model_fields)))
                if not self._has_local_changes(db, visit.id):
                    _write_visit(db, visit)
            for pulled in page.observations:
                observation = Observation.model_validate(
                    pulled.model_dump(include=set(Observation.model_fields))
                )
                if self._has_local_changes(db, observation.id):
                    # The observer's newer edit is on its way; only the facilitator's fields change here.
                    db.execute(
                        "UPDATE observation SET review_status = ? WHERE id = ?",
                        (pulled.review_status, str(observation.id)),
                    )
                else:
                    _write_observation(db, observation, pulled.review_status)
            _put_meta(db, "cursor", str(page.cursor))

    def has_unsent_changes(self, record_id: uuid.UUID) -> bool:
        with self._lock:
            return self._has_local_changes(self._db, record_id)

    @staticmethod
    def _has_local_changes(db: sqlite3.Connection, record_id: uuid.UUID) -> bool:
        return (
            db.execute("SELECT 1 FROM outbox WHERE record_id = ?", (str(record_id),)).fetchone() is not None
        )

    @property
    def cursor(self) -> int:
        return int(self.get_meta("cursor", "0") or 0)

    def units(self, structure_id: int | None = None) -> list[tuple[int, int, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, structure_id, name FROM unit WHERE (? IS NULL OR structure_id = ?) ORDER BY name",
                (structure_id, structure_id),
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]


def _put_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
        (key, value, value),
    )


def _write_visit(db: sqlite3.Connection, visit: Visit) -> None:
    db.execute(
        "INSERT OR REPLACE INTO visit (id, data, started_at, deleted) VALUES (?, ?, ?, ?)",
        (str(visit.id), visit.model_dump_json(), visit.started_at.isoformat(), int(visit.deleted)),
    )


def _write_observation(db: sqlite3.Connection, observation: Observation, review_status: str | None) -> None:
    db.execute(
        "INSERT OR REPLACE INTO observation (id, visit_id, data, occurred_at, deleted, review_status) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            str(observation.id),
            str(observation.visit_id),
            observation.model_dump_json(),
            observation.occurred_at.isoformat(),
            int(observation.deleted),
            review_status,
        ),
    )


def _str(value: object | None) -> str | None:
    return None if value is None else str(value)
