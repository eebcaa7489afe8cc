"""Administration pages: structures, units, observers, enrolment codes with QR, tablets, accounts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend import models
from backend.sync.sequence import last_seq
from shared.sync import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.databases import DATABASE_KINDS
from tests.factories import ADMIN, FACILITATOR, DemoWeb, demo_web, post_enrolment


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("admin")) as demo:
        yield demo


def test_facilitator_adds_a_structure_a_unit_and_an_observer(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    programme = f"/admin/programmes/{site.summary.programme_id}"
    bad = browser.form(
        f"{programme}/structures",
        {"name": "EHPAD Neuf", "kind": "ehpad", "finess": "12", "timezone": "Europe/Paris"},
    )
    assert bad.status_code == 422 and "FINESS" in bad.text
    zone = browser.form(
        f"{programme}/structures", {"name": "EHPAD Neuf", "kind": "ehpad", "timezone": "Mars/Olympus"}
    )
    assert zone.status_code == 422 and "Fuseau horaire inconnu" in zone.text
    with site.session() as session:
        before = last_seq(session)
    assert (
        browser.form(
            f"{programme}/structures",
            {"name": "EHPAD Neuf", "kind": "ehpad", "finess": "990000099", "timezone": "Europe/Paris"},
        ).status_code
        == 303
    )
    structure_id = site.structure_id("EHPAD Neuf")
    assert browser.form(f"/admin/structures/{structure_id}/units", {"name": "Étage 3"}).status_code == 303
    twice = browser.form(f"/admin/structures/{structure_id}/units", {"name": "Étage 3"})
    assert twice.status_code == 422 and "existe déjà" in twice.text
    assert browser.form(f"{programme}/observers", {"name": "Inès Garnier"}).status_code == 303
    with site.session() as session:
        structure = session.get_one(models.Structure, structure_id)
        unit = session.exec(select(models.Unit).where(models.Unit.structure_id == structure_id)).one()
        # Tablets pull structures and units by sequence number: both must carry new ones.
        assert before < structure.server_seq < unit.server_seq == last_seq(session)
        actions = set(session.exec(select(models.AuditEvent.action)).all())
    assert {"structure.create", "unit.create", "observer.create"} <= actions
    page = browser.get(programme).text
    assert "EHPAD Neuf" in page and "Étage 3" in page and "Inès Garnier" in page


def test_enrolment_code_with_qr_enrols_a_tablet_which_can_then_be_revoked(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    with site.session() as session:
        observer = session.exec(select(models.Observer)).first()
        assert observer is not None
    structure_id = site.structure_id("Clinique des Aubépines")
    page = browser.form(
        f"/admin/programmes/{site.summary.programme_id}/enrolment-codes",
        {
            "observer_id": str(observer.id),
            "structure_id": str(structure_id),
            "days": "3",
            "server_url": "http://10.0.0.5:8000",
        },
    )
    assert page.status_code == 200
    code = re.search(r'data-testid="enrolment-code">([A-Z0-9]{4}-[A-Z0-9]{4})<', page.text)
    assert code, page.text
    assert "<svg" in page.text and "vigie://enrol?server=http%3A%2F%2F10.0.0.5%3A8000&amp;code=" in page.text
    with site.session() as session:
        events = session.exec(
            select(models.AuditEvent).where(models.AuditEvent.action == "device.enrolment_code")
        ).all()
    assert len(events) == 1 and code.group(1) not in str(events[0].details)

    tablet = TestClient(site.app)
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    enrolled = post_enrolment(tablet, code.group(1), label="Tablette bloc")
    assert enrolled.status_code == 201
    headers["Authorization"] = f"Bearer {enrolled.json()['device_token']}"
    assert tablet.get("/api/v1/sync/pull?cursor=0", headers=headers).status_code == 200

    device_id = enrolled.json()["device_id"]
    listing = browser.get("/admin/devices").text
    assert "Tablette bloc" in listing
    assert browser.form(f"/admin/devices/{device_id}/revoke").status_code == 303
    refused = tablet.get("/api/v1/sync/pull?cursor=0", headers=headers)
    assert refused.status_code == 401 and refused.json()["code"] == "device_revoked"
    assert "révoquée le" in browser.get("/admin/devices").text
    assert [d["revoked_at"] is not None for d in browser.get("/api/v1/devices").json()] == [True]


def test_enrolment_code_refuses_an_observer_from_another_programme_or_a_bad_address(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    structure_id = site.structure_id("Clinique des Aubépines")
    path = f"/admin/programmes/{site.summary.programme_id}/enrolment-codes"
    unknown = browser.form(
        path, {"observer_id": "9999", "structure_id": str(structure_id), "server_url": "http://x.fr"}
    )
    assert unknown.status_code == 422 and "Observateur inconnu" in unknown.text
    address = browser.form(
        path, {"observer_id": "1", "structure_id": str(structure_id), "server_url": "ftp:/x"}
    )
    assert address.status_code == 422 and "Adresse du serveur invalide" in address.text


def test_admin_creates_a_structure_viewer_who_can_sign_in(site: DemoWeb) -> None:
    admin = site.browser(ADMIN)
    structure_id = site.structure_id("SSIAD du Val de Sèvre")
    form = {
        "email": "cadre@ssiad.fr",
        "full_name": "Cadre SSIAD",
        "role": "viewer",
        "password": "un-mot-de-passe-long",
        "structure_id": str(structure_id),
    }
    assert admin.form("/admin/users", form).status_code == 303
    again = admin.form("/admin/users", form)
    assert again.status_code == 422 and "Un compte existe déjà" in again.text
    orphan = admin.form("/admin/users", {**form, "email": "x@ssiad.fr", "structure_id": ""})
    assert orphan.status_code == 422 and "rattaché à une structure" in orphan.text
    viewer = site.browser("cadre@ssiad.fr", "un-mot-de-passe-long")
    assert viewer.get("/").headers["location"] == f"/structures/{structure_id}"
    with site.session() as session:
        created = session.exec(
            select(models.AuditEvent).where(models.AuditEvent.action == "user.create")
        ).all()
    assert [e.details["email"] for e in created] == ["cadre@ssiad.fr"]
    assert "Cadre SSIAD" in admin.get("/admin/users").text
    assert "Compte créé" in admin.get("/admin/audit").text
