"""Screening notes on the server: at push, for stored notes again (``vigie privacy rescan``), and at export
for anything not screened yet. A note's masked form is computed once per state and stored beside it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend import models
from backend.privacy.detector import find_in_notes, mask_notes
from shared.privacy import mask_identifiers

RESCAN_BATCH = 500


@dataclass(frozen=True)
class Screened:
    masked: str
    flagged: bool  # something was found: facilitators see the note flagged


def screen_notes(notes: Iterable[str | None], glossary: Collection[str] = ()) -> dict[str, Screened]:
    """Each distinct note of a batch, screened once (the model is fast on batches, slow one by one)."""
    distinct = sorted({note for note in notes if note})
    masked = mask_notes(distinct, glossary)
    return {note: Screened(m, m != note) for note, m in zip(distinct, masked, strict=True)}


def note_for_export(note: str | None, note_masked: str | None) -> str | None:
    """The stored masked note; a note stored before screening existed gets the tablet's fast rules
    until ``vigie privacy rescan`` has run (it is never exported as typed)."""
    if note is None:
        return None
    return note_masked if note_masked is not None else mask_identifiers(note)


@dataclass(frozen=True)
class RescanReport:
    scanned: int
    flagged: int


def rescan(session: Session, glossary: Collection[str] = ()) -> RescanReport:
    """Screen every stored note again with the current detector, in batches, and store the result."""
    scanned = flagged = 0
    last_id = None
    while True:
        query = (
            select(models.Observation.id, models.Observation.note)
            .where(col(models.Observation.note).is_not(None))
            .order_by(col(models.Observation.id))
            .limit(RESCAN_BATCH)
        )
        if last_id is not None:
            query = query.where(col(models.Observation.id) > last_id)
        rows = session.exec(query).all()
        if not rows:
            break
        screened = screen_notes((note for _id, note in rows), glossary)
        for observation_id, note in rows:
            assert note is not None
            result = screened[note]
            session.execute(
                update(models.Observation)
                .where(col(models.Observation.id) == observation_id)
                .values(note_masked=result.masked, privacy_flagged=result.flagged)
            )
            flagged += result.flagged
        scanned += len(rows)
        last_id = rows[-1][0]
        session.commit()
    return RescanReport(scanned, flagged)


def explain(note: str, glossary: Collection[str] = ()) -> list[tuple[str, str, str]]:
    """What the detector found in one note: (kind, text as typed, layer)."""
    return [(found.kind.value, found.text, found.layer) for found in find_in_notes([note], glossary)[0]]
