"""The review list's bulk actions beside « Ajouter à l'atelier »: one review status or one tag for the
ticked observations, from the page and the API; audited one by one, checked for identifiers, in scope."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import unquote_plus

from sqlmodel import select

from backend import models
from tests.factories import FACILITATOR, VIEWER, Browser, DemoWeb, observation


def _pushed(demo: DemoWeb, count: int) -> list[str]:
    tablet = demo.tablet()
    visit = tablet.visit()
    made = [observation(visit["id"]) for _ in range(count)]
    tablet.push(tablet.mutation("visit", visit), *(tablet.mutation("observation", o) for o in made))
    return [o["id"] for o in made]


def _post(browser: Browser, path: str, ids: list[str], **fields: str) -> Any:
    data = {"csrf_token": browser.csrf, "ids": ids, "back": "review_status=to_review", **fields}
    return browser.client.post(path, data=data, follow_redirects=False)


def _statuses(demo: DemoWeb, ids: list[str]) -> list[str]:
    with demo.session() as session:
        return [session.get_one(models.Observation, uuid.UUID(i)).review_status for i in ids]


def _tags(demo: DemoWeb, ids: list[str]) -> list[set[str]]:
    with demo.session() as session:
        rows = session.exec(select(models.ObservationTag)).all()
    return [{r.tag for r in rows if str(r.observation_id) == i} for i in ids]


def test_ticked_observations_get_one_status_and_one_tag_from_the_list(demo: DemoWeb) -> None:
    ids = _pushed(demo, 3)
    facilitator = demo.browser(FACILITATOR)
    listing = facilitator.get("/observations").text
    # Every row can be ticked (notes or not), and the list offers both actions.
    assert all(f'name="ids" value="{i}"' in listing for i in ids)
    assert (
        'formaction="/observations/bulk-status"' in listing
        and 'formaction="/observations/bulk-tags"' in listing
    )

    done = _post(facilitator, "/observations/bulk-status", ids[:2], review_status="validated")
    assert done.status_code == 303
    location = unquote_plus(done.headers["location"])
    assert location.startswith("/observations?review_status=to_review&message=")
    assert "2 observation(s) passée(s) au statut « Validée »" in location
    assert _statuses(demo, ids) == ["validated", "validated", "to_review"]
    with demo.session() as session:
        audited = session.exec(
            select(models.AuditEvent.target_id).where(models.AuditEvent.action == "observation.review_status")
        ).all()
    assert set(ids[:2]) <= set(audited)
    # Once more: nothing changes, and it says so.
    again = _post(facilitator, "/observations/bulk-status", ids[:2], review_status="validated")
    assert "0 observation(s)" in unquote_plus(again.headers["location"])

    tagged = _post(facilitator, "/observations/bulk-tags", ids, tag="  relève   du matin ")
    assert "Étiquette « relève du matin » ajoutée à 3 observation(s)" in unquote_plus(
        tagged.headers["location"]
    )
    assert _tags(demo, ids) == [{"relève du matin"}] * 3
    # A tag naming a patient tags none of them, and says why where it was asked.
    named = _post(facilitator, "/observations/bulk-tags", ids, tag="chambre de M. Martin")
    said = unquote_plus(named.headers["location"])
    assert said.startswith("/observations?review_status=to_review&message=") and "patient" in said
    assert _tags(demo, ids) == [{"relève du matin"}] * 3
    empty = _post(facilitator, "/observations/bulk-tags", ids, tag="   ")
    assert "message=" in empty.headers["location"]

    # The API does the same for scripts.
    answer = facilitator.api(
        "POST", "/api/v1/observations/statuses", json={"observation_ids": ids, "review_status": "to_discuss"}
    )
    assert (answer.status_code, answer.json()) == (200, {"changed": 3})
    assert facilitator.api(
        "POST", "/api/v1/observations/tags", json={"observation_ids": ids[:1], "tag": "atelier 2"}
    ).json() == {"changed": 1}
    assert _tags(demo, ids)[0] == {"relève du matin", "atelier 2"}


def test_bulk_actions_are_for_reviewers_and_for_observations_in_scope(demo: DemoWeb) -> None:
    ids = _pushed(demo, 2)
    viewer = demo.browser(VIEWER)
    assert 'name="ids"' not in viewer.get("/observations").text
    assert _post(viewer, "/observations/bulk-status", ids, review_status="validated").status_code == 403
    assert _post(viewer, "/observations/bulk-tags", ids, tag="x").status_code == 403
    # One id out of scope (unknown here): nothing changes at all.
    facilitator = demo.browser(FACILITATOR)
    unknown = str(uuid.uuid4())
    refused = facilitator.api(
        "POST",
        "/api/v1/observations/statuses",
        json={"observation_ids": [*ids, unknown], "review_status": "validated"},
    )
    assert refused.status_code == 404
    assert _statuses(demo, ids) == ["to_review", "to_review"]
    assert (
        facilitator.api(
            "POST", "/api/v1/observations/tags", json={"observation_ids": [*ids, unknown], "tag": "x"}
        ).status_code
        == 404
    )
    assert _tags(demo, ids) == [set(), set()]
