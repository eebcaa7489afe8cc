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

from shared.schema import CODES_CHECKED, Observation, ReviewStatus, Visit
from shared.sync import (
    GridData,
    MutationResult,
    MutationStatus,
    PulledObservation,
    PullResponse,
    ReviewCommentData,
    StructureData,
)
from shared.taxonomy import Taxonomy

SCHEMA_VERSION = 3
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
    # 2: facilitators' comments arrive at pull; the outbox is read by state at every sync and screen refresh.
    2: """
        CREATE TABLE review_comment (
            id INTEGER PRIMARY KEY, observation_id TEXT NOT NULL, body TEXT NOT NULL,
            author_name TEXT NOT NULL, created_at TEXT NOT NULL
        );
        CREATE INDEX ix_review_comment_observation ON review_comment (observation_id, created_at);
        CREATE INDEX ix_outbox_state ON outbox (state, mutation_id);
    """,
    # 3: the programme's grid versions, as pulled: new visits use the newest, a visit keeps its own.
    3: """
        CREATE TABLE grid (number INTEGER PRIMARY KEY, data TEXT NOT NULL);
    """,
}

Record = Visit | Observation
# Observations written per transaction when a pull is applied.
PULL_CHUNK = 250
_OBSERVATION_FIELDS = set(Observation.model_fields)


@dataclass(frozen=True)
class OutboxEntry:
    mutation_id: int
    entity: str
    record_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Review:
    """What facilitators said about one of the observer's observations, as last pulled."""

    status: str | None
    comment_count: int

    @property
    def facilitator_acted(self) -> bool:
        """« À revoir » is where every observation starts: worth showing only once a facilitator acted."""
        return bool(self.comment_count) or self.status not in (None, ReviewStatus.TO_REVIEW)


@dataclass(frozen=True)
class VisitLine:
    """A visit as the home screen lists it."""

    visit: Visit
    observations: int
    unsent: int  # changes of the visit and its observations still waiting to be sent


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
        self._grids: dict[int, Taxonomy] = {}  # parsed grid versions, by number
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

    def begin_visit(self, visit: Visit) -> None:
        """Save a new visit and make it the one the capture screen records into, in one transaction."""
        with self._transaction() as db:
            _write_visit(db, visit)
            self._enqueue(db, "visit", visit)
            _put_meta(db, "current_visit", str(visit.id))

    def current_visit(self) -> Visit | None:
        """The visit under way, if any: it survives a restart, so capture resumes where it stopped."""
        visit_id = self.get_meta("current_visit")
        return self.visit(uuid.UUID(visit_id)) if visit_id else None

    def edit_visit(self, visit_id: uuid.UUID, **changes: Any) -> Visit:
        current = self.visit(visit_id)
        if current is None:
            raise KeyError(visit_id)
        edited = Visit.model_validate(_next_version(current, changes), context=self.checks(current))
        with self._transaction() as db:
            _write_visit(db, edited)
            self._enqueue(db, "visit", edited)
            if edited.ended_at is not None or edited.deleted:
                db.execute("DELETE FROM meta WHERE key = 'current_visit' AND value = ?", (str(visit_id),))
        return edited

    def reopen_visit(self, visit_id: uuid.UUID) -> Visit:
        """An ended visit under way again (for corrections), and the one capture records into."""
        current = self.visit(visit_id)
        if current is None:
            raise KeyError(visit_id)
        reopened = Visit.model_validate(_next_version(current, {"ended_at": None}))
        self.begin_visit(reopened)
        return reopened

    def recent_visits(self, limit: int) -> list[VisitLine]:
        """The latest visits, newest first, with their observations and what still waits to be sent."""
        with self._lock:
            rows = self._db.execute(
                "SELECT v.data, "
                "(SELECT count(*) FROM observation o WHERE o.visit_id = v.id AND o.deleted = 0), "
                "(SELECT count(*) FROM outbox b WHERE b.state = 'pending' AND (b.record_id = v.id OR "
                "b.record_id IN (SELECT o.id FROM observation o WHERE o.visit_id = v.id))) "
                "FROM visit v WHERE v.deleted = 0 ORDER BY v.started_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [VisitLine(Visit.model_validate_json(r[0]), int(r[1]), int(r[2])) for r in rows]

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
        visit = self.visit(current.visit_id)
        edited = Observation.model_validate(_next_version(current, changes), context=self.checks(visit))
        self.save_observation(edited)
        return edited

    def delete_observation(self, observation_id: uuid.UUID) -> Observation:
        return self.edit_observation(observation_id, deleted=True)

    # The outbox keeps one entry per record: a new state replaces the pending one (edits collapse) and the
    # rejected one (the observer's fix replaces it).
    REPLACED_STATES: tuple[str, ...] = ("pending", "rejected")

    def _enqueue(self, db: sqlite3.Connection, entity: str, record: Record) -> None:
        marks = ", ".join("?" for _ in self.REPLACED_STATES)
        db.execute(
            f"DELETE FROM outbox WHERE record_id = ? AND state IN ({marks})",  # noqa: S608 (placeholders)
            (str(record.id), *self.REPLACED_STATES),
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
        return Visit.model_validate_json(row[0], context=CODES_CHECKED) if row else None

    def visits(self) -> list[Visit]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM visit ORDER BY started_at").fetchall()
        return [Visit.model_validate_json(r[0], context=CODES_CHECKED) for r in rows]

    def observation(self, observation_id: uuid.UUID) -> Observation | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM observation WHERE id = ?", (str(observation_id),)
            ).fetchone()
        return Observation.model_validate_json(row[0], context=CODES_CHECKED) if row else None

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
        return [Observation.model_validate_json(r[0], context=CODES_CHECKED) for r in rows]

    def recent_observations(self, visit_id: uuid.UUID, limit: int) -> list[Observation]:
        """The last ones logged, newest first: what the capture screen lists, read without a full scan."""
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM observation WHERE visit_id = ? AND deleted = 0 "
                "ORDER BY occurred_at DESC LIMIT ?",
                (str(visit_id), limit),
            ).fetchall()
        return [Observation.model_validate_json(r[0], context=CODES_CHECKED) for r in rows]

    def count_observations(self, visit_id: uuid.UUID) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM observation WHERE visit_id = ? AND deleted = 0", (str(visit_id),)
            ).fetchone()
        return int(row[0])

    def tool_counts(self) -> dict[str, int]:
        """How often each tool was recorded on this tablet (for the capture screen's shortlist)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT json_extract(data, '$.tool') AS tool, count(*) FROM observation "
                "WHERE deleted = 0 AND tool IS NOT NULL GROUP BY tool"
            ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def review_status(self, observation_id: uuid.UUID) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT review_status FROM observation WHERE id = ?", (str(observation_id),)
            ).fetchone()
        return row[0] if row else None

    def review_comments(self, observation_id: uuid.UUID) -> list[ReviewCommentData]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, body, author_name, created_at FROM review_comment WHERE observation_id = ? "
                "ORDER BY created_at, id",
                (str(observation_id),),
            ).fetchall()
        return [
            ReviewCommentData(id=r[0], body=r[1], author_name=r[2], created_at=datetime.fromisoformat(r[3]))
            for r in rows
        ]

    def reviews(self, observation_ids: list[uuid.UUID]) -> dict[uuid.UUID, Review]:
        """Review status and number of comments of several observations in one query (for lists)."""
        if not observation_ids:
            return {}
        marks = ",".join("?" * len(observation_ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT o.id, o.review_status, (SELECT count(*) FROM review_comment c "  # noqa: S608 (marks only)
                f"WHERE c.observation_id = o.id) FROM observation o WHERE o.id IN ({marks})",
                [str(i) for i in observation_ids],
            ).fetchall()
        return {uuid.UUID(r[0]): Review(status=r[1], comment_count=int(r[2])) for r in rows}

    def commented_observations(self, limit: int) -> list[Observation]:
        """The observer's observations facilitators commented on, latest comment first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT o.data FROM observation o JOIN review_comment c ON c.observation_id = o.id "
                "WHERE o.deleted = 0 GROUP BY o.id ORDER BY max(c.created_at) DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Observation.model_validate_json(r[0], context=CODES_CHECKED) for r in rows]

    def pending(self, limit: int) -> list[OutboxEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT mutation_id, entity, record_id, data FROM outbox WHERE state = 'pending' "
                "ORDER BY mutation_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [OutboxEntry(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def pending_page(self, after: int, limit: int) -> list[tuple[int, str, str]]:
        """Pending entries after mutation id ``after``, as stored: (mutation id, entity, the record's JSON).

        The push sends the JSON as it was saved (serialised once, at the tap) and reads the outbox page by
        page, so the next page can be read while the server answers the previous one.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT mutation_id, entity, data FROM outbox WHERE state = 'pending' AND mutation_id > ? "
                "ORDER BY mutation_id LIMIT ?",
                (after, limit),
            ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0])

    def rejected(self) -> list[RejectedEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT mutation_id, entity, record_id, code, message, details FROM outbox "
                "WHERE state = 'rejected' ORDER BY mutation_id"
            ).fetchall()
        return [_rejected_entry(r) for r in rows]

    def rejection(self, record_id: uuid.UUID) -> RejectedEntry | None:
        """Why the server refused the record's latest change, while the observer has not fixed it."""
        with self._lock:
            row = self._db.execute(
                "SELECT mutation_id, entity, record_id, code, message, details FROM outbox "
                "WHERE state = 'rejected' AND record_id = ?",
                (str(record_id),),
            ).fetchone()
        return _rejected_entry(row) if row else None

    def apply_results(self, results: list[MutationResult]) -> None:
        """Settle outbox entries with the server's answers; retryable rejections stay pending."""
        settled = [
            (r.mutation_id,)
            for r in results
            if r.status in (MutationStatus.APPLIED, MutationStatus.SUPERSEDED)
        ]
        refused = [
            (r.code, r.message, json.dumps(r.details), r.mutation_id)
            for r in results
            if r.status == MutationStatus.REJECTED and not r.retryable
        ]
        with self._transaction() as db:
            db.executemany("DELETE FROM outbox WHERE mutation_id = ?", settled)
            db.executemany(
                "UPDATE outbox SET state = 'rejected', code = ?, message = ?, details = ? "
                "WHERE mutation_id = ?",
                refused,
            )

    def renumber(self, mutation_ids: list[int], above: int) -> None:
        """Give these outbox entries new mutation ids above ``above``, and number everything after them.

        The server answered ``mutation_id_reused``: it already saw these ids carrying other records (a
        tablet restored from an older copy of its data counts again from where the copy was). The
        entries are sent again under fresh ids; nothing the observer recorded is dropped.
        """
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'next_mutation_id'").fetchone()
            next_id = max(int(row[0]) if row else 1, above + 1)
            for old_id in mutation_ids:
                moved = db.execute(
                    "UPDATE outbox SET mutation_id = ?, state = 'pending', code = NULL, message = NULL, "
                    "details = NULL WHERE mutation_id = ?",
                    (next_id, old_id),
                ).rowcount
                next_id += moved
            _put_meta(db, "next_mutation_id", str(next_id))

    # --- what the server sends back -------------------------------------------------------------

    def apply_pull(self, page: PullResponse) -> None:
        """Write a pulled page. Observations go in chunks of ``PULL_CHUNK``, one transaction each, so a tap
        made meanwhile waits for one chunk at most; the cursor moves last (a crash in between pulls the page
        again, and writing it twice changes nothing)."""
        with self._transaction() as db:
            if page.grid is not None:
                db.execute(
                    "INSERT OR REPLACE INTO grid (number, data) VALUES (?, ?)",
                    (page.grid.number, page.grid.model_dump_json()),
                )
                _put_meta(db, "full_grid", str(page.grid.number))
                self._grids.pop(page.grid.number, None)
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
                visit = Visit.model_validate(
                    pulled_visit.model_dump(include=set(Visit.model_fields)), context=CODES_CHECKED
                )
                if not self._has_local_changes(db, visit.id):
                    _write_visit(db, visit)
        for start in range(0, len(page.observations), PULL_CHUNK):
            with self._transaction() as db:
                _write_pulled_observations(db, page.observations[start : start + PULL_CHUNK])
        self.set_meta(cursor=str(page.cursor))

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

    # --- the programme's grid ---------------------------------------------------------------------

    def newest_grid_number(self) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT max(number) FROM grid").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def newest_full_grid_number(self) -> int | None:
        """The newest grid received with the programme's added attributes (asked for since they exist).
        None after an update from an app that pulled grids without them: the next pull sends the current
        grid again, whole."""
        full = self.get_meta("full_grid")
        return int(full) if full and full == str(self.newest_grid_number()) else None

    def grid(self, number: int | None = None) -> Taxonomy | None:
        """A grid version this tablet received (the newest by default); None if it has none.

        Screens ask for it at every refresh: a published version never changes, so each is parsed once."""
        number = number if number is not None else self.newest_grid_number()
        if number is None:
            return None
        if number in self._grids:
            return self._grids[number]
        with self._lock:
            row = self._db.execute("SELECT data FROM grid WHERE number = ?", (number,)).fetchone()
        if row is None:
            return None
        grid = self._grids[number] = GridData.model_validate_json(row[0]).taxonomy()
        return grid

    def checks(self, visit: Visit | None) -> dict[str, Any]:
        """The validation context of a record of ``visit``: the grid it was started with, when held here."""
        grid = self.grid(visit.grid_version) if visit is not None and visit.grid_version else None
        return {"taxonomy": grid} if grid is not None else {}

    def structure(self, structure_id: int) -> StructureData | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM structure WHERE id = ?", (structure_id,)).fetchone()
        return StructureData.model_validate_json(row[0]) if row else None

    def units(self, structure_id: int | None = None) -> list[tuple[int, int, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, structure_id, name FROM unit WHERE (? IS NULL OR structure_id = ?) ORDER BY name",
                (structure_id, structure_id),
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]


def _write_pulled_observations(db: sqlite3.Connection, pulled: list[PulledObservation]) -> None:
    """Pulled observations as the server holds them (validated once, when the page was read), unless the
    observer's newer edit is on its way: then only the facilitator's fields change here."""
    ids = [str(p.id) for p in pulled]
    marks = ",".join("?" * len(ids))
    waiting = {
        r[0]
        for r in db.execute(f"SELECT record_id FROM outbox WHERE record_id IN ({marks})", ids)  # noqa: S608
    }
    # What the tablet already holds: its own pushes come back with the version it wrote.
    held = {
        r[0]: (r[1], r[2])
        for r in db.execute(
            "SELECT id, json_extract(data, '$.version'), review_status FROM observation "  # noqa: S608
            f"WHERE id IN ({marks})",
            ids,
        )
    }
    for observation in pulled:
        if held.get(str(observation.id)) == (observation.version, observation.review_status):
            continue  # this very state is already here
        if str(observation.id) in waiting:
            db.execute(
                "UPDATE observation SET review_status = ? WHERE id = ?",
                (observation.review_status, str(observation.id)),
            )
        else:
            _put_observation_row(
                db,
                observation,
                observation.model_dump_json(include=_OBSERVATION_FIELDS),
                observation.review_status,
            )
    # The pulled list is the whole current set: comments deleted on the server go here too.
    db.executemany("DELETE FROM review_comment WHERE observation_id = ?", [(i,) for i in ids])
    db.executemany(
        "INSERT INTO review_comment (id, observation_id, body, author_name, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (c.id, str(o.id), c.body, c.author_name, c.created_at.isoformat())
            for o in pulled
            for c in o.review_comments
        ],
    )


def _rejected_entry(row: tuple[Any, ...]) -> RejectedEntry:
    return RejectedEntry(row[0], row[1], row[2], row[3], row[4], json.loads(row[5] or "[]"))


def _next_version(record: Record, changes: dict[str, Any]) -> dict[str, Any]:
    data = record.model_dump()
    data.update(changes, version=record.version + 1, updated_at=datetime.now(UTC))
    return data


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
    _put_observation_row(db, observation, observation.model_dump_json(), review_status)


def _put_observation_row(
    db: sqlite3.Connection, observation: Observation, data: str, review_status: str | None
) -> None:
    db.execute(
        "INSERT OR REPLACE INTO observation (id, visit_id, data, occurred_at, deleted, review_status) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            str(observation.id),
            str(observation.visit_id),
            data,
            observation.occurred_at.isoformat(),
            int(observation.deleted),
            review_status,
        ),
    )


def _str(value: object | None) -> str | None:
    return None if value is None else str(value)
