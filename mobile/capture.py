"""What the observer does during a visit, as plain functions on the store: no Kivy, testable headless.

A tap is one small transaction (the record and its outbox entry) and nothing else, so the capture
screen never waits: no network, no scan of the visit. A timed category's timer is an observation
saved at the first tap with no end, and given its end at the second: a crash while it runs loses
nothing, and the timer is still running when the app comes back.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median

from mobile.capture_context import CaptureContext
from mobile.store import Store
from shared.schema import Observation, Visit
from shared.taxonomy import Taxonomy


def _now() -> datetime:
    return datetime.now(UTC)


def start_visit(
    store: Store,
    *,
    structure_id: int,
    unit_id: int,
    observer_id: int,
    observed_roles: list[str],
    context_note: str | None,
    now: datetime | None = None,
) -> Visit:
    at = now or _now()
    grid_version = store.newest_grid_number()  # the visit keeps this grid to its end, whatever comes after
    grid = store.grid(grid_version)
    visit = Visit.begin(
        structure_id,
        unit_id,
        observer_id,
        at,
        context={"taxonomy": grid} if grid is not None else None,
        grid_version=grid_version,
        observed_roles=observed_roles,
        context_note=context_note,
    )
    store.begin_visit(visit)
    return visit


def log_observation(
    store: Store,
    visit_id: uuid.UUID,
    category: str,
    now: datetime | None = None,
    context: CaptureContext | None = None,
    interrupted: Observation | None = None,
) -> Observation:
    """One tap: an observation at this instant, on disk when this returns (a timed one starts its timer).

    It carries the capture context: the professional followed and the tool in hand when it was tapped;
    an interruption, the timer it interrupted.
    """
    at = now or _now()
    followed = context or CaptureContext()
    observation = Observation.logged(
        visit_id,
        at,
        category,
        context=store.checks(store.visit(visit_id)),  # the grid the visit started with
        role=followed.role,
        tool=followed.tool,
        interrupted_id=None if interrupted is None else interrupted.id,
    )
    store.save_observation(observation)
    return observation


def stop_timer(store: Store, observation_id: uuid.UUID, now: datetime | None = None) -> Observation:
    current = store.observation(observation_id)
    if current is None:
        raise KeyError(observation_id)
    # A tablet clock set back while a timer ran must not produce an end before the start.
    ended = max(now or _now(), current.occurred_at)
    return store.edit_observation(observation_id, ended_at=ended)


def undo(store: Store, observation_id: uuid.UUID) -> Observation:
    """Undo is a deletion sent like any edit: whether or not an earlier state already reached the
    server (a push may be on its way this very moment), the server ends up with the record deleted."""
    return store.delete_observation(observation_id)


# An ended visit can be reopened for corrections this long after its end; past it, it is the record.
REOPEN_WITHIN = timedelta(days=1)


def can_reopen(visit: Visit, now: datetime | None = None) -> bool:
    return visit.ended_at is not None and (now or _now()) - visit.ended_at <= REOPEN_WITHIN


def reopen_visit(store: Store, visit_id: uuid.UUID, now: datetime | None = None) -> Visit:
    """Reopen an ended visit (within a day, while no other is under way): capture records into it again,
    and its corrections are sent like any edit."""
    visit = store.visit(visit_id)
    if visit is None:
        raise KeyError(visit_id)
    if store.current_visit() is not None or not can_reopen(visit, now):
        raise ValueError("visit_not_reopenable")
    return store.reopen_visit(visit_id)


def running_timers(store: Store, visit_id: uuid.UUID, taxonomy: Taxonomy) -> list[Observation]:
    timed = {c.code for c in taxonomy.categories if c.timed}
    return [o for o in store.observations(visit_id) if o.category in timed and o.ended_at is None]


def end_visit(store: Store, visit_id: uuid.UUID, taxonomy: Taxonomy, now: datetime | None = None) -> Visit:
    """Timers still running stop when the visit ends; then the visit gets its end time."""
    at = now or _now()
    for observation in running_timers(store, visit_id, taxonomy):
        stop_timer(store, observation.id, at)
    visit = store.visit(visit_id)
    if visit is None:
        raise KeyError(visit_id)
    return store.edit_visit(visit_id, ended_at=max(at, visit.started_at))


# Under this much observation a rate per hour says more about chance than about the ward.
MIN_RATE_SECONDS = 600


@dataclass(frozen=True)
class TimerFigures:
    """The stopped timers of one timed category: how many, how long in all, the median length."""

    category: str
    count: int
    total_seconds: float
    median_seconds: float


@dataclass(frozen=True)
class InterruptionFigures:
    """Interruptions of the visit and, among those where the observer said, how many saw the task resumed."""

    count: int
    answered: int
    resumed: int

    @property
    def share_resumed(self) -> float | None:
        return self.resumed / self.answered if self.answered else None


@dataclass(frozen=True)
class VisitSummary:
    duration_seconds: float
    total: int
    counts: list[tuple[str, int]]  # category code, count; in the taxonomy's order, categories seen only
    running_timers: int
    timers: list[TimerFigures]
    interruptions: InterruptionFigures

    def rate_per_hour(self, count: int | None = None) -> float | None:
        """Events (all, or ``count`` of them) per observed hour; None under ten minutes observed."""
        if self.duration_seconds < MIN_RATE_SECONDS:
            return None
        return (self.total if count is None else count) / (self.duration_seconds / 3600)


def summarise(
    visit: Visit, observations: list[Observation], taxonomy: Taxonomy, now: datetime | None = None
) -> VisitSummary:
    end = visit.ended_at or now or _now()
    live = [o for o in observations if not o.deleted]
    counted = Counter(o.category for o in live)
    timed = {c.code for c in taxonomy.categories if c.timed}
    lengths: dict[str, list[float]] = {}
    for observation in live:
        if observation.duration_seconds is not None and observation.category in timed:
            lengths.setdefault(observation.category, []).append(observation.duration_seconds)
    interrupting = set(taxonomy.attribute("interruption_source").applies_to or ())
    interruptions = [o for o in live if o.category in interrupting]
    return VisitSummary(
        duration_seconds=max(0.0, (end - visit.started_at).total_seconds()),
        total=len(live),
        counts=[(c.code, counted[c.code]) for c in taxonomy.categories if counted[c.code]],
        running_timers=sum(1 for o in live if o.category in timed and o.ended_at is None),
        timers=[
            TimerFigures(c.code, len(lengths[c.code]), sum(lengths[c.code]), median(lengths[c.code]))
            for c in taxonomy.categories
            if c.code in lengths
        ],
        interruptions=InterruptionFigures(
            count=len(interruptions),
            answered=sum(1 for o in interruptions if o.task_resumed is not None),
            resumed=sum(1 for o in interruptions if o.task_resumed),
        ),
    )


def is_enriched(observation: Observation) -> bool:
    """Something beyond the tap and its context was said: a source, a dimension, an effect, a note, a value
    of an attribute the programme added…: the recent list marks it « complété »."""
    return bool(
        observation.interruption_source
        or observation.dimensions
        or observation.effect
        or observation.impacts
        or observation.severity
        or observation.note
        or any(observation.grid_attributes.values())
    )
