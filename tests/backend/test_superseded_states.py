"""Nothing a tablet sent is silently lost: states that lost a conflict, or came after a deletion, are
shown to facilitators on the observation's page and in its API detail (docs/sync.md)."""

from __future__ import annotations

import uuid

from tests.factories import (
    FACILITATOR,
    VIEWER,
    DemoWeb,
    observation,
    statuses,
)


def test_overwritten_and_post_delete_states_are_shown_to_facilitators(demo: DemoWeb) -> None:
    first, second = (demo.tablet(), demo.tablet())
    visit = first.visit()
    kept = observation(visit["id"], note="état de la tablette A")
    assert statuses(first.push(first.mutation("visit", visit), first.mutation("observation", kept))) == [
        "applied",
        "applied",
    ]
    # The same observer's other tablet writes it too: the server's order wins, A's state is kept aside.
    assert statuses(second.push(second.mutation("observation", {**kept, "note": "état de B"}))) == ["applied"]
    # Tablet A deletes it (B's state is kept), then B sends an edit after the deletion (kept too).
    deletion = {**kept, "version": 2, "deleted": True}
    assert statuses(first.push(first.mutation("observation", deletion))) == ["applied"]
    late = {**kept, "version": 3, "note": "après suppression"}
    assert statuses(second.push(second.mutation("observation", late))) == ["superseded"]

    facilitator = demo.browser(FACILITATOR)
    detail = facilitator.api("GET", f"/api/v1/observations/{kept['id']}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["deleted"] is True
    assert [(r["reason"], r["note"]) for r in body["revisions"]] == [
        ("overwritten_by_other_device", "état de la tablette A"),
        ("overwritten_by_other_device", "état de B"),
        ("edit_after_delete", "après suppression"),
    ]

    page = facilitator.get(f"/observations/{kept['id']}")
    assert page.status_code == 200
    assert "Supprimée par l'observateur" in page.text
    assert "Versions remplacées" in page.text
    assert "Reçue après la suppression" in page.text and "« après suppression »" in page.text
    assert "Enregistrer le statut" not in page.text  # nobody reviews a deleted observation
    refused = facilitator.api(
        "POST", f"/api/v1/observations/{kept['id']}/review-status", json={"review_status": "validated"}
    )
    assert refused.status_code == 404

    # A read-only account does not open deleted observations.
    assert demo.browser(VIEWER).api("GET", f"/api/v1/observations/{kept['id']}").status_code == 404


def test_a_live_observation_shows_no_replaced_state(demo: DemoWeb) -> None:
    tablet, _ = (demo.tablet(), demo.tablet())
    visit = tablet.visit()
    plain = observation(visit["id"], id=str(uuid.uuid4()))
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", plain))
    body = demo.browser(FACILITATOR).api("GET", f"/api/v1/observations/{plain['id']}").json()
    assert (body["deleted"], body["revisions"], body["clock_suspect"]) == (False, [], False)
