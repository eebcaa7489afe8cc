"""The rows every export format writes: one per observation, chosen by the one observation filter, with
French labels next to the stable codes, times in the structure's own time zone, observers pseudonymised
and every note passed through the privacy guard.

Rows are produced lazily from a streamed query, so that a CSV of a million observations never holds
more than one batch in memory.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict
from sqlalchemy import String, cast, func, type_coerce
from sqlmodel import Session, col, select

from backend import models
from backend.exports.pseudonyms import Pseudonyms, build_pseudonyms
from backend.grids.terms import attribute_names, grid_labels
from backend.privacy.service import note_for_export
from backend.review.filters import ObservationFilter, apply_observation_filter
from shared.schema import ATTRIBUTE_FIELDS, REVIEW_STATUS_LABELS, ReviewStatus

BATCH_SIZE = 1000
MULTI_VALUE_SEPARATOR = "|"  # between codes ("rhythm|work_content") and tags; labels are joined with " | "
COMMENT_SEPARATOR = "\n"  # between an observation's review comments, oldest first
# A flagged note in which today's guard finds nothing (it was flagged by another version, or by hand) is
# withheld whole rather than trusted.
WITHHELD_NOTE = "[note masquée : signalée comme identifiante]"


class ExportScope(BaseModel):
    """What is exported and how: the facilitator's filter, the reader's structures, and the options."""

    model_config = ConfigDict(frozen=True)

    criteria: ObservationFilter
    allowed_structure_ids: frozenset[int] | None = None  # None: every structure (admins, the CLI)
    anonymous_structures: bool = False


class ExportRow(NamedTuple):
    """One observation as exported. Field order is column order in every format; a named tuple
    because a million of them go by in a CSV export."""

    observation_id: str
    structure: str
    unit: str
    observer: str
    occurred_at: str
    ended_at: str | None
    duration_seconds: int | None
    category_code: str
    category: str
    role_code: str | None
    role: str | None
    tool_code: str | None
    tool: str | None
    interruption_source_code: str | None
    interruption_source: str | None
    dimension_codes: str
    dimensions: str
    effect_code: str | None
    effect: str | None
    impact_codes: str
    impacts: str
    severity: int | None
    severity_label: str | None
    review_status_code: str
    review_status: str
    note: str | None
    privacy_flagged: bool
    verbatim_approved: bool
    visit_id: str
    visit_context: str | None
    tags: str
    comments: str
    grid_version: int | None  # of the programme's grid the visit was captured with
    # The attributes the programme added to its grid: "attribute:code" pieces, and their French labels.
    grid_attribute_codes: str
    grid_attributes: str
    # WOMBAT: the task (timer) an interruption interrupted, whether it was resumed, and when.
    interrupted_id: str | None
    task_resumed: bool | None
    resumed_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


COLUMN_KEYS: tuple[str, ...] = ExportRow._fields

# French headers for the spreadsheet formats (JSON uses the keys); code columns say so.
COLUMN_HEADERS: dict[str, str] = {
    "observation_id": "Identifiant",
    "structure": "Structure",
    "unit": "Unité",
    "observer": "Observateur",
    "occurred_at": "Début",
    "ended_at": "Fin",
    "duration_seconds": "Durée (s)",
    "category_code": "Catégorie (code)",
    "category": "Catégorie",
    "role_code": "Professionnel (code)",
    "role": "Professionnel observé",
    "tool_code": "Outil (code)",
    "tool": "Outil en cause",
    "interruption_source_code": "Source (code)",
    "interruption_source": "Source de l'interruption",
    "dimension_codes": "Dimensions (codes)",
    "dimensions": "Dimensions du travail touchées",
    "effect_code": "Effet (code)",
    "effect": "Effet",
    "impact_codes": "Impacts (codes)",
    "impacts": "Impact sur",
    "severity": "Gravité (code)",
    "severity_label": "Gravité",
    "review_status_code": "Statut (code)",
    "review_status": "Statut de relecture",
    "note": "Note",
    "privacy_flagged": "Note signalée (confidentialité)",
    "verbatim_approved": "Note approuvée pour les ateliers",
    "visit_id": "Visite",
    "visit_context": "Contexte de la visite",
    "tags": "Étiquettes",
    "comments": "Commentaires de relecture",
    "grid_version": "Version de la grille",
    "grid_attribute_codes": "Attributs du programme (codes)",
    "grid_attributes": "Attributs du programme",
    "interrupted_id": "Tâche interrompue (identifiant)",
    "task_resumed": "Tâche reprise",
    "resumed_at": "Reprise de la tâche",
}
assert tuple(COLUMN_HEADERS) == COLUMN_KEYS


@dataclass(frozen=True)
class _StructureInfo:
    zone: ZoneInfo
    labels: dict[str, dict[str, str]]  # French labels by attribute and code, in the programme's grid versions
    programme_id: int
    names: dict[str, str]  # French names of the attributes, in the programme's grid versions


def export_note(note: str | None, note_masked: str | None, privacy_flagged: bool) -> str | None:
    """A note as it may leave the server: masked by the server's detector (backend.privacy); a note
    flagged (by a facilitator, or another version of the detector) in which nothing is found is withheld."""
    masked = note_for_export(note, note_masked)
    if masked is not None and privacy_flagged and masked == note:
        return WITHHELD_NOTE
    return masked


def export_programme_ids(session: Session, scope: ExportScope) -> list[int]:
    """The programmes the export's structures belong to (for pseudonyms and the cover page)."""
    structure = models.Structure
    statement = select(structure.programme_id).distinct()
    if scope.allowed_structure_ids is not None:
        statement = statement.where(col(structure.id).in_(sorted(scope.allowed_structure_ids)))
    if scope.criteria.programme_id is not None:
        statement = statement.where(structure.programme_id == scope.criteria.programme_id)
    if scope.criteria.structure_id is not None:
        statement = statement.where(structure.id == scope.criteria.structure_id)
    return sorted(session.exec(statement).all())


def pseudonyms_for(session: Session, scope: ExportScope) -> Pseudonyms:
    return build_pseudonyms(
        session, export_programme_ids(session, scope), anonymous_structures=scope.anonymous_structures
    )


def count_export_rows(session: Session, scope: ExportScope) -> int:
    obs = models.Observation
    statement = apply_observation_filter(
        select(func.count()).select_from(obs), scope.criteria, scope.allowed_structure_ids
    )
    return int(session.exec(statement).one())


def _codes_of(attribute: str) -> Any:
    value = models.ObservationAttributeValue
    return (
        select(func.aggregate_strings(col(value.code), MULTI_VALUE_SEPARATOR))
        .where(col(value.observation_id) == col(models.Observation.id), value.attribute == attribute)
        .scalar_subquery()
    )


# Where the attribute ends and the code begins in a piece of ``grid_attribute_codes``.
ATTRIBUTE_CODE_SEPARATOR = ":"


def _added_codes() -> Any:
    """The values of the attributes the programme added to its grid, as "attribute:code" pieces."""
    value = models.ObservationAttributeValue
    piece = col(value.attribute) + ATTRIBUTE_CODE_SEPARATOR + col(value.code)
    return (
        select(func.aggregate_strings(piece, MULTI_VALUE_SEPARATOR))
        .where(
            col(value.observation_id) == col(models.Observation.id),
            col(value.attribute).not_in(list(ATTRIBUTE_FIELDS)),
        )
        .scalar_subquery()
    )


def _tags() -> Any:
    tag = models.ObservationTag
    return (
        select(func.aggregate_strings(col(tag.tag), MULTI_VALUE_SEPARATOR))
        .where(col(tag.observation_id) == col(models.Observation.id))
        .scalar_subquery()
    )


def _comments() -> Any:
    """The review comments, each as its time, a unit separator, and its body: aggregates keep no order
    (SQLite's group_concat has no ORDER BY before 3.44), so ``_ordered_comments`` sorts them by time."""
    comment = models.ReviewComment
    piece = cast(comment.created_at, String) + _TIME_END + col(comment.body)
    return (
        select(func.aggregate_strings(piece, _PIECE_END))
        .where(col(comment.observation_id) == col(models.Observation.id))
        .scalar_subquery()
    )


_TIME_END, _PIECE_END = "\x1f", "\x1e"


def _ordered_comments(joined: str | None) -> str:
    if not joined:
        return ""
    pieces = sorted(piece.partition(_TIME_END) for piece in joined.split(_PIECE_END))
    return masked_free_text(COMMENT_SEPARATOR.join(body for _time, _sep, body in pieces))


def export_statement(scope: ExportScope) -> Any:
    """The export's query: the filter and scope applied, oldest first (the OData feed refines it)."""
    obs = models.Observation
    columns: list[Any] = [
        # The id as the database keeps it (see uuid_text), not made a UUID only to be printed again.
        type_coerce(obs.id, String),
        obs.structure_id,
        obs.observer_id,
        models.Unit.name,
        obs.occurred_at,
        obs.ended_at,
        obs.category,
        obs.role,
        obs.tool,
        obs.interruption_source,
        _codes_of("dimension"),
        obs.effect,
        _codes_of("impact"),
        obs.severity,
        obs.review_status,
        obs.note,
        obs.note_masked,
        obs.privacy_flagged,
        obs.verbatim_approved,
        type_coerce(obs.visit_id, String),
        models.Visit.context_note,
        _tags(),
        _comments(),
        models.Visit.grid_version,
        _added_codes(),
        type_coerce(obs.interrupted_id, String),
        obs.task_resumed,
        obs.resumed_at,
    ]
    statement = (
        select(*columns)
        .join(models.Visit, col(models.Visit.id) == col(obs.visit_id))
        .join(models.Unit, col(models.Unit.id) == col(models.Visit.unit_id))
    )
    statement = apply_observation_filter(statement, scope.criteria, scope.allowed_structure_ids)
    return statement.order_by(col(obs.occurred_at), col(obs.id)).execution_options(yield_per=BATCH_SIZE)


def _structures(session: Session) -> dict[int, _StructureInfo]:
    rows = session.exec(
        select(models.Structure.id, models.Structure.timezone, models.Structure.programme_id)
    ).all()
    programmes = {row[2] for row in rows}
    labels = {programme_id: grid_labels(session, programme_id) for programme_id in programmes}
    names = {programme_id: attribute_names(session, programme_id) for programme_id in programmes}
    return {
        structure_id: _StructureInfo(_zone(timezone), labels[programme_id], programme_id, names[programme_id])
        for structure_id, timezone, programme_id in rows
        if structure_id is not None
    }


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class _MultiValues:
    """Codes of a multi-valued attribute in the grid's order (the database keeps none), and their labels:
    worked out once per combination met in this export (a few dozen, for a million rows)."""

    def __init__(self, structures: dict[int, _StructureInfo]) -> None:
        self.labels = {info.programme_id: info.labels for info in structures.values()}
        self.seen: dict[tuple[int, str, str | None], tuple[str, str]] = {}

        self.names = {info.programme_id: info.names for info in structures.values()}

    def __call__(self, programme_id: int, attribute: str, joined: str | None) -> tuple[str, str]:
        key = (programme_id, attribute, joined)
        found = self.seen.get(key)
        if found is None:
            found = self.seen[key] = _ordered(self.labels[programme_id].get(attribute, {}), joined)
        return found

    def added(self, programme_id: int, joined: str | None) -> tuple[str, str]:
        """The programme's own attributes of a row: codes sorted ("mood:calm|mood:tense"), and labels
        grouped by attribute in the programme's order of attributes ("Humeur : Calme, Tendue")."""
        key = (programme_id, "", joined)
        found = self.seen.get(key)
        if found is None:
            pieces = sorted(joined.split(MULTI_VALUE_SEPARATOR)) if joined else []
            by_attribute: dict[str, list[str]] = {}
            for piece in pieces:
                attribute, _, code = piece.partition(ATTRIBUTE_CODE_SEPARATOR)
                by_attribute.setdefault(attribute, []).append(code)
            names, labels = self.names[programme_id], self.labels[programme_id]
            order = [a for a in names if a in by_attribute] + sorted(set(by_attribute) - set(names))
            text = " | ".join(
                f"{names.get(a, a)} : "
                + ", ".join(labels.get(a, {}).get(code, code) for code in by_attribute[a])
                for a in order
            )
            found = self.seen[key] = (MULTI_VALUE_SEPARATOR.join(pieces), text)
        return found


def local_iso(moment: datetime, timezone: str) -> str:
    """A stored UTC time in a structure's time zone, as every export writes it (ISO 8601, its offset)."""
    return moment.astimezone(_zone(timezone)).isoformat(timespec="seconds")


def _ordered(labels: dict[str, str], joined: str | None) -> tuple[str, str]:
    codes = set(joined.split(MULTI_VALUE_SEPARATOR)) if joined else set()
    ordered = [c for c in labels if c in codes] + sorted(codes - set(labels))
    return MULTI_VALUE_SEPARATOR.join(ordered), " | ".join(labels.get(c, c) for c in ordered)


@lru_cache(maxsize=4096)
def masked_free_text(text: str) -> str:
    """A visit's context or a facilitator's comment, free text like a note and never screened at push:
    identifiers masked by the same rules as an unscreened note. (A visit's context repeats on each of
    its observations: masked once.)"""
    return note_for_export(text, None) or ""


@lru_cache(maxsize=4096)
def _sorted_tags(joined: str | None) -> str:
    return MULTI_VALUE_SEPARATOR.join(sorted(joined.split(MULTI_VALUE_SEPARATOR))) if joined else ""


_STORED_UUID = re.compile("[0-9a-f]{32}")


def uuid_text(stored: UUID | str) -> str:
    """An observation id in its usual form: PostgreSQL gives a UUID, SQLite the 32 lowercase hex digits
    SQLAlchemy's Uuid type stores there (formatted directly, a few times faster than via UUID)."""
    if isinstance(stored, UUID):
        return str(stored)
    if _STORED_UUID.fullmatch(stored):
        return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
    return str(UUID(stored))


# Review statuses by code: the code itself and its French label.
_REVIEW_STATUSES = {
    status.value: (status.value, REVIEW_STATUS_LABELS[status]["fr"]) for status in ReviewStatus
}


def iter_export_rows(
    session: Session, scope: ExportScope, pseudonyms: Pseudonyms | None = None, statement: Any = None
) -> Generator[ExportRow, None, None]:
    """The exported rows, oldest first, streamed from the database in batches.

    Runs once per observation, 100,000 times for a large XLSX: labels are plain dictionary look-ups
    (a code from another grid version keeps its code as label, still there to read), and the query
    goes through the connection rather than the ORM, which would only wrap each row again.
    ``statement``: ``export_statement(scope)`` refined (filtered further, ordered, a page of it).
    """
    pseudonyms = pseudonyms or pseudonyms_for(session, scope)
    structures = _structures(session)
    multi = _MultiValues(structures)
    structure_of, observer_of = pseudonyms.structure, pseudonyms.observer
    new_row = ExportRow._make
    result = session.connection().execute(statement if statement is not None else export_statement(scope))
    try:
        for (
            observation_id,
            structure_id,
            observer_id,
            unit_name,
            occurred_at,
            ended_at,
            category,
            role,
            tool,
            source,
            dimension_codes,
            effect,
            impact_codes,
            severity,
            review_status,
            note,
            note_masked,
            privacy_flagged,
            verbatim_approved,
            visit_id,
            visit_context,
            tags,
            comments,
            grid_version,
            added_codes,
            interrupted_id,
            task_resumed,
            resumed_at,
        ) in result:
            info = structures[structure_id]
            labels, zone = info.labels, info.zone
            dimensions = multi(info.programme_id, "dimension", dimension_codes)
            impacts = multi(info.programme_id, "impact", impact_codes)
            try:
                status_code, status_label = _REVIEW_STATUSES[review_status]
            except KeyError:
                raise ValueError(f"unknown review status {review_status!r}") from None
            flagged = bool(privacy_flagged)
            added = multi.added(info.programme_id, added_codes)
            yield new_row(
                (
                    uuid_text(observation_id),
                    structure_of(structure_id),
                    unit_name,
                    observer_of(observer_id),
                    occurred_at.astimezone(zone).isoformat(timespec="seconds"),
                    None if ended_at is None else ended_at.astimezone(zone).isoformat(timespec="seconds"),
                    None if ended_at is None else round((ended_at - occurred_at).total_seconds()),
                    category,
                    labels["category"].get(category, category),
                    role,
                    None if role is None else labels["role"].get(role, role),
                    tool,
                    None if tool is None else labels["tool"].get(tool, tool),
                    source,
                    None if source is None else labels["interruption_source"].get(source, source),
                    dimensions[0],
                    dimensions[1],
                    effect,
                    None if effect is None else labels["effect"].get(effect, effect),
                    impacts[0],
                    impacts[1],
                    severity,
                    None if severity is None else labels["severity"].get(str(severity), str(severity)),
                    status_code,
                    status_label,
                    export_note(note, note_masked, flagged),
                    flagged,
                    bool(verbatim_approved),
                    uuid_text(visit_id),
                    None if visit_context is None else masked_free_text(visit_context),
                    _sorted_tags(tags),
                    _ordered_comments(comments),
                    grid_version,
                    added[0],
                    added[1],
                    None if interrupted_id is None else uuid_text(interrupted_id),
                    None if task_resumed is None else bool(task_resumed),
                    None if resumed_at is None else resumed_at.astimezone(zone).isoformat(timespec="seconds"),
                )
            )
    finally:
        result.close()
