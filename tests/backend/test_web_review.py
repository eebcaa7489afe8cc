"""Reviewing observations: status, comments and tags, their audit trail, and their way back to the tablet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend import models
from backend.sync.sequence import last_seq
from tests.databases import DATABASE_KINDS
from tests.factories import FACILITATOR, DemoWeb, Tablet, demo_web, enrolled_tablet


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("review")) as demo:
        yield demo


def _observation(site: DemoWeb, index: int = 0) -> models.Observation:
    with site.session() as session:
        rows = session.exec(
            select(models.Observation).order_by(models.Observation.occurred_at, models.Observation.id)  # type: ignore[arg-type]
        ).all()
        return rows[index]


def tablet_of(site: DemoWeb, observer_id: int, structure_id: int) -> Tablet:
    """The observer's tablet, enrolled through the real API, pulling as the app does."""
    with site.session() as session:
        return enrolled_tablet(
            TestClient(site.app), session, observer_id, structure_id, label="Tablette test"
        )


def test_status_change_is_audited_and_gets_a_new_sequence_number(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    observation = _observation(site, 3)
    target = "to_discuss" if observation.review_status != "to_discuss" else "validated"
    with site.session() as session:
        before = last_seq(session)
    response = browser.form(f"/observations/{observation.id}/status", {"review_status": target})
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/observations/{observation.id}?message=")
    with site.session() as session:
        stored = session.get_one(models.Observation, observation.id)
        assert stored.review_status == target
        assert stored.server_seq == last_seq(session) == before + 1
        event = session.exec(
            select(models.AuditEvent).where(
                models.AuditEvent.action == "observation.review_status",
                models.AuditEvent.target_id == str(observation.id),
            )
        ).one()
    assert event.details == {"from": observation.review_status, "to": target}
    assert event.actor_user_id == site.user(FACILITATOR).id
    page = browser.get(f"/observations/{observation.id}").text
    assert "Statut de revue modifié" in page and "Facilitatrice ARACT" in page


def test_unknown_status_is_refused_and_changes_nothing(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    observation = _observation(site, 4)
    page = browser.form(f"/observations/{observation.id}/status", {"review_status": "supprimee"})
    assert page.status_code == 422 and "Formulaire ou adresse invalide" in page.text
    api = browser.api(
        "POST", f"/api/v1/observations/{observation.id}/review-status", json={"review_status": "supprimee"}
    )
    assert api.status_code == 422 and api.json()["details"][0]["field"] == "body.review_status"
    with site.session() as session:
        assert session.get_one(models.Observation, observation.id).review_status == observation.review_status


def test_comment_reaches_the_observers_tablet_at_its_next_pull(site: DemoWeb) -> None:
    observation = _observation(site, 5)
    tablet = tablet_of(site, observation.observer_id, observation.structure_id)
    first = {o["id"]: o for o in tablet.pull_new()}
    assert str(observation.id) in first

    browser = site.browser(FACILITATOR)
    assert (
        browser.form(
            f"/observations/{observation.id}/comments", {"body": "  Préciser l'outil, merci.  "}
        ).status_code
        == 303
    )
    assert (
        browser.form(f"/observations/{observation.id}/status", {"review_status": "set_aside"}).status_code
        == 303
    )

    changed = tablet.pull_new()
    assert [o["id"] for o in changed] == [str(observation.id)]  # only what changed comes again
    pulled = changed[0]
    assert pulled["review_status"] == "set_aside"
    new = [c for c in pulled["review_comments"] if c["body"] == "Préciser l'outil, merci."]
    assert len(new) == 1 and new[0]["author_name"] == "Facilitatrice ARACT"
    assert tablet.pull_new() == []
    assert "Préciser l&#39;outil, merci." in browser.get(f"/observations/{observation.id}").text


def test_empty_or_oversized_comment_is_refused_with_the_text_kept(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    observation = _observation(site, 6)
    with site.session() as session:
        comments_before = len(session.exec(select(models.ReviewComment)).all())
    empty = browser.form(f"/observations/{observation.id}/comments", {"body": "   "})
    assert empty.status_code == 422 and "Le commentaire est vide." in empty.text
    too_long = browser.api(
        "POST", f"/api/v1/observations/{observation.id}/comments", json={"body": "x" * 2001}
    )
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "comment_too_long"
    long_page = browser.form(f"/observations/{observation.id}/comments", {"body": "mot " * 600})
    assert long_page.status_code == 422 and "mot mot mot" in long_page.text  # what was typed is not lost
    with site.session() as session:
        assert len(session.exec(select(models.ReviewComment)).all()) == comments_before


def test_tags_are_added_once_removed_and_filterable(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    observation = _observation(site, 7)
    path = f"/api/v1/observations/{observation.id}/tags"
    assert "atelier 3" in browser.api("POST", path, json={"tag": "  atelier   3 "}).json()["tags"]
    assert browser.api("POST", path, json={"tag": "atelier 3"}).json()["tags"].count("atelier 3") == 1
    listed = browser.get("/api/v1/observations?tag=atelier 3").json()
    assert [item["id"] for item in listed["items"]] == [str(observation.id)]
    assert browser.api("DELETE", f"{path}/atelier 3").json()["tags"].count("atelier 3") == 0
    assert browser.get("/api/v1/observations?tag=atelier 3").json()["total"] == 0
    refused = browser.form(f"/observations/{observation.id}/tags", {"tag": "x" * 41})
    assert refused.status_code == 422 and "Étiquette trop longue" in refused.text
    with site.session() as session:
        actions = session.exec(
            select(models.AuditEvent.action).where(models.AuditEvent.target_id == str(observation.id))
        ).all()
    assert sorted(actions) == ["observation.tag_add", "observation.tag_remove"]


def test_list_pages_through_every_observation_once(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    first = browser.get("/api/v1/observations?page_size=100").json()
    seen = [
        item["id"]
        for page in range(1, first["pages"] + 1)
        for item in browser.get(f"/api/v1/observations?page_size=100&page={page}").json()["items"]
    ]
    assert len(seen) == len(set(seen)) == first["total"] == site.summary.observations
    times = [item["occurred_at"] for item in first["items"]]
    assert times == sorted(times, reverse=True)
    page_two = browser.get("/observations?category=interruption&page=2").text
    assert "Page 2 sur" in page_two and 'href="?category=interruption&amp;page=1"' in page_two


def test_bad_filters_get_a_clear_message(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    response = browser.get("/api/v1/observations?date_from=hier&colour=rouge")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_filter"
    assert {d["field"] for d in body["details"]} == {"date_from", "colour"}
    page = browser.get("/observations?review_status=perdue")
    assert page.status_code == 422 and "Filtres invalides." in page.text
