"""A category filter that follows the merges of the programme's grid, as dashboards count.

When a later grid version merges old categories into one (« Connexion » and « Panne » into « Accès
difficile »), dashboards count the old codes' observations under the new one. The list a count links to
must then hold those observations too, or the drill-down shows fewer rows than the figure clicked. A
merge belongs to one programme: another programme that still uses the old code as a category of its own
keeps it apart.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from backend import models
from backend.grids.terms import code_merges
from backend.review.filters import UNSET, ObservationFilter


def follow_merged_categories(
    session: Session, criteria: ObservationFilter, allowed_structure_ids: Collection[int] | None
) -> None:
    """Record on ``criteria`` (after its scope was checked) the old codes merged into its category, for each
    programme the reader may see that merged some."""
    if not criteria.category or criteria.category == UNSET:
        return
    merged: dict[int, tuple[str, ...]] = {}
    for programme_id in _programmes(session, criteria, allowed_structure_ids):
        followed = code_merges(session, programme_id).get("category", {})
        codes = tuple(sorted(old for old, new in followed.items() if new == criteria.category))
        if codes:
            merged[programme_id] = codes
    criteria._merged_categories = merged


def _programmes(
    session: Session, criteria: ObservationFilter, allowed_structure_ids: Collection[int] | None
) -> list[int]:
    if criteria.programme_id is not None:
        return [criteria.programme_id]
    structure_id = criteria.structure_id
    if structure_id is None and criteria.unit_id is not None:
        unit = session.get(models.Unit, criteria.unit_id)
        structure_id = unit.structure_id if unit is not None else None
    statement = select(models.Structure.programme_id).distinct()
    if structure_id is not None:
        statement = statement.where(models.Structure.id == structure_id)
    elif allowed_structure_ids is not None:
        statement = statement.where(col(models.Structure.id).in_(list(allowed_structure_ids)))
    return sorted(session.exec(statement).all())
