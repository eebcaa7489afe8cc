"""Approved verbatims: only notes a facilitator approved print their text in workshop material."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend import models
from tests.databases import DATABASE_KINDS
from tests.factories import FACILITATOR, VIEWER, DemoWeb, Tablet, demo_web, enrolled_tablet, observation


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("verbatims")) as demo:
        yield demo


def a_tablet(site: DemoWeb) -> Tablet:
    with site.session() as session:
        unit = session.exec(select(models.Unit)).first()
        assert unit is not None and unit.id is not None
        structure = session.get_one(models.Structure, unit.structure_id)
        observers = select(models.Observer).where(models.Observer.programme_id == structure.programme_id)
        observer = session.exec(observers).first()
        assert observer is not None and observer.id is not None
        return enrolled_tablet(TestClient(site.app), session, observer.id, unit.structure_id, unit.id)


def approved(site: DemoWeb, observation_id: str) -> bool:
    with site.session() as session:
        return session.get_one(models.Observation, uuid.UUID(observation_id)).verbatim_approved


def test_bulk_approval_is_audited_and_a_new_text_needs_approving_again(site: DemoWeb) -> None:
    tablet = a_tablet(site)
    visit = tablet.visit()
    first, second = (observation(visit["id"], note=f"double saisie {n} dans DxCare") for n in (1, 2))
    tablet.push(
        *(
            tablet.mutation(e, d)
            for e, d in (("visit", visit), ("observation", first), ("observation", second))
        )
    )
    facilitator = site.browser(FACILITATOR)
    answer = facilitator.api(
        "POST", "/api/v1/observations/verbatims", json={"observation_ids": [first["id"], second["id"]]}
    )
    assert (answer.status_code, answer.json()) == (200, {"changed": 2})
    assert approved(site, first["id"]) and approved(site, second["id"])
    with site.session() as session:
        events = session.exec(
            select(models.AuditEvent).where(models.AuditEvent.action == "observation.verbatim_approve")
        ).all()
        assert {e.target_id for e in events} >= {first["id"], second["id"]}
    # The observer rewrites the first note: what was approved was the earlier text.
    tablet.push(tablet.mutation("observation", {**first, "version": 2, "note": "autre texte"}))
    assert not approved(site, first["id"]) and approved(site, second["id"])
    withdrawn = facilitator.api(
        "POST", "/api/v1/observations/verbatims", json={"observation_ids": [second["id"]], "approved": False}
    )
    assert withdrawn.json() == {"changed": 1} and not approved(site, second["id"])


def test_read_only_accounts_do_not_approve(site: DemoWeb) -> None:
    tablet = a_tablet(site)
    visit = tablet.visit()
    typed = observation(visit["id"], note="badge refusé")
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", typed))
    refused = site.browser(VIEWER).api(
        "POST", "/api/v1/observations/verbatims", json={"observation_ids": [typed["id"]]}
    )
    assert refused.status_code == 403
    assert not approved(site, typed["id"])
