"""The audit log is complete: enrolment codes, enrolments, revocations (pages and command line), reviews,
exports and account changes each leave an event naming who did it; only admins read the log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select
from typer.testing import CliRunner

from backend import models
from backend.admin.demo_data import DEMO_PASSWORD
from backend.cli import app as vigie_cli
from backend.settings import get_settings
from tests.databases import DATABASE_KINDS
from tests.factories import ADMIN, FACILITATOR, VIEWER, DemoWeb, demo_web, post_enrolment

NEW_PASSWORD = "nouveau-mot-de-passe-2026"
CODE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}")


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("audit")) as demo:
        yield demo


@pytest.fixture
def vigie(site: DemoWeb, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The ``vigie`` command on the site's database."""
    monkeypatch.setenv("DATABASE_URL", site.url)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(vigie_cli, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    yield run
    get_settings.cache_clear()


def events_after(site: DemoWeb, last_id: int) -> list[models.AuditEvent]:
    with site.session() as session:
        statement = select(models.AuditEvent).where(col(models.AuditEvent.id) > last_id)
        return list(session.exec(statement.order_by(col(models.AuditEvent.id))).all())


def last_event_id(site: DemoWeb) -> int:
    with site.session() as session:
        ids = session.exec(select(models.AuditEvent.id)).all()
    return max((i for i in ids if i is not None), default=0)


def enrol(site: DemoWeb, code: str) -> int:
    response = post_enrolment(TestClient(site.app), code, label="Tablette auditée")
    assert response.status_code == 201, response.text
    device_id: int = response.json()["device_id"]
    return device_id


def test_every_action_that_matters_is_in_the_audit_log(site: DemoWeb, vigie: Any, tmp_path: Path) -> None:
    admin, facilitator = site.browser(ADMIN), site.browser(FACILITATOR)
    admin_id, facilitator_id = site.user(ADMIN).id, site.user(FACILITATOR).id
    with site.session() as session:
        programme = session.exec(select(models.Programme).order_by(col(models.Programme.id))).first()
        assert programme is not None and programme.id is not None
        structure = session.exec(
            select(models.Structure).where(models.Structure.programme_id == programme.id)
        ).first()
        observer = session.exec(
            select(models.Observer).where(models.Observer.programme_id == programme.id)
        ).first()
        observation = session.exec(
            select(models.Observation).where(
                models.Observation.structure_id == (structure.id if structure else 0),
                models.Observation.review_status != "to_discuss",  # its change of status is audited below
            )
        ).first()
        assert structure and observer and observation
    start = last_event_id(site)

    # Tablets: a code from the pages and one from the command line, both enrolled, both revoked.
    page = admin.form(
        f"/admin/programmes/{programme.id}/enrolment-codes",
        {
            "observer_id": str(observer.id),
            "structure_id": str(structure.id),
            "days": "7",
            "server_url": "http://192.168.1.10:8000",
        },
    )
    web_code = re.search(r'data-testid="enrolment-code">([A-Z0-9-]+)<', page.text)
    assert web_code, page.text[:500]
    web_device = enrol(site, web_code.group(1))
    cli_output = vigie(
        "enrolment", "create", "--observer", str(observer.id), "--structure", str(structure.id)
    )
    cli_code = CODE.search(cli_output)
    assert cli_code
    cli_device = enrol(site, cli_code.group(0))
    assert admin.form(f"/admin/devices/{web_device}/revoke").status_code == 303
    vigie("device", "revoke", str(cli_device))

    # Review: status, comment, tag added and removed.
    target = f"/observations/{observation.id}"
    assert facilitator.form(f"{target}/status", {"review_status": "to_discuss"}).status_code == 303
    assert facilitator.form(f"{target}/comments", {"body": "À voir en atelier."}).status_code == 303
    assert facilitator.form(f"{target}/tags", {"tag": "audit"}).status_code == 303
    assert facilitator.form(f"{target}/tags/remove", {"tag": "audit"}).status_code == 303

    # Exports: from the API and from the command line.
    exported = facilitator.get(f"/api/v1/exports/observations.csv?programme_id={programme.id}")
    assert exported.status_code == 200
    vigie("export", "--programme", str(programme.id), "--output", str(tmp_path / "export.json"))

    # Accounts: created on the pages and on the command line, deactivated, reactivated, password changed.
    created = admin.form(
        "/admin/users",
        {
            "email": "nouvelle@vigie.test",
            "full_name": "Nouvelle Animatrice",
            "role": "facilitator",
            "password": DEMO_PASSWORD,
            "programme_id": str(programme.id),
        },
    )
    assert created.status_code == 303, created.text[:500]
    account_id = site.user("nouvelle@vigie.test").id
    assert admin.form(f"/admin/users/{account_id}/active", {"active": "false"}).status_code == 303
    assert admin.form(f"/admin/users/{account_id}/active", {"active": "true"}).status_code == 303
    newcomer = site.browser("nouvelle@vigie.test")
    changed = newcomer.form(
        "/account/password",
        {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
    )
    assert changed.status_code == 303
    vigie(
        "user", "create", "--email", "cli@vigie.test", "--name", "Compte CLI", "--role", "admin",
        "--password", DEMO_PASSWORD,
    )  # fmt: skip
    cli_account_id = site.user("cli@vigie.test").id
    observer_output = vigie("observer", "create", "--programme", str(programme.id), "--name", "Obs CLI")
    cli_observer = re.search(r"Observateur créé : (\d+)", observer_output)
    assert cli_observer

    events = events_after(site, start)
    seen = {(e.action, e.actor_user_id, e.target_type, e.target_id) for e in events}
    expected = {
        ("device.enrolment_code", admin_id, "observer", str(observer.id)),
        ("device.enrolment_code", None, "observer", str(observer.id)),
        ("device.revoke", admin_id, "device", str(web_device)),
        ("device.revoke", None, "device", str(cli_device)),
        ("observation.review_status", facilitator_id, "observation", str(observation.id)),
        ("observation.comment", facilitator_id, "observation", str(observation.id)),
        ("observation.tag_add", facilitator_id, "observation", str(observation.id)),
        ("observation.tag_remove", facilitator_id, "observation", str(observation.id)),
        ("export.csv", facilitator_id, "programme", str(programme.id)),
        ("export.json", None, "programme", str(programme.id)),
        ("user.create", admin_id, "user", str(account_id)),
        ("user.deactivate", admin_id, "user", str(account_id)),
        ("user.activate", admin_id, "user", str(account_id)),
        ("user.password_change", account_id, "user", str(account_id)),
        ("user.create", None, "user", str(cli_account_id)),
        ("observer.create", None, "observer", cli_observer.group(1)),
    }
    assert expected <= seen, expected - seen
    enrolments = {e.target_id: e for e in events if e.action == "device.enrol"}
    assert set(enrolments) == {str(web_device), str(cli_device)}
    assert all(e.actor_device_id == int(e.target_id or 0) for e in enrolments.values())
    assert enrolments[str(web_device)].details["observer_id"] == observer.id
    by_cli = [e for e in events if e.details.get("via") == "cli"]
    assert {e.action for e in by_cli} >= {
        "device.enrolment_code",
        "device.revoke",
        "export.json",
        "user.create",
    }

    # No secret in any of it: codes, device tokens, passwords.
    recorded = " ".join(str(e.details) for e in events_after(site, 0))
    for secret in (web_code.group(1), cli_code.group(0), DEMO_PASSWORD, NEW_PASSWORD):
        assert secret not in recorded and secret.replace("-", "") not in recorded
    with site.session() as session:
        hashes = session.exec(select(models.Device.token_hash)).all()
    assert not any(h and h in recorded for h in hashes)


def test_only_admins_read_the_audit_log(site: DemoWeb) -> None:
    # Something recent to show, whatever ran before.
    site.browser(FACILITATOR).client.post("/api/v1/auth/login", json={"email": FACILITATOR, "password": "x"})
    page = site.browser(ADMIN).get("/admin/audit")
    assert page.status_code == 200
    assert "Journal d'audit" in page.text
    assert "Échec de connexion" in page.text and "Connexion" in page.text
    for email in (FACILITATOR, VIEWER):
        refused = site.browser(email).get("/admin/audit")
        assert refused.status_code == 403, email
        assert "Journal d'audit" not in refused.text
