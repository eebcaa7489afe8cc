"""Milestones corrected and removed, on the pages and in the JSON API: by a facilitator of the programme or an
admin, audited, behind the CSRF check; a read-only account is refused and the milestone stays as it was."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from backend import models
from backend.admin.demo_data import DEMO_VIEWER_STRUCTURE
from tests.factories import ADMIN, FACILITATOR, VIEWER, DemoWeb


def _programme_of(demo: DemoWeb, structure_id: int) -> int:
    with demo.session() as session:
        return session.get_one(models.Structure, structure_id).programme_id


def _unit_of(demo: DemoWeb, structure_id: int) -> models.Unit:
    with demo.session() as session:
        unit = session.exec(select(models.Unit).where(models.Unit.structure_id == structure_id)).first()
    assert unit is not None
    return unit


def _created(demo: DemoWeb, label: str, day: str = "2026-01-05") -> int:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    response = demo.browser(FACILITATOR).api(
        "POST",
        f"/api/v1/programmes/{_programme_of(demo, structure_id)}/milestones",
        json={"structure_id": structure_id, "day": day, "label": label},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert (
        created["structure_id"] == structure_id and created["label"] == label and created["unit_id"] is None
    )
    return int(created["id"])


def _stored(demo: DemoWeb, milestone_id: int) -> models.Milestone | None:
    with demo.session() as session:
        return session.get(models.Milestone, milestone_id)


def _events(demo: DemoWeb, milestone_id: int, action: str) -> list[models.AuditEvent]:
    with demo.session() as session:
        return list(
            session.exec(
                select(models.AuditEvent).where(
                    models.AuditEvent.action == action, models.AuditEvent.target_id == str(milestone_id)
                )
            ).all()
        )


def test_facilitator_corrects_a_milestone_on_the_programme_page(demo: DemoWeb) -> None:
    milestone_id = _created(demo, "DPI deploye")
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    programme_id = _programme_of(demo, structure_id)
    unit = _unit_of(demo, structure_id)
    browser = demo.browser(FACILITATOR)
    page = browser.get(f"/admin/programmes/{programme_id}").text
    assert f'action="/admin/milestones/{milestone_id}"' in page
    assert f'action="/admin/milestones/{milestone_id}/delete"' in page
    response = browser.form(
        f"/admin/milestones/{milestone_id}",
        {"place": f"{structure_id}:{unit.id}", "day": "2026-02-02", "label": "  DPI   déployé "},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/admin/programmes/{programme_id}?")
    stored = _stored(demo, milestone_id)
    assert stored is not None
    assert (stored.day, stored.label, stored.unit_id) == (date(2026, 2, 2), "DPI déployé", unit.id)
    event = _events(demo, milestone_id, "structure.milestone_edit")[-1]
    assert event.actor_user_id == demo.user(FACILITATOR).id
    assert event.details["from"] == "2026-01-05" and event.details["to"] == "2026-02-02"
    # The comparison it opens now splits at its new day.
    comparison = browser.api(
        "GET", f"/api/v1/structures/{structure_id}/before-after", params={"milestone_id": milestone_id}
    ).json()
    assert comparison["reference"]["date_to"] == "2026-02-01"
    assert comparison["compared"]["date_from"] == "2026-02-02"
    assert comparison["reference"]["unit_id"] == unit.id
    audit_page = demo.browser(ADMIN).get("/admin/audit").text
    assert "Jalon de changement numérique corrigé" in audit_page


def test_a_refused_correction_says_why_and_changes_nothing(demo: DemoWeb) -> None:
    milestone_id = _created(demo, "Messagerie")
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    browser = demo.browser(FACILITATOR)
    empty = browser.form(
        f"/admin/milestones/{milestone_id}", {"place": str(structure_id), "day": "2026-03-03", "label": " "}
    )
    assert empty.status_code == 422
    stored = _stored(demo, milestone_id)
    assert stored is not None and stored.label == "Messagerie" and stored.day == date(2026, 1, 5)
    api = browser.api("PATCH", f"/api/v1/milestones/{milestone_id}", json={"day": "0002-01-01"})
    assert api.status_code == 422 and api.json()["code"]
    elsewhere = browser.api("PATCH", f"/api/v1/milestones/{milestone_id}", json={"structure_id": 987654})
    assert elsewhere.status_code == 404
    assert all(
        e.details["to"] != "2026-03-03" for e in _events(demo, milestone_id, "structure.milestone_edit")
    )


def test_facilitator_deletes_a_milestone_and_its_comparison_is_gone(demo: DemoWeb) -> None:
    milestone_id = _created(demo, "Badges")
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    browser = demo.browser(FACILITATOR)
    response = browser.form(f"/admin/milestones/{milestone_id}/delete")
    assert response.status_code == 303
    assert _stored(demo, milestone_id) is None
    event = _events(demo, milestone_id, "structure.milestone_delete")[-1]
    assert event.details["day"] == "2026-01-05" and event.details["structure_id"] == structure_id
    gone = browser.api(
        "GET", f"/api/v1/structures/{structure_id}/before-after", params={"milestone_id": milestone_id}
    )
    assert gone.status_code == 404
    assert browser.form(f"/admin/milestones/{milestone_id}/delete").status_code == 404


def test_the_api_corrects_only_what_it_is_given_and_deletes(demo: DemoWeb) -> None:
    milestone_id = _created(demo, "Tablettes", day="2026-01-12")
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    unit = _unit_of(demo, structure_id)
    browser = demo.browser(ADMIN)
    edited_before = len(_events(demo, milestone_id, "structure.milestone_edit"))
    placed = browser.api("PATCH", f"/api/v1/milestones/{milestone_id}", json={"unit_id": unit.id})
    assert placed.status_code == 200, placed.text
    assert placed.json()["unit_id"] == unit.id and placed.json()["unit_name"] == unit.name
    renamed = browser.api("PATCH", f"/api/v1/milestones/{milestone_id}", json={"label": "Tablettes au lit"})
    assert renamed.json()["day"] == "2026-01-12" and renamed.json()["unit_id"] == unit.id
    whole = browser.api("PATCH", f"/api/v1/milestones/{milestone_id}", json={"unit_id": None})
    assert whole.json()["unit_id"] is None and whole.json()["label"] == "Tablettes au lit"
    assert len(_events(demo, milestone_id, "structure.milestone_edit")) == edited_before + 3
    listed = browser.api("GET", f"/api/v1/programmes/{_programme_of(demo, structure_id)}/milestones").json()
    assert [m["label"] for m in listed if m["id"] == milestone_id] == ["Tablettes au lit"]
    # (SQLite may give a deleted milestone's id to the next one: count the events this delete adds.)
    deleted_before = len(_events(demo, milestone_id, "structure.milestone_delete"))
    assert browser.api("DELETE", f"/api/v1/milestones/{milestone_id}").status_code == 204
    assert _stored(demo, milestone_id) is None
    assert len(_events(demo, milestone_id, "structure.milestone_delete")) == deleted_before + 1


def test_read_only_account_may_neither_correct_nor_delete(demo: DemoWeb) -> None:
    milestone_id = _created(demo, "Lecture seule")
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    viewer = demo.browser(VIEWER)
    # The viewer reads the milestone (it is in their structure) but may not change it.
    opened = viewer.api(
        "GET", f"/api/v1/structures/{structure_id}/before-after", params={"milestone_id": milestone_id}
    )
    assert opened.status_code == 200 and opened.json()["milestone"]["label"] == "Lecture seule"
    refused = [
        viewer.form(
            f"/admin/milestones/{milestone_id}",
            {"place": str(structure_id), "day": "2026-04-04", "label": "x"},
        ),
        viewer.form(f"/admin/milestones/{milestone_id}/delete"),
        viewer.api("PATCH", f"/api/v1/milestones/{milestone_id}", json={"label": "x"}),
        viewer.api("DELETE", f"/api/v1/milestones/{milestone_id}"),
        viewer.api(
            "POST",
            f"/api/v1/programmes/{_programme_of(demo, structure_id)}/milestones",
            json={"structure_id": structure_id, "day": "2026-04-04", "label": "x"},
        ),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert refused[2].json()["code"] == "forbidden" and refused[2].json()["message"]
    stored = _stored(demo, milestone_id)
    assert stored is not None and stored.label == "Lecture seule"


def test_changes_without_the_csrf_token_are_refused(demo: DemoWeb) -> None:
    milestone_id = _created(demo, "Sans jeton")
    browser = demo.browser(FACILITATOR)
    no_field = browser.client.post(f"/admin/milestones/{milestone_id}/delete", follow_redirects=False)
    no_header = browser.client.delete(
        f"/api/v1/milestones/{milestone_id}", headers={"Accept": "application/json"}
    )
    assert (no_field.status_code, no_header.status_code) == (403, 403)
    assert _stored(demo, milestone_id) is not None
