"""Gestures that must never lose an observation: a deletion held under the undo bar survives a crash."""

from __future__ import annotations

from mobile.store import Store
from tests.conftest import DemoSite
from tests.mobile.conftest import Tablet
from tests.mobile.test_enrolment_screen import screenshot, snapshot, tap, wait_for
from tests.mobile.test_offline_sync import enrolled_tablet_in_a_visit


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
