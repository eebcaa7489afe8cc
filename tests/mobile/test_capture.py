"""What a tap (with who is followed and the tool in hand), a timer, an undo and the end of a visit write to
the store (no window needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mobile.capture import (
    end_visit,
    is_enriched,
    log_observation,
    reopen_visit,
    running_timers,
    start_visit,
    stop_timer,
    summarise,
    undo,
)
from mobile.capture_context import (
    TOOLS_SHOWN,
    CaptureContext,
    followed_roles,
    load_context,
    save_context,
    tools_offered,
)
from mobile.interruptions import (
    answer_resumption,
    enrichment_order,
    interrupted_timer,
    interrupts,
    paused_timers,
    quick_attributes,
)
from mobile.store import Store
from shared.schema import Visit
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


def test_a_tap_is_marked_enriched_once_anything_beyond_its_context_is_said(store: Store) -> None:
    visit = start_visit(
        store, structure_id=1, unit_id=2, observer_id=3, observed_roles=[], context_note=None, now=START
    )
    tap = log_observation(store, visit.id, "paper", START + timedelta(minutes=1))
    assert not is_enriched(tap)
    assert not is_enriched(tap.model_copy(update={"grid_attributes": {"mood": []}}))
    for said in (
        {"effect": "negative"},
        {"note": "Relève retardée"},
        {"grid_attributes": {"mood": ["tense"]}},
    ):
        assert is_enriched(tap.model_copy(update=said)), said  # a value of an added attribute counts too


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
    assert summary.rate_per_hour() == pytest.approx(8.0)
    assert summary.rate_per_hour(2) == pytest.approx(4.0)  # the alerts alone
    too_short = summarise(visit, [], TAXONOMY, START + timedelta(minutes=9, seconds=59))
    assert too_short.rate_per_hour() is None  # under ten minutes a rate means nothing


def test_summary_gives_timer_durations_and_the_share_of_interruptions_resumed(store: Store) -> None:
    visit = start_visit(
        store, structure_id=1, unit_id=2, observer_id=3, observed_roles=[], context_note=None, now=START
    )
    for start_minute, minutes in [(1, 2), (5, 4), (12, 9)]:
        timer = log_observation(store, visit.id, "login", START + timedelta(minutes=start_minute))
        stop_timer(store, timer.id, START + timedelta(minutes=start_minute + minutes))
    log_observation(store, visit.id, "system_failure", START + timedelta(minutes=20))  # still running
    answers = [True, False, True, None]
    for minute, resumed in enumerate(answers, start=30):
        interruption = log_observation(store, visit.id, "interruption", START + timedelta(minutes=minute))
        if resumed is not None:
            store.edit_observation(interruption.id, task_resumed=resumed)
    summary = summarise(visit, store.observations(visit.id), TAXONOMY, START + timedelta(hours=1))
    [login] = summary.timers
    assert (login.category, login.count, login.total_seconds, login.median_seconds) == ("login", 3, 900, 240)
    figures = summary.interruptions
    assert (figures.count, figures.answered, figures.resumed) == (4, 3, 2)
    assert figures.share_resumed == pytest.approx(2 / 3)


# --- the capture context: who is followed, the tool in hand ---------------------------------------


def _visit(store: Store, roles: list[str]) -> Visit:
    return start_visit(
        store, structure_id=1, unit_id=2, observer_id=3, observed_roles=roles, context_note=None, now=START
    )


def test_a_visit_starts_following_its_first_professional_with_no_tool(store: Store) -> None:
    visit = _visit(store, ["aide_soignant", "ide"])
    assert load_context(store, visit) == CaptureContext(role="aide_soignant", tool=None)
    assert followed_roles(visit, TAXONOMY) == ["aide_soignant", "ide"]


def test_a_visit_naming_no_professional_offers_the_whole_grid_and_follows_nobody_yet(store: Store) -> None:
    visit = _visit(store, [])
    assert load_context(store, visit) == CaptureContext()
    assert followed_roles(visit, TAXONOMY) == [v.code for v in TAXONOMY.attribute("role").values]


def test_a_tap_records_who_is_followed_and_the_tool_in_hand(store: Store) -> None:
    visit = _visit(store, ["aide_soignant", "ide"])
    context = CaptureContext(role="ide", tool="phone")
    save_context(store, visit.id, context)
    tapped = log_observation(
        store, visit.id, "interruption", START + timedelta(minutes=1), load_context(store, visit)
    )
    assert (tapped.role, tapped.tool) == ("ide", "phone")
    [_, entry] = store.pending(10)
    assert (entry.data["role"], entry.data["tool"]) == ("ide", "phone")


def test_a_timer_keeps_the_context_of_its_start_when_the_context_changes(store: Store) -> None:
    visit = _visit(store, ["ide", "medecin"])
    timer = log_observation(
        store, visit.id, "login", START, CaptureContext(role="ide", tool="patient_record")
    )
    save_context(store, visit.id, CaptureContext(role="medecin", tool=None))
    stopped = stop_timer(store, timer.id, START + timedelta(minutes=2))
    assert (stopped.role, stopped.tool) == ("ide", "patient_record")


def test_the_context_survives_a_restart_and_belongs_to_its_visit(tmp_path: Path) -> None:
    store = Store(tmp_path / "tablet.db")
    visit = _visit(store, ["ide"])
    save_context(store, visit.id, CaptureContext(role=None, tool="badge"))
    store.close()
    reopened = Store(tmp_path / "tablet.db")
    assert load_context(reopened, visit) == CaptureContext(role=None, tool="badge")
    other = _visit(reopened, ["medecin"])
    assert load_context(reopened, other) == CaptureContext(role="medecin", tool=None)


def test_the_most_used_tools_come_first_and_the_one_in_hand_is_always_offered(store: Store) -> None:
    visit = _visit(store, ["ide"])
    for minute, tool in enumerate(["printer", "printer", "badge", "printer", "badge", "messaging"]):
        log_observation(
            store, visit.id, "paper", START + timedelta(minutes=minute), CaptureContext(tool=tool)
        )
    offered = tools_offered(store, TAXONOMY)
    assert len(offered) == TOOLS_SHOWN
    assert offered[:3] == ["printer", "badge", "messaging"]
    assert offered[3:] == ["patient_record", "care_plan_software"]  # then the grid's order
    assert "other" in tools_offered(store, TAXONOMY, keep="other")


# --- interruptions: the task interrupted, resumed or dropped -----------------------------------------


def test_an_interruption_pauses_the_timer_started_last_until_the_observer_answers(store: Store) -> None:
    visit = _visit(store, ["ide"])
    search = log_observation(store, visit.id, "information_search", START)
    login = log_observation(store, visit.id, "login", START + timedelta(minutes=1))
    assert interrupted_timer([search, login]) == login and interrupted_timer([]) is None
    interruption = log_observation(
        store, visit.id, "interruption", START + timedelta(minutes=2), interrupted=login
    )
    assert interruption.interrupted_id == login.id
    assert paused_timers(store, visit.id) == {login.id: interruption}
    answered, stopped = answer_resumption(store, interruption.id, True, START + timedelta(minutes=3))
    assert (answered.task_resumed, answered.resumed_at, stopped) == (True, START + timedelta(minutes=3), None)
    assert paused_timers(store, visit.id) == {}
    assert store.pending(10)[-1].data["resumed_at"] is not None  # on its way to the server


def test_a_task_not_resumed_ends_its_timer_when_the_interruption_came(store: Store) -> None:
    visit = _visit(store, ["ide"])
    timer = log_observation(store, visit.id, "double_entry", START)
    interruption = log_observation(
        store, visit.id, "interruption", START + timedelta(minutes=4), interrupted=timer
    )
    answered, stopped = answer_resumption(store, interruption.id, False, START + timedelta(minutes=9))
    assert (answered.task_resumed, answered.resumed_at) == (False, None)
    assert stopped is not None and stopped.ended_at == START + timedelta(minutes=4)


def test_the_quick_strip_offers_the_categorys_own_attribute_first() -> None:
    assert quick_attributes(TAXONOMY, "interruption") == ["interruption_source", "effect"]
    assert quick_attributes(TAXONOMY, "paper") == ["effect", "severity"]
    assert interrupts(TAXONOMY, "interruption") and not interrupts(TAXONOMY, "alert")


def test_the_enrichment_screen_orders_its_groups_by_the_category() -> None:
    # The category's own attribute first, then what the quick strip offers, then the grid's order.
    assert enrichment_order(TAXONOMY, "interruption") == [
        "interruption_source",
        "effect",
        "severity",
        "role",
        "tool",
        "dimension",
        "impact",
    ]
    # An attribute that applies to other categories only is not offered at all.
    paper = ["effect", "severity", "role", "tool", "dimension", "impact"]
    assert enrichment_order(TAXONOMY, "paper") == paper


def test_an_ended_visit_reopens_within_a_day_and_only_when_none_is_under_way(store: Store) -> None:
    visit = _visit(store, ["ide"])
    end_visit(store, visit.id, TAXONOMY, START + timedelta(hours=1))
    other = _visit(store, ["ide"])
    with pytest.raises(ValueError, match="visit_not_reopenable"):
        reopen_visit(store, visit.id, START + timedelta(hours=2))  # another visit is under way
    end_visit(store, other.id, TAXONOMY, START + timedelta(hours=2))
    with pytest.raises(ValueError, match="visit_not_reopenable"):
        reopen_visit(store, visit.id, START + timedelta(days=1, hours=2))  # past a day: it is the record
    reopened = reopen_visit(store, visit.id, START + timedelta(hours=3))
    assert (reopened.ended_at, reopened.version, store.current_visit()) == (None, 3, reopened)
    lines = {line.visit.id: line for line in store.recent_visits(5)}
    assert (lines[other.id].observations, lines[other.id].unsent) == (0, 1)  # its creation and end, collapsed
