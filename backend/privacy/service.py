"""Screening notes on the server: at push, for stored notes again (``vigie privacy rescan``), and at export
for anything not screened yet. A note's masked form is computed once per state and stored beside it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.privacy.detector import find_in_notes, mask_note, mask_notes
from backend.privacy.kinds import KIND_LABELS
from backend.problems import invalid

RESCAN_BATCH = 500
GLOSSARY_MAX_TERMS = 500
GLOSSARY_TERM_MAX_LENGTH = 60


@dataclass(frozen=True)
class Screened:
    masked: str
    flagged: bool  # something was found: facilitators see the note flagged


def screen_notes(notes: Iterable[str | None], glossary: Collection[str] = ()) -> dict[str, Screened]:
    """Each distinct note of a batch, screened once (the model is fast on batches, slow one by one)."""
    distinct = sorted({note for note in notes if note})
    masked = mask_notes(distinct, glossary)
    return {note: Screened(m, m != note) for note, m in zip(distinct, masked, strict=True)}


def refuse_identifiers(field: str, code: str, text: str, glossary: Collection[str] = ()) -> None:
    """What facilitators write (comments, tags, workshop notes and actions) reaches read-only accounts and
    the observer's tablet: a text that names someone or carries an identifier (the server's detector, as for
    notes) is refused with what was found; the facilitator is at a keyboard and can rephrase."""
    found = find_in_notes([text], glossary)[0]
    if found:
        kinds = ", ".join(dict.fromkeys(KIND_LABELS[item.kind] for item in found))
        raise invalid(field, code, kinds=kinds)


def programme_glossary(session: Session, programme_id: int) -> list[str]:
    """The words this programme's facilitators said are never to be masked (software, devices, places)."""
    programme = session.get(models.Programme, programme_id)
    return list(programme.never_masked) if programme is not None else []


def structure_glossary(session: Session, structure_id: int) -> list[str]:
    row = session.exec(
        select(models.Programme.never_masked)
        .join(models.Structure, col(models.Structure.programme_id) == col(models.Programme.id))
        .where(models.Structure.id == structure_id)
    ).first()
    return list(row) if row else []


def parse_glossary(text: str) -> list[str]:
    """One term a line (or separated by commas), blanks dropped, each once, in the order typed."""
    terms: list[str] = []
    for piece in text.replace(",", "\n").splitlines():
        term = " ".join(piece.split())
        if term and term.lower() not in {t.lower() for t in terms}:
            terms.append(term)
    if len(terms) > GLOSSARY_MAX_TERMS:
        raise invalid("never_masked", "too_long", max_length=GLOSSARY_MAX_TERMS)
    for term in terms:
        if len(term) > GLOSSARY_TERM_MAX_LENGTH:
            raise invalid("never_masked", "string_too_long", max_length=GLOSSARY_TERM_MAX_LENGTH)
    return terms


def set_programme_glossary(session: Session, user: models.User, programme_id: int, text: str) -> list[str]:
    """Replace the programme's words never masked; recorded in the audit log (the terms are not secret)."""
    from backend.admin.service import managed_programme

    programme = managed_programme(session, user, programme_id)
    terms = parse_glossary(text)
    programme.never_masked = terms
    _save_setting(session, user, programme, AuditAction.GLOSSARY_UPDATE, terms=len(terms))
    return terms


def set_small_cell_threshold(session: Session, user: models.User, programme_id: int, threshold: int) -> int:
    """How few observations in a cell (unit × profession × moment of the day) make workshop material and
    anonymous exports give neither the professional nor the hour (backend/exports/small_cells.py)."""
    from backend.admin.service import managed_programme

    programme = managed_programme(session, user, programme_id)
    if not 1 <= threshold <= 100:
        raise invalid("small_cell_threshold", "out_of_range", minimum=1, maximum=100)
    programme.small_cell_threshold = threshold
    _save_setting(session, user, programme, AuditAction.SMALL_CELLS_UPDATE, threshold=threshold)
    return threshold


def _save_setting(
    session: Session, user: models.User, programme: models.Programme, what: AuditAction, **details: object
) -> None:
    """A programme's privacy setting changed: saved with its audit entry, in one transaction."""
    session.add(programme)
    record_audit(
        session, what, actor_user_id=user.id, target_type="programme", target_id=programme.id, details=details
    )
    session.commit()


def note_for_export(note: str | None, note_masked: str | None) -> str | None:
    """The stored masked note. A note not screened yet (see backend/privacy/pending.py; readers screen
    those of their structures first, so only one pushed in between gets here) is masked now, by the
    full detector with the default glossary: it is never read out as typed."""
    if note is None:
        return None
    return note_masked if note_masked is not None else mask_note(note)


@dataclass(frozen=True)
class RescanReport:
    scanned: int
    flagged: int


def rescan(session: Session) -> RescanReport:
    """Screen every stored note again with the current detector and each programme's glossary."""
    glossaries = {
        structure_id: list(terms)
        for structure_id, terms in session.exec(
            select(models.Structure.id, models.Programme.never_masked).join(
                models.Programme, col(models.Programme.id) == col(models.Structure.programme_id)
            )
        )
    }
    report = RescanReport(0, 0)
    for structure_id, glossary in glossaries.items():
        assert structure_id is not None
        done = _rescan_structure(session, structure_id, glossary)
        report = RescanReport(report.scanned + done.scanned, report.flagged + done.flagged)
    return report


def _rescan_structure(session: Session, structure_id: int, glossary: Collection[str]) -> RescanReport:
    scanned = flagged = 0
    last_id = None
    while True:
        query = (
            select(models.Observation.id, models.Observation.note)
            .where(models.Observation.structure_id == structure_id)
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
                .values(note_masked=result.masked, privacy_flagged=result.flagged, privacy_pending=False)
            )
            flagged += result.flagged
        scanned += len(rows)
        last_id = rows[-1][0]
        session.commit()
    return RescanReport(scanned, flagged)


def explain(note: str, glossary: Collection[str] = ()) -> list[tuple[str, str, str]]:
    """What the detector found in one note: (kind, text as typed, layer)."""
    return [(found.kind.value, found.text, found.layer) for found in find_in_notes([note], glossary)[0]]
