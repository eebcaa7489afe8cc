"""Inter-observer agreement on paired visits: two observers following the same unit at the same time.

Their observations are matched when they fall within a short window of each other (each observation at
most once, closest pairs first); agreement is then measured on the categories of the matched pairs, as
percentage agreement and Cohen's kappa (agreement corrected for what chance alone would give).
Observations only one observer recorded are counted apart: they say the observers did not see the
same events, which kappa on categories cannot say.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from backend import models
from backend.grids.terms import grid_labels
from backend.review.agreement_measures import (
    Measure,
    TimedState,
    concordance,
    kappa_with_interval,
    sequence_agreement,
    time_slice_kappa,
)

MATCH_WINDOW = timedelta(minutes=2)
DEFAULT_SLICE_SECONDS = 1  # TimeCaT's one-second slices
SliceQuery = Annotated[int, Query(ge=1, le=600, description="Length of a time slice, in seconds.")]


@dataclass(frozen=True)
class Event:
    id: UUID
    at: datetime
    category: str
    ended_at: datetime | None = None
    role: str | None = None
    tool: str | None = None
    effect: str | None = None
    interruption_source: str | None = None
    severity: int | None = None


# The single-choice attributes both observers answer for a matched event. Dimensions and impacts are several
# values each: a kappa on whole sets would say little, so they are left to the review of the pairs.
ATTRIBUTES_AGREED = ("role", "tool", "effect", "interruption_source", "severity")
UNSET = "—"  # an attribute one observer left empty still counts as that observer's answer


class DeeperAgreement(BaseModel):
    """Beyond kappa on categories: each measure with its 95 % interval and its reading."""

    category: Measure
    attributes: dict[str, Measure]  # kappa per attribute of the matched pairs
    slice_seconds: int
    time_slices: Measure
    durations: Measure  # Lin's concordance of matched timed events
    sequence: Measure


class CategoryAgreement(BaseModel):
    pairs: int
    agreements: int
    percent_agreement: float | None
    kappa: float | None  # None when undefined: no pairs, or both observers used a single category
    categories: list[str]
    matrix: list[list[int]]  # rows: first observer's category, columns: second observer's


class PairedVisit(BaseModel):
    first_visit_id: UUID
    second_visit_id: UUID
    structure_id: int
    structure_name: str
    timezone: str
    unit_name: str
    first_observer: str
    second_observer: str
    overlap_start: datetime
    overlap_end: datetime
    only_first: int
    only_second: int
    category_labels: dict[str, str]
    agreement: CategoryAgreement
    deeper: DeeperAgreement


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> CategoryAgreement:
    """Percentage agreement and Cohen's kappa for two raters' categories on the same items."""
    categories = sorted({a for a, _ in pairs} | {b for _, b in pairs})
    index = {code: i for i, code in enumerate(categories)}
    matrix = [[0] * len(categories) for _ in categories]
    for a, b in pairs:
        matrix[index[a]][index[b]] += 1
    n = len(pairs)
    agreements = sum(1 for a, b in pairs if a == b)
    if n == 0:
        return CategoryAgreement(
            pairs=0, agreements=0, percent_agreement=None, kappa=None, categories=[], matrix=[]
        )
    observed = agreements / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in categories) / (n * n)
    kappa = None if expected >= 1 else (observed - expected) / (1 - expected)
    return CategoryAgreement(
        pairs=n,
        agreements=agreements,
        percent_agreement=observed,
        kappa=kappa,
        categories=categories,
        matrix=matrix,
    )


def match_events(
    first: Sequence[Event], second: Sequence[Event], window: timedelta = MATCH_WINDOW
) -> tuple[list[tuple[Event, Event]], list[Event], list[Event]]:
    """Pairs of events at most ``window`` apart, closest first, each event used once.

    Returns the pairs (in time order) and the events of each side left without a partner.
    """
    ordered = sorted(second, key=lambda e: e.at)
    times = [e.at for e in ordered]
    candidates: list[tuple[timedelta, int, int]] = []
    for i, event in enumerate(first):
        low = bisect.bisect_left(times, event.at - window)
        high = bisect.bisect_right(times, event.at + window)
        candidates.extend((abs(ordered[j].at - event.at), i, j) for j in range(low, high))
    candidates.sort()
    used_first: set[int] = set()
    used_second: set[int] = set()
    pairs: list[tuple[Event, Event]] = []
    for _gap, i, j in candidates:
        if i not in used_first and j not in used_second:
            used_first.add(i)
            used_second.add(j)
            pairs.append((first[i], ordered[j]))
    pairs.sort(key=lambda pair: pair[0].at)
    left_first = [e for i, e in enumerate(first) if i not in used_first]
    left_second = [e for j, e in enumerate(ordered) if j not in used_second]
    return pairs, left_first, left_second


def _events(session: Session, visit_id: UUID, start: datetime, end: datetime) -> list[Event]:
    obs = models.Observation
    columns = (
        obs.id,
        obs.occurred_at,
        obs.category,
        obs.ended_at,
        obs.role,
        obs.tool,
        obs.effect,
        obs.interruption_source,
        obs.severity,
    )
    statement: Any = (
        sa_select(*(col(c) for c in columns))
        .where(
            col(obs.visit_id) == visit_id,
            col(obs.deleted).is_(False),
            col(obs.occurred_at) >= start,
            col(obs.occurred_at) <= end,
        )
        .order_by(col(obs.occurred_at))
    )
    return [Event(*row) for row in session.exec(statement).all()]


def _answer(event: Event, attribute: str) -> str:
    return str(getattr(event, attribute) or UNSET)


def deeper_agreement(
    first: Sequence[Event],
    second: Sequence[Event],
    pairs: Sequence[tuple[Event, Event]],
    overlap: tuple[datetime, datetime],
    slice_seconds: int,
) -> DeeperAgreement:
    def spans(events: Sequence[Event]) -> list[TimedState]:
        return [(e.at, e.ended_at, e.category) for e in events if e.ended_at is not None]

    timed = [(a, b) for a, b in pairs if a.ended_at is not None and b.ended_at is not None]
    return DeeperAgreement(
        category=kappa_with_interval([(a.category, b.category) for a, b in pairs]),
        attributes={
            name: kappa_with_interval([(_answer(a, name), _answer(b, name)) for a, b in pairs])
            for name in ATTRIBUTES_AGREED
        },
        slice_seconds=slice_seconds,
        time_slices=time_slice_kappa(spans(first), spans(second), *overlap, slice_seconds),
        durations=concordance(
            [
                ((a.ended_at - a.at).total_seconds(), (b.ended_at - b.at).total_seconds())
                for a, b in timed
                if a.ended_at is not None and b.ended_at is not None
            ]
        ),
        sequence=sequence_agreement([e.category for e in first], [e.category for e in second]),
    )


def paired_visits(
    session: Session,
    allowed_structure_ids: Collection[int] | None,
    window: timedelta = MATCH_WINDOW,
    slice_seconds: int = DEFAULT_SLICE_SECONDS,
) -> list[PairedVisit]:
    """Every pair of visits by two observers in the same unit whose times overlap, with their agreement."""
    first, second = aliased(models.Visit), aliased(models.Visit)
    observer_a, observer_b = aliased(models.Observer), aliased(models.Observer)
    statement = (
        sa_select(
            first,
            second,
            models.Structure,
            col(models.Unit.name),
            col(observer_a.display_name),
            col(observer_b.display_name),
        )
        .join(second, col(second.unit_id) == col(first.unit_id))
        .join(models.Structure, col(models.Structure.id) == col(first.structure_id))
        .join(models.Unit, col(models.Unit.id) == col(first.unit_id))
        .join(observer_a, col(observer_a.id) == col(first.observer_id))
        .join(observer_b, col(observer_b.id) == col(second.observer_id))
        .where(
            col(first.observer_id) < col(second.observer_id),
            col(first.deleted).is_(False),
            col(second.deleted).is_(False),
            col(first.ended_at).is_not(None),
            col(second.ended_at).is_not(None),
            col(first.started_at) < col(second.ended_at),
            col(second.started_at) < col(first.ended_at),
        )
        .order_by(col(first.started_at).desc())
    )
    if allowed_structure_ids is not None:
        statement = statement.where(col(first.structure_id).in_(list(allowed_structure_ids)))
    results = []
    labels_of: dict[int, dict[str, str]] = {}
    for visit_a, visit_b, structure, unit_name, name_a, name_b in session.execute(statement).all():
        assert visit_a.ended_at is not None and visit_b.ended_at is not None
        start = max(visit_a.started_at, visit_b.started_at)
        end = min(visit_a.ended_at, visit_b.ended_at)
        events_a, events_b = (
            _events(session, visit_a.id, start, end),
            _events(session, visit_b.id, start, end),
        )
        if structure.programme_id not in labels_of:  # every version's labels, read once per programme
            labels_of[structure.programme_id] = grid_labels(session, structure.programme_id)["category"]
        category_labels = labels_of[structure.programme_id]
        pairs, only_a, only_b = match_events(events_a, events_b, window)
        results.append(
            PairedVisit(
                first_visit_id=visit_a.id,
                second_visit_id=visit_b.id,
                structure_id=structure.id or 0,
                structure_name=structure.name,
                timezone=structure.timezone,
                unit_name=unit_name,
                first_observer=name_a,
                second_observer=name_b,
                overlap_start=start,
                overlap_end=end,
                only_first=len(only_a),
                only_second=len(only_b),
                category_labels=category_labels,
                agreement=cohen_kappa([(a.category, b.category) for a, b in pairs]),
                deeper=deeper_agreement(events_a, events_b, pairs, (start, end), slice_seconds),
            )
        )
    return results
