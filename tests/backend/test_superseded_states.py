"""Nothing a tablet sent is silently lost: states that lost a conflict, or came after a deletion, are
shown to facilitators on the observation's page and in its API detail (docs/sync.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend import models
from tests.databases import DATABASE_KINDS
from tests.factories import (
    FACILITATOR,
    VIEWER,
    DemoWeb,
    Tablet,
    demo_web,
    enrolled_tablet,
    observation,
    statuses,
)


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("superseded")) as demo:
        yield demo


def two_tablets_of_one_observer(site: DemoWeb) -> tuple[Tablet, Tablet]:
    """The viewer's structure, so that the read-only account could see the observation if it were live."""
    structure_id = site.user(VIEWER).structure_id
    assert structure_id is not None
    with site.session() as session:
        structure = session.get_one(models.Structure, structure_id)
        observer = session.exec(
            select(models.Observer).where(models.Observer.programme_id == structure.programme_id)
        ).first()
        unit = session.exec(select(models.Unit).where(models.Unit.structure_id == structure_id)).first()
        assert observer is not None and observer.id is not None and unit is not None and unit.id is not None
        return (
            enrolled_tablet(TestClient(site.app), session, observer.id, structure_id, unit.id, label="A"),
            enrolled_tablet(TestClient(site.app), session, observer.id, structure_id, unit.id, label="B"),
        )


def test_overwritten_and_post_delete_states_are_shown_to_facilitators(site: DemoWeb) -> None:
    first, second = two_tablets_of_one_observer(site)
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

    facilitator = site.browser(FACILITATOR)
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
    assert site.browser(VIEWER).api("GET", f"/api/v1/observations/{kept['id']}").status_code == 404


def test_a_live_observation_shows_no_replaced_state(site: DemoWeb) -> None:
    tablet, _ = two_tablets_of_one_observer(site)
    visit = tablet.visit()
    plain = observation(visit["id"], id=str(uuid.uuid4()))
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", plain))
    body = site.browser(FACILITATOR).api("GET", f"/api/v1/observations/{plain['id']}").json()
    assert (body["deleted"], body["revisions"], body["clock_suspect"]) == (False, [], False)
