"""Notes are screened after the push that brought them, not inside it.

The French name model costs about as much as the rest of a push (bench/sync_ingest.py), and a tablet on
ward Wi-Fi should not wait for it. A push therefore stores each new note as *pending*; then

- the worker of ``vigie serve`` (:class:`PendingNotesWorker`) screens pending notes as soon as no push has
  arrived for a moment, and in any case within ``max_wait`` seconds of the oldest one;
- everything that reads notes out of the server (review pages, exports, the workshop pack) first screens
  the pending notes of the structures it reads (:func:`screen_pending`), so a pending note never leaves the
  server as typed, even when the worker is behind or not running (tests, ``vigie export``);
- a pending note read in between anyway (a push landing between those two steps) is masked on the spot
  by :func:`backend.privacy.service.note_for_export`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Collection
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, exists, update
from sqlmodel import Session, col, select

from backend import models
from backend.db import release_connection
from backend.privacy.service import screen_notes, structure_glossary

log = logging.getLogger(__name__)

PENDING_BATCH = 256


def has_pending(session: Session, structure_ids: Collection[int] | None = None) -> bool:
    conditions: list[Any] = [col(models.Observation.privacy_pending)]
    if structure_ids is not None:
        conditions.append(col(models.Observation.structure_id).in_(sorted(structure_ids)))
    return bool(session.exec(select(exists().where(*conditions))).one())


def screen_pending(
    session: Session, structure_ids: Collection[int] | None = None, most: int | None = None
) -> int:
    """Screen the pending notes (of ``structure_ids``, or all), a batch per transaction; how many were done.

    A note changed by a push while it was being screened stays pending, with its new text, for the next
    batch: a result is written only over the text it was computed from.
    """
    if structure_ids is not None and not structure_ids:
        return 0
    done = 0
    glossaries: dict[int, list[str]] = {}
    while most is None or done < most:
        query = (
            select(models.Observation.id, models.Observation.structure_id, models.Observation.note)
            .where(col(models.Observation.privacy_pending))
            .order_by(col(models.Observation.id))
            .limit(PENDING_BATCH if most is None else min(PENDING_BATCH, most - done))
        )
        if structure_ids is not None:
            query = query.where(col(models.Observation.structure_id).in_(sorted(structure_ids)))
        rows = session.exec(query).all()
        if not rows:
            break
        # The model takes a while: no read transaction is held meanwhile (on SQLite a stale one could not
        # write after a push committed), and the results are written in a short transaction of their own.
        release_connection(session)
        by_structure: dict[int, list[tuple[UUID, str | None]]] = defaultdict(list)
        for observation_id, structure_id, note in rows:
            by_structure[structure_id].append((observation_id, note))
        for structure_id, notes in by_structure.items():
            if structure_id not in glossaries:
                glossaries[structure_id] = structure_glossary(session, structure_id)
            _write(session, notes, glossaries[structure_id])
        session.commit()
        done += len(rows)
    return done


def _write(session: Session, notes: list[tuple[UUID, str | None]], glossary: list[str]) -> None:
    screened = screen_notes((note for _id, note in notes), glossary)
    observation = models.Observation
    for observation_id, note in notes:
        result = screened.get(note) if note else None
        statement = update(observation).where(
            col(observation.id) == observation_id, col(observation.privacy_pending)
        )
        statement = statement.where(
            col(observation.note).is_(None) if note is None else col(observation.note) == note
        )
        session.execute(
            statement.values(
                note_masked=result.masked if result else None,
                privacy_flagged=bool(result and result.flagged),
                privacy_pending=False,
            )
        )


class PendingNotesWorker:
    """Screens pending notes in a thread of the server process, while pushes leave it room.

    Pushes call :meth:`pushed`; the worker waits until none has come for ``idle`` seconds, or until the
    oldest pending note has waited ``max_wait`` seconds, then screens a batch and looks again.
    """

    def __init__(self, engine: Engine, idle: float = 0.5, max_wait: float = 20.0):
        self.engine = engine
        self.idle = idle
        self.max_wait = max_wait
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last_push = 0.0
        self._waiting_since: float | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._wake.set()  # notes left pending by a previous run (or by migration 0012) are screened too
        self._thread = threading.Thread(target=self._run, name="vigie-pending-notes", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def pushed(self) -> None:
        now = time.monotonic()
        self._last_push = now
        if self._waiting_since is None:
            self._waiting_since = now
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            if self._stop.is_set():
                return
            if not self._may_work():
                time.sleep(self.idle / 2)
                continue
            try:
                with Session(self.engine) as session:
                    done = screen_pending(session, most=PENDING_BATCH)
            except Exception:  # the database is away: pushes will wake the worker again
                log.exception("screening pending notes failed; trying again later")
                time.sleep(self.max_wait)
                continue
            if done < PENDING_BATCH:
                self._waiting_since = None
                self._wake.clear()
                if self._last_push > time.monotonic() - self.idle:
                    self._wake.set()  # a push came while this batch was screened: look again

    def _may_work(self) -> bool:
        now = time.monotonic()
        quiet = now - self._last_push >= self.idle
        overdue = self._waiting_since is not None and now - self._waiting_since >= self.max_wait
        return quiet or overdue
