"""Gestures that must never lose an observation: a deletion held under the undo bar survives a crash."""

from __future__ import annotations

from typing import Any

from mobile.store import Store
from shared.taxonomy import current_taxonomy
from tests.conftest import DemoSite
from tests.mobile.conftest import Tablet
from tests.mobile.test_enrolment_screen import screenshot, snapshot, tap, wait_for
from tests.mobile.test_offline_sync import enrolled_tablet_in_a_visit
from tests.mobile.test_visit_capture import server_records


def test_a_crash_while_the_undo_bar_shows_loses_nothing(tablet: Tablet, demo_site: DemoSite) -> None:
    _issued, visit = enrolled_tablet_in_a_visit(tablet, demo_site)
    tablet.run(
        "crash-under-undo-bar",
        crashes=True,
        steps=[
            wait_for(screen="capture"),
            tap("category_interruption"),
            wait_for(id="counter", contains=": 1"),
            tap("recent_0_delete"),  # then the tablet dies with the undo bar still shown
            wait_for(id="last_action", contains="Supprimé : "),
            {"do": "crash"},
        ],
    )
    again = tablet.run(
        "after-crash-under-undo-bar",
        steps=[wait_for(screen="capture"), snapshot("after"), screenshot("capture-after-undo-bar-crash")],
    )
    assert "Interruption" in again.text("after", "recent_0")
    assert again.text("after", "counter") == "Événements : 1"
    assert again.widget("after", "undo_delete")["disabled"] is True
    store = Store(tablet.store_path)
    try:
        kept = store.observations(visit.id)
        assert [o.category for o in kept] == ["interruption"]
        assert not any(entry.data["deleted"] for entry in store.pending(10))  # no deletion was sent
    finally:
        store.close()


def test_an_interruption_pauses_the_task_and_the_strip_records_its_source_and_resumption(
    tablet: Tablet, demo_site: DemoSite
) -> None:
    _issued, visit = enrolled_tablet_in_a_visit(tablet, demo_site)
    run = tablet.run(
        "interruption-strip",
        steps=[
            wait_for(screen="capture"),
            tap("category_double_entry"),  # the task under way, timed
            tap("category_interruption"),
            wait_for(id="category_double_entry", contains="en pause"),
            wait_for(id="quick", property="opacity", equals=1),
            snapshot("paused"),
            screenshot("capture-quick-strip"),
            tap("quick_interruption_source_colleague"),
            tap("quick_resumed_yes"),
            wait_for(id="category_double_entry", contains="en cours"),
            snapshot("resumed"),
            tap("category_paper"),
            wait_for(id="quick_effect_negative", property="disabled", equals=False),
            tap("quick_effect_negative"),
            wait_for(id="recent_0", contains="complété"),
            snapshot("paper enriched"),
        ],
    )
    assert run.text("paused", "category_double_entry").endswith("toucher pour reprendre")
    assert "en pause" in run.text("paused", "recent_1")
    assert run.widget("paused", "quick")["size_dp"][0] >= 1000  # the strip takes the status line's place
    assert run.widget("paused", "last_action")["size_dp"][0] == 0
    assert run.text("paused", "quick_resumed_later") == "plus tard"
    assert run.text("resumed", "last_action").startswith("Tâche reprise : ")
    assert "quick_resumed_yes" not in run.snapshots["paper enriched"]["widgets"]  # only after an interruption
    store = Store(tablet.store_path)
    try:
        by_category = {o.category: o for o in store.observations(visit.id)}
    finally:
        store.close()
    timer, interruption = by_category["double_entry"], by_category["interruption"]
    assert interruption.interrupted_id == timer.id and timer.ended_at is None
    assert (interruption.interruption_source, interruption.task_resumed, interruption.role) == (
        "colleague",
        True,
        "ide",
    )
    assert interruption.resumed_at is not None and interruption.resumed_at >= interruption.occurred_at
    assert by_category["paper"].effect == "negative"


def test_capture_summary_and_home_fit_the_screen_in_both_orientations(
    tablet: Tablet, demo_site: DemoSite
) -> None:
    enrolled_tablet_in_a_visit(tablet, demo_site)
    sizes = {"landscape": (1280, 800), "portrait": (800, 1280), "large": (1920, 1200)}
    steps: list[dict[str, object]] = [wait_for(screen="capture"), tap("category_double_entry")]
    for name, (width, height) in sizes.items():
        steps += [
            {"do": "resize", "width": width, "height": height},
            tap("category_interruption"),  # the quick strip shows, in the status line's place
            wait_for(id="quick", property="disabled", equals=False),
            snapshot(f"capture {name}"),
            tap("recent_0_edit"),  # the interruption just tapped, in the enrichment screen
            wait_for(screen="observation"),
            snapshot(f"observation {name}"),
            screenshot(f"observation-{name}"),
            tap("back"),
            wait_for(screen="capture"),
            tap("summary_button"),
            wait_for(screen="summary"),
            snapshot(f"summary {name}"),
            tap("back"),
            wait_for(screen="capture"),
            tap("home_button"),
            wait_for(screen="home"),
            snapshot(f"home {name}"),
            tap("visit_button"),  # « Reprendre la visite en cours »
            wait_for(screen="capture"),
        ]
    run = tablet.run("orientations", steps=steps, timeout=90)
    for name, (width, height) in sizes.items():
        assert run.snapshots[f"capture {name}"]["window"] == [width, height]
        for screen in ("home", "summary"):
            title = run.snapshots[f"{screen} {name}"]["widgets"]["title"]
            assert _top(title) >= height - 100, f"{screen} {name}"  # no blank band above it
        for screen in ("capture", "observation", "summary", "home"):
            off = [
                widget_id
                for widget_id, w in run.snapshots[f"{screen} {name}"]["widgets"].items()
                if w["size_dp"][0] > 0 and w["size_dp"][1] > 0 and not _inside(w, width, height)
            ]
            assert off == [], f"{screen} {name}: off screen {off}"
        widgets = run.snapshots[f"capture {name}"]["widgets"]
        categories = [w for widget_id, w in widgets.items() if widget_id.startswith("category_")]
        assert min(w["size_dp"][1] for w in categories) >= 100, name  # big targets, hit while walking
        assert widgets["quick_interruption_source_phone"]["size_dp"][0] >= 48, name
        assert widgets["follow_ide"]["size_dp"][1] >= 48, name
        # The enrichment screen: every group at once, nothing to scroll; the interruption's source first.
        enrich = run.snapshots[f"observation {name}"]
        assert enrich["scroll_views"] == 0, name
        chips = {k: w for k, w in enrich["widgets"].items() if k.startswith("attribute_")}
        assert len(chips) == 37, name  # the grid's 7 groups that apply to an interruption, all shown
        assert min(w["size_dp"][1] for w in chips.values()) >= 48, name
        source, effect = chips["attribute_interruption_source_phone"], chips["attribute_effect_negative"]
        assert _top(source) > _top(chips["attribute_role_ide"]) and _top(source) > _top(effect), name
        # Two columns side by side either way up, each group whole in one of them.
        assert _columns(chips) == 2, name
        note, save = enrich["widgets"]["note"], enrich["widgets"]["save"]
        assert _top(note) < min(_top(w) - w["size_dp"][1] for w in chips.values()) + 1, name  # under them
        assert _inside(save, width, height), name


def _columns(chips: dict[str, Any]) -> int:
    """How many columns the enrichment screen's groups stand in, checking that no group spills into the
    next column: every chip of a group lies left of where the next column begins."""
    codes = sorted((a.code for a in current_taxonomy().attributes), key=len, reverse=True)
    groups: dict[str, list[dict[str, Any]]] = {}
    for chip_id, chip in chips.items():
        code = next(code for code in codes if chip_id.startswith(f"attribute_{code}_"))
        groups.setdefault(code, []).append(chip)
    lefts = sorted({min(c["pos_dp"][0] for c in members) for members in groups.values()})
    for code, members in groups.items():
        left = min(c["pos_dp"][0] for c in members)
        right = max(c["pos_dp"][0] + c["size_dp"][0] for c in members)
        following = [x for x in lefts if x > left]
        assert not following or right <= following[0], code
    return len(lefts)


def _top(widget: dict[str, list[int]]) -> int:
    """The widget's top edge in window coordinates (y grows upwards)."""
    return widget["pos_dp"][1] + widget["size_dp"][1]


def _inside(widget: dict[str, list[int]], width: int, height: int) -> bool:
    (x, y), (w, h) = widget["pos_dp"], widget["size_dp"]
    return x >= 0 and y >= 0 and x + w <= width and y + h <= height


def test_a_visit_ended_by_mistake_reopens_from_home_and_its_corrections_reach_the_server(
    tablet: Tablet, demo_site: DemoSite
) -> None:
    issued, visit = enrolled_tablet_in_a_visit(tablet, demo_site, end_and_sync=True)
    run = tablet.run(
        "reopen",
        server_url=demo_site.url,
        timeout=90,
        steps=[
            wait_for(screen="home"),
            snapshot("home"),
            screenshot("home-visits"),
            tap("visit_reopen_0"),
            wait_for(screen="capture"),
            tap("category_alert"),  # the event forgotten before the visit was ended
            wait_for(id="counter", contains=": 1"),
            tap("summary_button"),
            wait_for(screen="summary"),
            tap("end_visit"),
            wait_for(id="confirm_end", property="disabled", equals=False),
            tap("confirm_end"),
            wait_for(screen="home"),
            tap("sync_now"),
            wait_for(id="visit_row_0", contains="envoyée", timeout=30),
            snapshot("synced"),
        ],
    )
    assert run.text("home", "visit_row_0").endswith("· 0 événement(s) · envoyée")
    assert "1 événement(s) · envoyée" in run.text("synced", "visit_row_0")
    visit_row, observations, _values = server_records(demo_site, issued.observer_id)
    assert visit_row.id == visit.id and visit_row.ended_at is not None and visit_row.version == 4
    assert [o.category for o in observations] == ["alert"]
