"""Which codes of earlier versions observations still use: a code in use may be archived or merged into
another by a mapping, never deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend import models
from backend.grids.versions import published_versions, starting_document
from shared.messages import FieldError, message

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
    documents = [dict(v.document) for v in published_versions(session, programme_id)]
    # Merged or split away, by this version or an earlier one: aggregates still account for them.
    for mapping in [m for d in [*documents, document] for m in d.get("mappings", [])]:
        now.setdefault(str(mapping["attribute"]), set()).update(map(str, mapping["old"]))
    earlier: dict[str, set[str]] = {}
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
