"""Interruptions as work-observation studies record them (WOMBAT): the task they interrupted, whether it was
taken up again and after how long; and the few attributes the quick strip offers after a tap. No Kivy.

An interruption tapped while timers run is linked to the timer started last, which shows as paused until
the observer says whether the task was resumed: yes (the timer goes on; the time of resumption is kept),
no (the task was dropped: its timer ends when the interruption came) or later.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mobile.store import Store
from shared.schema import ATTRIBUTE_FIELDS, Observation
from shared.taxonomy import Taxonomy

# The strip offers at most this many attribute groups: what matters most for the category, nothing more.
QUICK_GROUPS = 2
QUICK_FALLBACK = ("effect", "severity")


def interrupted_timer(running: list[Observation]) -> Observation | None:
    """The task an interruption interrupts: the timer started last, if any runs."""
    return max(running, key=lambda o: o.occurred_at, default=None)


def interrupts(taxonomy: Taxonomy, category: str) -> bool:
    """Whether the category is an interruption: the grid's interruption source applies to it."""
    applies_to = taxonomy.attribute("interruption_source").applies_to
    return applies_to is not None and category in applies_to


def quick_attributes(taxonomy: Taxonomy, category: str) -> list[str]:
    """The attributes the strip offers after a tap: the category's own first (an interruption's source),
    then effect and severity, single-valued ones only (one touch each). The attributes a programme added
    to its grid are asked on the enrichment screen only: the strip writes the record's own fields."""
    own = [
        a.code
        for a in taxonomy.attributes
        if a.applies_to is not None
        and category in a.applies_to
        and not a.multiple
        and a.code in ATTRIBUTE_FIELDS
    ]
    return [*own, *(c for c in QUICK_FALLBACK if c not in own)][:QUICK_GROUPS]


def enrichment_order(taxonomy: Taxonomy, category: str) -> list[str]:
    """The attributes the enrichment screen shows for a category, in the order it shows them: the quick
    strip's first (the category's own, then effect and severity), then the others that apply to it, in the
    grid's order."""
    applying = [
        a.code
        for a in taxonomy.attributes
        if (a.applies_to is None or category in a.applies_to) and a.code in ATTRIBUTE_FIELDS
    ]  # the record's own fields: those a programme added come after them (screens/added_attributes.py)
    own = [
        a.code
        for a in taxonomy.attributes
        if a.applies_to is not None and category in a.applies_to and a.multiple
    ]
    first = [*quick_attributes(taxonomy, category), *own]
    rest = [code for code in QUICK_FALLBACK if code in applying]
    ordered = [*first, *rest, *applying]
    return [code for index, code in enumerate(ordered) if code in applying and code not in ordered[:index]]


def answer_resumption(
    store: Store, interruption_id: uuid.UUID, resumed: bool, now: datetime | None = None
) -> tuple[Observation, Observation | None]:
    """Record whether the interrupted task was resumed (and when); a task dropped ends its timer at the
    interruption. Returns the interruption and the timer it stopped, if any."""
    interruption = store.observation(interruption_id)
    if interruption is None:
        raise KeyError(interruption_id)
    at = max(now or datetime.now(UTC), interruption.occurred_at)
    answered = store.edit_observation(
        interruption_id, task_resumed=resumed, resumed_at=at if resumed else None
    )
    stopped = None
    if not resumed and interruption.interrupted_id is not None:
        timer = store.observation(interruption.interrupted_id)
        if timer is not None and timer.ended_at is None and not timer.deleted:
            ended = max(interruption.occurred_at, timer.occurred_at)
            stopped = store.edit_observation(timer.id, ended_at=ended)
    return answered, stopped


def paused_timers(store: Store, visit_id: uuid.UUID) -> dict[uuid.UUID, Observation]:
    """Running timers an interruption paused and nobody said yet whether the task was resumed: timer id
    -> the interruption (read once when the capture screen opens)."""
    observations = store.observations(visit_id)
    running = {o.id for o in observations if o.ended_at is None}
    return {
        o.interrupted_id: o
        for o in observations
        if o.interrupted_id in running and o.task_resumed is None and o.interrupted_id is not None
    }
