"""A programme's grid: its published versions (immutable), its draft, publishing, and the grids that
check what tablets push. The only module that reads or writes ``grid_version``."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.auth.access import require_reviewer, visible_programme
from backend.db_types import utcnow
from backend.errors import ErrorDetail
from backend.grids.validation import grid_problems
from backend.problems import invalid_fields, not_found, problem
from shared.messages import FieldError, message
from shared.taxonomy import (
    Taxonomy,
    UnknownTaxonomyVersionError,
    current_taxonomy,
    load_taxonomy,
    parse_taxonomy,
)


def starting_document(shipped_version: str | None = None) -> dict[str, Any]:
    """What a new programme's grid starts from: a shipped grid (the current ACIA grid by default)."""
    try:
        taxonomy = load_taxonomy(shipped_version) if shipped_version else current_taxonomy()
    except UnknownTaxonomyVersionError:
        taxonomy = current_taxonomy()
    return taxonomy.as_dict()


def grid_taxonomy(number: int, document: dict[str, Any]) -> Taxonomy:
    """A version as the checks and pages use it; its ``version`` is the version's number."""
    return parse_taxonomy({**document, "version": str(number)})


def seed_programme_grid(session: Session, programme: models.Programme) -> models.GridVersion:
    """Version 1 of a new programme: the shipped grid it names, published at once (caller commits)."""
    assert programme.id is not None
    first = models.GridVersion(
        programme_id=programme.id,
        number=1,
        published_at=utcnow(),
        document=starting_document(programme.taxonomy_version),
    )
    session.add(first)
    return first


def published_versions(session: Session, programme_id: int) -> list[models.GridVersion]:
    return list(
        session.exec(
            select(models.GridVersion)
            .where(
                models.GridVersion.programme_id == programme_id,
                col(models.GridVersion.published_at).is_not(None),
            )
            .order_by(col(models.GridVersion.number))
        ).all()
    )


def current_version(session: Session, programme_id: int) -> tuple[int, dict[str, Any]]:
    """The programme's newest published version: its number and document.

    A programme created before grids were kept in the database (or by a test building rows by hand)
    has its shipped grid as version 1."""
    row = session.exec(
        select(models.GridVersion.number, models.GridVersion.document)
        .where(
            models.GridVersion.programme_id == programme_id, col(models.GridVersion.published_at).is_not(None)
        )
        .order_by(col(models.GridVersion.number).desc())
        .limit(1)
    ).first()
    if row is not None:
        return row[0], dict(row[1])
    programme = session.get(models.Programme, programme_id)
    return 1, starting_document(programme.taxonomy_version if programme else None)


def current_taxonomy_of(session: Session, programme_id: int) -> Taxonomy:
    number, document = current_version(session, programme_id)
    return grid_taxonomy(number, document)


def programme_taxonomies(
    session: Session, programme_id: int, numbers: Iterable[int | None]
) -> dict[int | None, Taxonomy]:
    """The published versions ``numbers`` of the programme (None: the current one), in one query.

    A number the programme has not published is missing from the answer: records naming it are refused.
    """
    wanted = {n for n in numbers if n is not None}
    current_number, current_document = current_version(session, programme_id)
    grids: dict[int | None, Taxonomy] = {None: grid_taxonomy(current_number, current_document)}
    grids[current_number] = grids[None]
    wanted.discard(current_number)
    if wanted:
        rows = session.exec(
            select(models.GridVersion.number, models.GridVersion.document).where(
                models.GridVersion.programme_id == programme_id,
                col(models.GridVersion.published_at).is_not(None),
                col(models.GridVersion.number).in_(wanted),
            )
        ).all()
        grids.update({number: grid_taxonomy(number, dict(document)) for number, document in rows})
    return grids


def draft(session: Session, programme_id: int) -> models.GridVersion | None:
    return session.exec(
        select(models.GridVersion).where(
            models.GridVersion.programme_id == programme_id, col(models.GridVersion.published_at).is_(None)
        )
    ).first()


@dataclass(frozen=True)
class GridEditor:
    """What the editor page shows: the document being edited and the versions already published."""

    programme: models.Programme
    number: int  # the number the document gets once published
    document: dict[str, Any]
    is_draft: bool
    published: list[models.GridVersion]


def grid_editor(session: Session, user: models.User, programme_id: int) -> GridEditor:
    """The draft if there is one, else a copy of the current version (admins and the programme's
    facilitators only)."""
    programme = _managed(session, user, programme_id)
    existing = draft(session, programme_id)
    published = published_versions(session, programme_id)
    if existing is not None:
        return GridEditor(programme, existing.number, dict(existing.document), True, published)
    number, document = current_version(session, programme_id)
    copy = {k: v for k, v in document.items() if k not in ("mappings", "version")}
    return GridEditor(programme, number + 1, copy, False, published)


def _managed(session: Session, user: models.User, programme_id: int) -> models.Programme:
    require_reviewer(user)
    return visible_programme(session, user, programme_id)


def save_draft_by(
    session: Session, user: models.User, programme_id: int, document: Any
) -> models.GridVersion:
    _managed(session, user, programme_id)
    return save_draft(session, programme_id, document, user.id)


def publish_by(session: Session, user: models.User, programme_id: int) -> models.GridVersion:
    _managed(session, user, programme_id)
    return publish(session, programme_id, user.id)


def export_by(session: Session, user: models.User, programme_id: int, number: int) -> dict[str, Any]:
    _managed(session, user, programme_id)
    return export_document(session, programme_id, number)


def _refuse(problems: list[FieldError]) -> None:
    if problems:
        details = [ErrorDetail(field=p.field, code=p.code, message=p.message) for p in problems]
        raise invalid_fields("grid_invalid", details, count=len(problems))


def save_draft(
    session: Session, programme_id: int, document: Any, actor_user_id: int | None
) -> models.GridVersion:
    """Replace the programme's draft with ``document`` (every problem refused at once, with its place)."""
    if session.get(models.Programme, programme_id) is None:
        raise not_found()
    _refuse(grid_problems(document))
    document = {k: v for k, v in document.items() if k != "version"}
    row = draft(session, programme_id)
    if row is None:
        number, _current = current_version(session, programme_id)
        row = models.GridVersion(programme_id=programme_id, number=number + 1, document=document)
    row.document = document
    row.updated_at = utcnow()
    return _write(session, row, AuditAction.GRID_DRAFT, actor_user_id)


def _write(
    session: Session, row: models.GridVersion, action: AuditAction, actor_user_id: int | None
) -> models.GridVersion:
    """Save a version with its audit event in one transaction."""
    session.add(row)
    record_audit(
        session,
        action,
        actor_user_id=actor_user_id,
        target_type="programme",
        target_id=row.programme_id,
        details={"version": row.number},
    )
    session.commit()
    return row


def publish(session: Session, programme_id: int, actor_user_id: int | None) -> models.GridVersion:
    """Freeze the draft as the programme's newest version: tablets get it at their next pull."""
    row = draft(session, programme_id)
    if row is None:
        raise problem(409, "grid_no_draft")
    document = dict(row.document)
    _refuse(grid_problems(document) + deleted_codes_in_use(session, programme_id, document))
    if not published_versions(session, programme_id):
        # A programme from before grids were kept: its shipped grid becomes version 1 first.
        programme = session.get(models.Programme, programme_id)
        assert programme is not None
        seed_programme_grid(session, programme)
        row.number = max(row.number, 2)
    row.published_at = utcnow()
    row.published_by_user_id = actor_user_id
    return _write(session, row, AuditAction.GRID_PUBLISH, actor_user_id)


def import_grid(
    session: Session, programme_id: int, document: Any, publish_now: bool, actor_user_id: int | None
) -> models.GridVersion:
    """``vigie grid import``: the file becomes the draft, published at once if asked."""
    save_draft(session, programme_id, document, actor_user_id)
    if publish_now:
        return publish(session, programme_id, actor_user_id)
    row = draft(session, programme_id)
    assert row is not None
    return row


def export_document(session: Session, programme_id: int, number: int | None = None) -> dict[str, Any]:
    """A published version (the current one by default) as ``vigie grid import`` reads it back."""
    if session.get(models.Programme, programme_id) is None:
        raise not_found()
    if number is None:
        number, document = current_version(session, programme_id)
    else:
        grids = programme_taxonomies(session, programme_id, [number])
        if number not in grids:
            raise problem(404, "unknown_grid_version", number=number)
        return grids[number].as_dict()
    return {**document, "version": str(number)}


# --- codes in use ---------------------------------------------------------------------------------

_SINGLE_COLUMNS = {
    "category": models.Observation.category,
    "role": models.Observation.role,
    "tool": models.Observation.tool,
    "interruption_source": models.Observation.interruption_source,
    "effect": models.Observation.effect,
}


def _codes(document: dict[str, Any]) -> dict[str, set[str]]:
    codes = {"category": {str(c["code"]) for c in document.get("categories", [])}}
    for attribute in document.get("attributes", []):
        codes[str(attribute["code"])] = {str(v["code"]) for v in attribute.get("values", [])}
    return codes


def deleted_codes_in_use(session: Session, programme_id: int, document: dict[str, Any]) -> list[FieldError]:
    """Codes of earlier versions missing from ``document`` while observations still use them.

    Codes are stable: a category no longer wanted is archived (kept valid for old data), not deleted.
    """
    now = _codes(document)
    for mapping in document.get("mappings", []):  # merged or split away: counted under their new codes
        now.setdefault(str(mapping["attribute"]), set()).update(map(str, mapping["old"]))
    earlier: dict[str, set[str]] = {}
    documents = [dict(v.document) for v in published_versions(session, programme_id)]
    for old in map(_codes, documents or [starting_document(_shipped(session, programme_id))]):
        for attribute, codes in old.items():
            earlier.setdefault(attribute, set()).update(codes)
    structures = select(models.Structure.id).where(models.Structure.programme_id == programme_id)
    problems: list[FieldError] = []
    for attribute, codes in earlier.items():
        for code in sorted(codes - now.get(attribute, set())):
            count = _uses(session, structures, attribute, code)
            if count:
                text = message("grid_deleted_code_in_use", code=code, attribute=attribute, count=count)
                problems.append(FieldError(field=attribute, code="grid_deleted_code_in_use", message=text))
    return problems


def _shipped(session: Session, programme_id: int) -> str | None:
    programme = session.get(models.Programme, programme_id)
    return programme.taxonomy_version if programme else None


def _uses(session: Session, structures: Any, attribute: str, code: str) -> int:
    observations = (
        select(func.count())
        .select_from(models.Observation)
        .where(col(models.Observation.structure_id).in_(structures))
    )
    if attribute in _SINGLE_COLUMNS:
        query = observations.where(_SINGLE_COLUMNS[attribute] == code)
    elif attribute == "severity":
        if not code.isdigit():
            return 0
        query = observations.where(models.Observation.severity == int(code))
    else:
        query = (
            select(func.count())
            .select_from(models.ObservationAttributeValue)
            .where(
                col(models.ObservationAttributeValue.structure_id).in_(structures),
                models.ObservationAttributeValue.attribute == attribute,
                models.ObservationAttributeValue.code == code,
            )
        )
    return int(session.exec(query).one())


def _documents(session: Session, programme_id: int) -> list[dict[str, Any]]:
    """Every published version's document, oldest first (the shipped grid when none is kept yet)."""
    documents = [dict(v.document) for v in published_versions(session, programme_id)]
    return documents or [current_version(session, programme_id)[1]]


def grid_labels(session: Session, programme_id: int) -> dict[str, dict[str, str]]:
    """French labels by attribute and code of every code the programme's versions ever had (the newest
    label of each), so that rows captured with an older version read as well as new ones."""
    labels: dict[str, dict[str, str]] = {"category": {}}
    for document in _documents(session, programme_id):
        labels["category"].update({str(c["code"]): str(c["fr"]) for c in document["categories"]})
        for attribute in document["attributes"]:
            values = {str(v["code"]): str(v["fr"]) for v in attribute["values"]}
            labels.setdefault(str(attribute["code"]), {}).update(values)
    return labels


UNKNOWN_COLOUR = "#546E7A"


@dataclass(frozen=True)
class GridTerms:
    """How pages name and colour codes for a reader: every version of the grids of the programmes they
    read, and the current grid (of their one programme) for the filters' choices."""

    labels: dict[str, dict[str, str]]
    colours: dict[str, str]
    taxonomy: Taxonomy

    def label(self, attribute: str, code: object) -> str:
        """The French label of a code; unknown codes are shown as they are, none as a dash."""
        if code is None or code == "":
            return "—"
        return self.labels.get(attribute, {}).get(str(code), str(code))

    def colour(self, code: str) -> str:
        return self.colours.get(code, UNKNOWN_COLOUR)


def grid_terms(session: Session, programme_ids: Collection[int]) -> GridTerms:
    labels: dict[str, dict[str, str]] = {}
    colours: dict[str, str] = {}
    for programme_id in sorted(programme_ids):
        for attribute, by_code in grid_labels(session, programme_id).items():
            labels.setdefault(attribute, {}).update(by_code)
        for document in _documents(session, programme_id):
            colours.update({str(c["code"]): str(c["colour"]) for c in document["categories"]})
    one = len(programme_ids) == 1
    taxonomy = current_taxonomy_of(session, next(iter(programme_ids))) if one else current_taxonomy()
    return GridTerms(labels=labels, colours=colours, taxonomy=taxonomy)


def code_merges(session: Session, programme_id: int) -> dict[str, dict[str, str]]:
    """By attribute, what each merged code of an earlier version counts as today (merges followed through
    every later version: a → b in version 2 then b → c in version 3 makes a count as c)."""
    merges: dict[str, dict[str, str]] = {}
    for document in _documents(session, programme_id):
        for mapping in document.get("mappings", []):
            if len(mapping["new"]) != 1:
                continue  # a split cannot divide old counts: old rows keep their code
            target = str(mapping["new"][0])
            by_code = merges.setdefault(str(mapping["attribute"]), {})
            for old, new in list(by_code.items()):
                if new in mapping["old"]:
                    by_code[old] = target
            by_code.update({str(old): target for old in mapping["old"] if old != target})
    return merges


def tool_names(document: dict[str, Any]) -> list[str]:
    """The tools list's French names: local software the de-identification must never mask."""
    for attribute in document.get("attributes", []):
        if attribute.get("code") == "tool":
            return [str(v["fr"]) for v in attribute.get("values", []) if v.get("fr")]
    return []
