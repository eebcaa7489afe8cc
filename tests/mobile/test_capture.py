"""What a tap, a timer, an undo and the end of a visit write to the store (no window needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mobile.capture import (
    end_visit,
    log_observation,
    running_timers,
    start_visit,
    stop_timer,
    summarise,
    undo,
)
from mobile.store import Store
from shared.taxonomy import current_taxonomy

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TAXONOMY = current_taxonomy()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "tablet.db")


def test_a_visit_and_its_taps_are_queued_in_the_order_they_happened(store: Store) -> None:
    visit = start_visit(
        store,
        structure_id=1,
        unit_id=2,
        observer_id=3,
        observed_roles=["ide"],
        context_note="Matin",
        now=START,
    )
    first = log_observation(store, visit.id, "interruption", START + timedelta(minutes=1))
    second = log_observation(store, visit.id, "alert", START + timedelta(minutes=2))
    assert store.current_visit() == visit
    assert [(e.entity, e.record_id) for e in store.pending(10)] == [
        ("visit", str(visit.id)),
        ("observation", str(first.id)),
        ("observation", str(second.id)),
    ]
    assert second.occurred_at == START + timedelta(minutes=2) and second.ended_at is None


def test_timers_run_side_by_side_and_stop_with_their_own_end(store: Store) -> None:
    visit = start_visit(
        store, structure_id=1, unit_id=2, observer_id=3, observed_roles=[], context_note=None, now=START
    )
    failure = log_observation(store, visit.id, "system_failure", START + timedelta(minutes=1))
    login = log_observation(store, visit.id, "login", START + timedelta(minutes=2))
    log_observation(
        store, visit.id, "interruption", START + timedelta(minutes=3)
    )  # not timed: never "running"
    assert {o.id for o in running_timers(store, visit.id, TAXONOMY)} == {failure.id, login.id}
    stopped = stop_timer(store, failure.id, START + timedelta(minutes=4))
    assert stopped.duration_seconds == 180
    assert [o.id for o in running_timers(store, visit.id, TAXONOMY)] == [login.id]


def test_a_clock_set_back_never_ends_a_timer_before_it_started(store: Store) -> None:
    visit = start_visit(
        store, structure_id=1, unit_id=2, observer_id=3, observed_roles=[], context_note=None, now=START
    )
    timer = log_observation(store, visit.id, "workaround", START + timedelta(minutes=5))
    assert stop_timer(store, timer.id, START).ended_at == timer.occurred_at


def test_undo_is_a_deletion_sent_like_any_edit(store: Store) -> None:
    visit = start_visit(
        store, structure_id=1, unit_id=2, observer_id=3, observed_roles=[], context_note=None, now=START
    )
    mistake = log_observation(store, visit.id, "paper", START + timedelta(minutes=1))
    undo(store, mistake.id)
    assert store.observations(visit.id) == []
    [_, entry] = store.pending(10)
    assert (entry.record_id, entry.data["deleted"]) == (str(mistake.id), True)


def test_ending_a_visit_stops_its_timers_and_frees_the_capture_screen(store: Store) -> None:
    visit = start_visit(
        store, structure_id=1, unit_id=2, observer_id=3, observed_roles=[], context_note=None, now=START
    )
    timer = log_observation(store, visit.id, "information_search", START + timedelta(minutes=10))
    ended = end_visit(store, visit.id, TAXONOMY, START + timedelta(hours=1))
    assert ended.ended_at == START + timedelta(hours=1)
    stopped = store.observation(timer.id)
    assert stopped is not None and stopped.ended_at == ended.ended_at
    assert store.current_visit() is None


def test_summary_counts_by_category_and_gives_a_rate_per_observed_hour(store: Store) -> None:
    visit = start_visit(
        store, structure_id=1, unit_id=2, observer_id=3, observed_roles=[], context_note=None, now=START
    )
    for minute, category in enumerate(["alert", "interruption", "alert", "login", "paper"], start=1):
        log_observation(store, visit.id, category, START + timedelta(minutes=minute))
    undo(store, store.recent_observations(visit.id, 1)[0].id)  # the paper one
    summary = summarise(visit, store.observations(visit.id), TAXONOMY, START + timedelta(minutes=30))
    assert summary.total == 4
    assert summary.counts == [("interruption", 1), ("login", 1), ("alert", 2)]  # the taxonomy's order
    assert summary.running_timers == 1
    assert summary.rate_per_hour == pytest.approx(8.0)
    too_short = summarise(visit, [], TAXONOMY, START + timedelta(seconds=40))
    assert too_short.rate_per_hour is None
