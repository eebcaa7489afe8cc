"""A pull with ``skip_own`` does not send a tablet back what it pushed itself (it holds it), while anything
someone else changed afterwards — a facilitator's review or correction, another tablet's edit — still
reaches it. Without the flag (older apps) everything comes back as before."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.review.service import redact_note, set_review_status
from shared.schema import ReviewStatus
from tests.factories import Site, Tablet, enrol, make_facilitator, observation, statuses


def pull_all(tablet: Tablet, cursor: int = 0, limit: int = 500, skip_own: bool = True) -> dict[str, Any]:
    """Every page from ``cursor``: the visits and observations pulled, and the cursor reached."""
    visits: list[dict[str, Any]] = []
    observations: list[dict[str, Any]] = []
    flag = "&skip_own=true" if skip_own else ""
    while True:
        page = tablet.client.get(
            f"/api/v1/sync/pull?cursor={cursor}&limit={limit}{flag}", headers=tablet.headers
        ).json()
        visits += page["visits"]
        observations += page["observations"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return {"visits": visits, "observations": observations, "cursor": cursor}


def push_visit_with(tablet: Tablet, count: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    visit = tablet.visit()
    observations = [observation(visit["id"], note=None) for _ in range(count)]
    response = tablet.push(
        tablet.mutation("visit", visit), *(tablet.mutation("observation", o) for o in observations)
    )
    assert set(statuses(response)) == {"applied"}
    return visit, observations


def test_a_tablets_own_pushes_do_not_come_back_and_the_cursor_still_moves_past_them(
    session: Session, tablet: Tablet
) -> None:
    visit, observations = push_visit_with(tablet, 12)
    # Edits and a deletion on top of its own states are its own too.
    tablet.push(
        tablet.mutation("observation", {**observations[0], "version": 2, "severity": 3}),
        tablet.mutation("observation", {**observations[1], "version": 2, "deleted": True}),
        tablet.mutation("visit", {**visit, "version": 2, "context_note": "Relève"}),
    )
    skipped = pull_all(tablet, limit=5)
    assert (skipped["visits"], skipped["observations"]) == ([], [])
    echoed = pull_all(tablet, limit=5, skip_own=False)  # an older app still gets everything
    assert len(echoed["visits"]) == 1 and len(echoed["observations"]) == 12
    assert skipped["cursor"] == echoed["cursor"] > 0
    assert pull_all(tablet, cursor=skipped["cursor"])["observations"] == []


def test_a_facilitators_review_and_correction_still_reach_the_tablet(
    session: Session, site: Site, tablet: Tablet
) -> None:
    _visit, (validated, corrected, untouched) = push_visit_with(tablet, 3)
    cursor = pull_all(tablet)["cursor"]
    facilitator = make_facilitator(session, "revue@example.org", "Mot-de-passe-solide-1", site.programme_id)
    set_review_status(session, facilitator, uuid.UUID(validated["id"]), ReviewStatus.VALIDATED)
    redact_note(session, facilitator, uuid.UUID(corrected["id"]), "Note corrigée", datetime.now(UTC))

    pulled = {o["id"]: o for o in pull_all(tablet, cursor=cursor)["observations"]}
    assert set(pulled) == {validated["id"], corrected["id"]}
    assert pulled[validated["id"]]["review_status"] == "validated"
    assert (pulled[corrected["id"]]["note"], pulled[corrected["id"]]["version"]) == ("Note corrigée", 2)
    assert untouched["id"] not in pulled


def push_after_pull(tablet: Tablet, pulled_through: int, *mutations: dict[str, Any]) -> list[str]:
    """A push as the app sends it: with the cursor of its last pull."""
    body = {"device_time": datetime.now(UTC).isoformat(), "pulled_through": pulled_through}
    response = tablet.client.post(
        "/api/v1/sync/push", json={**body, "mutations": list(mutations)}, headers=tablet.headers
    )
    return statuses(response)


def test_edits_pushed_over_a_review_not_yet_pulled_come_back_with_the_review(
    session: Session, site: Site, tablet: Tablet
) -> None:
    # Offline, the observer edits an observation twice while a facilitator puts it up for discussion.
    _visit, [item] = push_visit_with(tablet, 1)
    cursor = pull_all(tablet)["cursor"]
    facilitator = make_facilitator(session, "revue@example.org", "Mot-de-passe-solide-1", site.programme_id)
    set_review_status(session, facilitator, uuid.UUID(item["id"]), ReviewStatus.TO_DISCUSS)
    edits = [{**item, "version": version, "severity": version} for version in (2, 3)]
    assert push_after_pull(tablet, cursor, *(tablet.mutation("observation", e) for e in edits)) == [
        "applied",
        "applied",
    ]
    after_edits = pull_all(tablet, cursor=cursor)
    assert [(o["version"], o["review_status"]) for o in after_edits["observations"]] == [(3, "to_discuss")]
    # Its next edit lands on a state it has pulled: that one is its own and does not come back.
    assert push_after_pull(
        tablet, after_edits["cursor"], tablet.mutation("observation", {**item, "version": 4, "severity": 1})
    ) == ["applied"]
    assert pull_all(tablet, cursor=after_edits["cursor"])["observations"] == []


def test_another_tablets_edit_of_the_same_observers_record_still_arrives(
    client: TestClient, session: Session, site: Site, tablet: Tablet
) -> None:
    second = enrol(client, session, site)  # the same observer on a second tablet
    _visit, [item] = push_visit_with(tablet, 1)
    cursor = pull_all(tablet)["cursor"]
    assert pull_all(second)["observations"][0]["id"] == item["id"]  # not its push: it gets it
    from_second = {**item, "version": 2, "note": "Complété sur la tablette 2"}
    assert statuses(second.push(second.mutation("observation", from_second))) == ["applied"]
    assert pull_all(second, cursor=pull_all(second)["cursor"])["observations"] == []

    [pulled] = pull_all(tablet, cursor=cursor)["observations"]
    assert (pulled["version"], pulled["note"]) == (2, "Complété sur la tablette 2")
    # The first tablet edits again on top: the second one gets it, the first one does not get it back.
    cursor = pull_all(tablet, cursor=cursor)["cursor"]
    tablet.push(tablet.mutation("observation", {**from_second, "version": 3, "severity": 1}))
    assert pull_all(tablet, cursor=cursor)["observations"][0]["version"] == 3  # pushed over another's state
    assert [o["version"] for o in pull_all(second, cursor=cursor)["observations"]] == [3]
