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
from datetime import UTC, datetime

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
    visit = Visit.begin(
        structure_id, unit_id, observer_id, at, observed_roles=observed_roles, context_note=context_note
    )
    store.begin_visit(visit)
    return visit


def log_observation(
    store: Store, visit_id: uuid.UUID, category: str, now: datetime | None = None
) -> Observation:
    """One tap: an observation at this instant, on disk when this returns (a timed one starts its timer)."""
    at = now or _now()
    observation = Observation.logged(visit_id, at, category)
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


@dataclass(frozen=True)
class VisitSummary:
    duration_seconds: float
    total: int
    counts: list[tuple[str, int]]  # category code, count; in the taxonomy's order, categories seen only
    running_timers: int

    @property
    def rate_per_hour(self) -> float | None:
        """Events per observed hour; None under a minute, where a rate would mean nothing."""
        if self.duration_seconds < 60:
            return None
        return self.total / (self.duration_seconds / 3600)


def summarise(
    visit: Visit, observations: list[Observation], taxonomy: Taxonomy, now: datetime | None = None
) -> VisitSummary:
    end = visit.ended_at or now or _now()
    live = [o for o in observations if not o.deleted]
    counted = Counter(o.category for o in live)
    timed = {c.code for c in taxonomy.categories if c.timed}
    return VisitSummary(
        duration_seconds=max(0.0, (end - visit.started_at).total_seconds()),
        total=len(live),
        counts=[(c.code, counted[c.code]) for c in taxonomy.categories if counted[c.code]],
        running_timers=sum(1 for o in live if o.category in timed and o.ended_at is None),
    )
