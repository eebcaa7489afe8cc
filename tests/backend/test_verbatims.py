"""Approved verbatims: only notes a facilitator approved print their text in workshop material."""

from __future__ import annotations

import uuid

from sqlmodel import select

from backend import models
from tests.factories import FACILITATOR, VIEWER, DemoWeb, observation


def approved(demo: DemoWeb, observation_id: str) -> bool:
    with demo.session() as session:
        return session.get_one(models.Observation, uuid.UUID(observation_id)).verbatim_approved


def test_bulk_approval_is_audited_and_a_new_text_needs_approving_again(demo: DemoWeb) -> None:
    tablet = demo.tablet()
    visit = tablet.visit()
    first, second = (observation(visit["id"], note=f"double saisie {n} dans DxCare") for n in (1, 2))
    tablet.push(
        *(
            tablet.mutation(e, d)
            for e, d in (("visit", visit), ("observation", first), ("observation", second))
        )
    )
    facilitator = demo.browser(FACILITATOR)
    answer = facilitator.api(
        "POST", "/api/v1/observations/verbatims", json={"observation_ids": [first["id"], second["id"]]}
    )
    assert (answer.status_code, answer.json()) == (200, {"changed": 2})
    assert approved(demo, first["id"]) and approved(demo, second["id"])
    with demo.session() as session:
        events = session.exec(
            select(models.AuditEvent).where(models.AuditEvent.action == "observation.verbatim_approve")
        ).all()
        assert {e.target_id for e in events} >= {first["id"], second["id"]}
    # The observer rewrites the first note: what was approved was the earlier text.
    tablet.push(tablet.mutation("observation", {**first, "version": 2, "note": "autre texte"}))
    assert not approved(demo, first["id"]) and approved(demo, second["id"])
    withdrawn = facilitator.api(
        "POST", "/api/v1/observations/verbatims", json={"observation_ids": [second["id"]], "approved": False}
    )
    assert withdrawn.json() == {"changed": 1} and not approved(demo, second["id"])


def test_read_only_accounts_do_not_approve(demo: DemoWeb) -> None:
    tablet = demo.tablet()
    visit = tablet.visit()
    typed = observation(visit["id"], note="badge refusé")
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", typed))
    refused = demo.browser(VIEWER).api(
        "POST", "/api/v1/observations/verbatims", json={"observation_ids": [typed["id"]]}
    )
    assert refused.status_code == 403
    assert not approved(demo, typed["id"])
