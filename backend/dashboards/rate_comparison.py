"""Two sides compared rate by rate: before/after a milestone (or any two ranges of days) in one structure,
or two structures over the same days. Per category and attribute value: both rates per observed hour with
their intervals, the rate ratio (compared / reference) with its exact interval, and a plain-French reading
that says when the data cannot support a difference."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from backend import models
from backend.auth.access import (
    visible_programme,
    visible_structure,
    visible_structure_ids,
    visible_structures,
)
from backend.dashboards.milestones import MilestoneOut, milestones_of, milestones_within, visible_milestone
from backend.dashboards.rates import Rate, RateRatio, rate, rate_ratio, read_ratio
from backend.dashboards.service import (
    ATTRIBUTES_COMPARED,
    counts_by_attribute,
    follow_codes,
    grid_of,
    observed_time,
)
from backend.grids.terms import code_merges, grid_labels, split_targets
from backend.grids.versions import current_taxonomy_of
from backend.problems import invalid, not_found
from backend.review.filters import DAY_MAX, DAY_MIN, ObservationFilter
from shared.schema import RowId, added_attributes
from shared.taxonomy import Taxonomy

ATTRIBUTE_LABELS = {
    "category": "Catégorie",
    "role": "Professionnel observé",
    "tool": "Outil en cause",
    "effect": "Effet",
    "dimension": "Dimension du travail",
    "impact": "Impact",
}


class Side(BaseModel):
    label: str
    structure_id: int
    structure_name: str
    unit_id: int | None
    date_from: date | None
    date_to: date | None
    visits: int
    observed_hours: float
    observations: int
    rate: Rate


class ComparedRate(BaseModel):
    attribute: str
    attribute_label: str
    code: str
    label: str
    reference: Rate
    compared: Rate
    ratio: RateRatio
    reading: str


class RateComparison(BaseModel):
    kind: Literal["periods", "structures"]
    reference: Side
    compared: Side
    milestone: MilestoneOut | None
    overall: ComparedRate
    rows: list[ComparedRate]  # per attribute in grid order; values absent from both sides are left out


# The days the observation filter accepts: a day after the last is still a date (no overflow at the edges).
Day = Annotated[date | None, Field(ge=DAY_MIN, le=DAY_MAX)]


class PeriodsAsked(BaseModel):
    """Either a milestone (before: up to the day before it; after: from its day), or two ranges of days."""

    model_config = ConfigDict(extra="forbid")

    milestone_id: RowId | None = None
    unit_id: RowId | None = None
    reference_from: Day = None
    reference_to: Day = None
    compared_from: Day = None
    compared_to: Day = None


class StructuresAsked(BaseModel):
    """Two structures of one programme, over the same days."""

    model_config = ConfigDict(extra="forbid")

    reference_structure_id: RowId
    compared_structure_id: RowId
    date_from: Day = None
    date_to: Day = None


_CountedSide = tuple[Side, dict[str, dict[str | None, int]]]  # a side and its counts per attribute and code


def _check_range(first: date | None, last: date | None, field: str) -> None:
    if first is not None and last is not None and first > last:
        raise invalid(field, "invalid_period")


Days = tuple[date | None, date | None]  # first and last day included; None: open


def _side(
    session: Session,
    label: str,
    structure: models.Structure,
    unit_id: int | None,
    days: Days,
    allowed: Collection[int] | None,
    counts: dict[str, dict[str | None, int]] | None = None,
) -> _CountedSide:
    """One side's observed time, and its counts unless already counted (``counts``)."""
    assert structure.id is not None
    criteria = ObservationFilter(
        structure_id=structure.id, unit_id=unit_id, date_from=days[0], date_to=days[1]
    )
    visits, seconds = observed_time(session, criteria, allowed).get(structure.id, (0, 0.0))
    if counts is None:
        (counts,) = counts_by_attribute(session, criteria, allowed)
    total = sum(counts["category"].values())
    hours = seconds / 3600
    side = Side(
        label=label,
        structure_id=structure.id,
        structure_name=structure.name,
        unit_id=unit_id,
        date_from=days[0],
        date_to=days[1],
        visits=visits,
        observed_hours=round(hours, 4),
        observations=total,
        rate=rate(total, hours),
    )
    return side, counts


def _periods(
    session: Session,
    labels: tuple[str, str],
    structure: models.Structure,
    unit_id: int | None,
    days: tuple[Days, Days],
    allowed: Collection[int] | None,
) -> tuple[_CountedSide, _CountedSide]:
    """Both periods of one structure. Back to back (a milestone's before and after), their counts come from
    the same scans, split at the first day of the second; otherwise each is counted on its own."""
    (first, last), (second_first, second_last) = days
    if last is None or second_first is None or last + timedelta(days=1) != second_first:
        return (
            _side(session, labels[0], structure, unit_id, days[0], allowed),
            _side(session, labels[1], structure, unit_id, days[1], allowed),
        )
    both = ObservationFilter(structure_id=structure.id, unit_id=unit_id, date_from=first, date_to=second_last)
    split = datetime.combine(second_first, time.min, tzinfo=UTC)
    before, after = counts_by_attribute(session, both, allowed, split)
    return (
        _side(session, labels[0], structure, unit_id, days[0], allowed, before),
        _side(session, labels[1], structure, unit_id, days[1], allowed, after),
    )


def attributes_compared(taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """The category and the attributes compared, with their names: the grid's own, then those the
    programme added (counted from the same values table as work dimensions)."""
    own = [(code, ATTRIBUTE_LABELS.get(code, code)) for code in ATTRIBUTES_COMPARED]
    return own + [(a.code, a.label.fr) for a in added_attributes(taxonomy)]


def _compared(
    attribute: tuple[str, str],
    code: str,
    label: str,
    what: str,
    counts: tuple[int, int],
    hours: tuple[float, float],
) -> ComparedRate:
    """``attribute``: its code and its name."""
    ratio = rate_ratio(counts[1], hours[1], counts[0], hours[0])
    return ComparedRate(
        attribute=attribute[0],
        attribute_label=attribute[1],
        code=code,
        label=label,
        reference=rate(counts[0], hours[0]),
        compared=rate(counts[1], hours[1]),
        ratio=ratio,
        reading=read_ratio(ratio, what),
    )


def _events_word(attribute: tuple[str, str], label: str) -> str:
    if attribute[0] == "category":
        return f"d'événements « {label} »"
    return f"d'événements avec « {label} » ({attribute[1].lower()})"


class ProgrammeGrid(BaseModel):
    """The programme's current grid and how codes of its earlier versions count in it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    taxonomy: Taxonomy
    merges: dict[str, dict[str, str]]
    splits: dict[str, dict[str, tuple[str, ...]]]  # attribute → split code → the codes it became
    labels: dict[str, dict[str, str]]  # every version's labels


def programme_grid(session: Session, programme_id: int) -> ProgrammeGrid:
    return ProgrammeGrid(
        taxonomy=current_taxonomy_of(session, programme_id),
        merges=code_merges(session, programme_id),
        splits=split_targets(session, programme_id),
        labels=grid_labels(session, programme_id),
    )


def _across_versions(
    grid: ProgrammeGrid, attribute: str, both: tuple[dict[str | None, int], dict[str | None, int]]
) -> tuple[list[tuple[str, str]], tuple[dict[str | None, int], dict[str | None, int]]]:
    """The rows to compare and both sides' counts, in today's codes: merged codes counted under their new
    code; a split code that still has observations on either side gets the codes it became rolled up into
    it (an undivided count can only be compared with their sum), otherwise they stay apart."""
    merges = grid.merges.get(attribute, {})
    counts = (follow_codes(both[0], merges), follow_codes(both[1], merges))
    rows = grid_of(grid.taxonomy, attribute)
    for old, new in grid.splits.get(attribute, {}).items():
        if not (counts[0].get(old) or counts[1].get(old)):
            continue
        names = dict(rows)
        parts = ", ".join(names.get(code, code) for code in new)
        label = (
            f"{grid.labels.get(attribute, {}).get(old, old)} (scindé en : {parts} ; regroupés pour comparer)"
        )
        place = next((i for i, (code, _label) in enumerate(rows) if code in new), len(rows))
        rows = [*rows[:place], (old, label), *(row for row in rows[place:] if row[0] not in new)]
        rolled_up = dict.fromkeys(new, old)
        counts = (follow_codes(counts[0], rolled_up), follow_codes(counts[1], rolled_up))
    return rows, counts


def _comparison(
    kind: Literal["periods", "structures"],
    grid: ProgrammeGrid,
    sides: tuple[
        tuple[Side, dict[str, dict[str | None, int]]], tuple[Side, dict[str, dict[str | None, int]]]
    ],
    milestone: MilestoneOut | None,
) -> RateComparison:
    (reference, reference_counts), (compared, compared_counts) = sides
    hours = (reference.rate.hours, compared.rate.hours)
    rows = []
    for attribute in attributes_compared(grid.taxonomy):
        code_of = attribute[0]
        codes, both = _across_versions(
            grid, code_of, (reference_counts.get(code_of, {}), compared_counts.get(code_of, {}))
        )
        for code, label in codes:
            counts = (both[0].get(code, 0), both[1].get(code, 0))
            if counts == (0, 0):
                continue
            rows.append(_compared(attribute, code, label, _events_word(attribute, label), counts, hours))
    totals = (reference.observations, compared.observations)
    overall = _compared(("all", "all"), "", "Tous les événements", "d'événements", totals, hours)
    return RateComparison(
        kind=kind, reference=reference, compared=compared, milestone=milestone, overall=overall, rows=rows
    )


def _day_before(day: date) -> date:
    return day - timedelta(days=1)


def compare_periods(
    session: Session, reader: models.User, structure_id: int, asked: PeriodsAsked
) -> RateComparison:
    """Before/after in one structure (or one of its units)."""
    structure = visible_structure(session, reader, structure_id)
    allowed = visible_structure_ids(session, reader)
    grid = programme_grid(session, structure.programme_id)
    milestone_out = None
    unit_id = asked.unit_id
    reference_range = (asked.reference_from, asked.reference_to)
    compared_range = (asked.compared_from, asked.compared_to)
    if asked.milestone_id is not None:
        milestone = visible_milestone(session, reader, asked.milestone_id)
        if milestone.structure_id != structure_id:
            raise not_found()
        milestone_out = next(
            m for m in milestones_of(session, reader, structure_ids=[structure_id]) if m.id == milestone.id
        )
        unit_id = milestone.unit_id if unit_id is None else unit_id
        reference_range = (asked.reference_from, _day_before(milestone.day))
        compared_range = (milestone.day, asked.compared_to)
    _check_range(*reference_range, "reference_to")
    _check_range(*compared_range, "compared_to")
    if unit_id is not None:
        unit = session.get(models.Unit, unit_id)
        if unit is None or unit.structure_id != structure_id:
            raise not_found()
    labels = ("Avant", "Après") if milestone_out else ("Période de référence", "Période comparée")
    sides = _periods(session, labels, structure, unit_id, (reference_range, compared_range), allowed)
    return _comparison("periods", grid, sides, milestone_out)


def milestone_comparisons(
    session: Session,
    structure_id: int,
    allowed: Collection[int] | None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 3,
) -> list[RateComparison]:
    """For an export of one structure: before/after each of its latest milestones within the days exported
    (``allowed``: the export's scope, already checked), each side bounded by those days."""
    structure = session.get_one(models.Structure, structure_id)
    grid = programme_grid(session, structure.programme_id)
    comparisons = []
    for milestone in reversed(milestones_within(session, allowed, structure_ids=[structure_id])):
        if (date_from is not None and milestone.day <= date_from) or (
            date_to is not None and milestone.day > date_to
        ):
            continue
        days = ((date_from, _day_before(milestone.day)), (milestone.day, date_to))
        sides = _periods(session, ("Avant", "Après"), structure, milestone.unit_id, days, allowed)
        comparisons.append(_comparison("periods", grid, sides, milestone))
        if len(comparisons) == limit:
            break
    return comparisons


def compare_structures(
    session: Session,
    reader: models.User,
    programme_id: int,
    asked: StructuresAsked,
) -> RateComparison:
    """Two structures of a programme over the same days."""
    visible_programme(session, reader, programme_id)
    allowed = visible_structure_ids(session, reader)
    date_from, date_to = asked.date_from, asked.date_to
    _check_range(date_from, date_to, "date_to")
    structures = [
        visible_structure(session, reader, i)
        for i in (asked.reference_structure_id, asked.compared_structure_id)
    ]
    if any(s.programme_id != programme_id for s in structures):
        raise not_found()
    grid = programme_grid(session, programme_id)
    reference = _side(session, structures[0].name, structures[0], None, (date_from, date_to), allowed)
    compared = _side(session, structures[1].name, structures[1], None, (date_from, date_to), allowed)
    return _comparison("structures", grid, (reference, compared), None)


def structures_of_programme(
    session: Session, reader: models.User, programme_id: int
) -> list[models.Structure]:
    """The structures of a programme the reader may compare, by name."""
    visible_programme(session, reader, programme_id)
    return [s for s in visible_structures(session, reader) if s.programme_id == programme_id]
