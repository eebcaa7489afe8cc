"""Lockout after repeated sign-in failures (per e-mail, per address) and refused enrolment codes (per
address), counted in the database: the clock is injected, nothing sleeps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from backend import models
from backend.auth.users import UserRole, create_user
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.security import request_time
from backend.settings import Settings
from backend.sync.devices import create_enrolment_code
from tests.databases import DATABASE_KINDS, empty_database
from tests.factories import make_site, post_enrolment

PASSWORD = "mot-de-passe-correct"
WINDOW = timedelta(minutes=15)


@dataclass
class Clock:
    now: datetime

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Site:
    app: FastAPI
    engine: Engine
    clock: Clock
    structure_id: int
    observer_id: int

    def client(self, ip: str) -> TestClient:
        return TestClient(self.app, client=(ip, 50000))

    def account(self, email: str) -> str:
        with Session(self.engine) as session:
            create_user(session, email=email, full_name="Compte test", role=UserRole.ADMIN, password=PASSWORD)
        return email

    def code(self, lifetime: timedelta = timedelta(days=7), now: datetime | None = None) -> str:
        with Session(self.engine) as session:
            issued = create_enrolment_code(
                session,
                observer_id=self.observer_id,
                structure_id=self.structure_id,
                lifetime=lifetime,
                now=now or self.clock.now,
            )
        return issued.code

    def audit(self, action: str) -> list[models.AuditEvent]:
        with Session(self.engine) as session:
            statement = select(models.AuditEvent).where(models.AuditEvent.action == action)
            return list(session.exec(statement.order_by(col(models.AuditEvent.id))).all())


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with empty_database(request.param, tmp_path_factory.mktemp("rate-limits")) as url:
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            place = make_site(session, "CH Limites")
        clock = Clock(datetime.now(UTC))
        app = create_app(Settings(database_url=url), engine=engine)
        app.dependency_overrides[request_time] = lambda: clock.now
        try:
            yield Site(app, engine, clock, place.structure_id, place.observer_ids[0])
        finally:
            engine.dispose()


@pytest.fixture(autouse=True)
def fresh_clock(site: Site) -> None:
    """Each test starts an hour after the previous one's clock: no lockout carries over."""
    site.clock.advance(timedelta(hours=1))


def login(client: TestClient, email: str, password: str) -> Any:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def enrol(client: TestClient, code: str) -> Any:
    return post_enrolment(client, code)


def assert_locked(response: Any, seconds: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(seconds)
    body = response.json()
    assert body["code"] == "too_many_attempts"
    minutes = -(-seconds // 60)
    assert body["message"].endswith(f"réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.")


def test_five_failures_lock_the_account_even_against_the_right_password(site: Site) -> None:
    email = site.account("verrou@vigie.test")
    client = site.client("10.1.0.1")
    for _ in range(4):
        assert login(client, email, "mauvais-mot-de-passe").status_code == 401
    locked = login(client, email, "mauvais-mot-de-passe")
    assert_locked(locked, 900)
    assert locked.json()["message"] == "Trop de tentatives de connexion échouées : réessayez dans 15 minutes."

    site.clock.advance(timedelta(minutes=5))
    refused = login(client, email, PASSWORD)
    assert_locked(refused, 600)
    assert "vigie_session" not in refused.cookies
    # From another address too: the lock protects the account, wherever the guesses come from.
    assert_locked(login(site.client("10.1.0.2"), email, PASSWORD), 600)

    [event] = [e for e in site.audit("auth.login_locked") if e.details["email"] == email]
    assert event.details["client_ip"] == "10.1.0.1"
    assert PASSWORD not in str(event.details) and "mauvais" not in str(event.details)


def test_the_account_opens_again_once_the_window_has_passed(site: Site) -> None:
    email = site.account("fenetre@vigie.test")
    client = site.client("10.2.0.1")
    for _ in range(5):
        login(client, email, "mauvais-mot-de-passe")
    site.clock.advance(WINDOW - timedelta(seconds=1))
    assert_locked(login(client, email, PASSWORD), 1)
    site.clock.advance(timedelta(seconds=2))
    signed_in = login(client, email, PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["email"] == email


def test_a_locked_account_leaves_other_accounts_alone(site: Site) -> None:
    locked, other = site.account("bloquee@vigie.test"), site.account("libre@vigie.test")
    client = site.client("10.3.0.1")
    for _ in range(5):
        login(client, locked, "mauvais-mot-de-passe")
    assert login(client, locked, PASSWORD).status_code == 429
    assert login(client, other, PASSWORD).status_code == 200  # same address, other account


def test_one_address_guessing_many_accounts_is_locked_and_others_are_not(site: Site) -> None:
    victim = site.account("cible@vigie.test")
    attacker = site.client("10.4.0.66")
    for attempt in range(19):
        response = login(attacker, f"essai{attempt}@vigie.test", "devine")
        assert response.status_code == 401, attempt
    assert_locked(login(attacker, "essai-final@vigie.test", "devine"), 900)
    assert_locked(login(attacker, victim, PASSWORD), 900)  # the address is locked, whatever the account
    assert login(site.client("10.4.0.7"), victim, PASSWORD).status_code == 200


def test_failures_before_a_successful_sign_in_no_longer_count(site: Site) -> None:
    email = site.account("distraite@vigie.test")
    client = site.client("10.5.0.1")
    for _ in range(4):
        assert login(client, email, "faute-de-frappe").status_code == 401
    assert login(client, email, PASSWORD).status_code == 200
    for _ in range(4):
        assert login(client, email, "faute-de-frappe").status_code == 401
    assert login(client, email, PASSWORD).status_code == 200


def test_unknown_addresses_are_locked_like_accounts(site: Site) -> None:
    """Same answers for an unknown e-mail: the lockout does not tell which accounts exist."""
    client = site.client("10.6.0.1")
    answers = [login(client, "personne@vigie.test", "devine").status_code for _ in range(6)]
    assert answers == [401, 401, 401, 401, 429, 429]


def test_login_page_says_when_to_try_again(site: Site) -> None:
    email = site.account("page@vigie.test")
    client = site.client("10.7.0.1")

    def submit(password: str) -> Any:
        page = client.get("/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert token
        return client.post(
            "/login",
            data={"email": email, "password": password, "login_csrf": token.group(1), "next": "/"},
            follow_redirects=False,
        )

    for _ in range(4):
        assert submit("mauvais-mot-de-passe").status_code == 401
    locked = submit("mauvais-mot-de-passe")
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "900"
    assert "Trop de tentatives de connexion échouées : réessayez dans 15 minutes." in locked.text
    site.clock.advance(timedelta(minutes=14, seconds=30))
    still = submit(PASSWORD)
    assert still.status_code == 429 and "réessayez dans 1 minute." in still.text
    assert "vigie_session" not in client.cookies
    site.clock.advance(timedelta(minutes=1))
    assert submit(PASSWORD).status_code == 303
    assert "vigie_session" in client.cookies


def test_refused_codes_are_recorded_without_the_code(site: Site) -> None:
    client = site.client("10.8.0.1")
    used = site.code()
    assert enrol(client, used).status_code == 201
    expired = site.code(lifetime=timedelta(days=1), now=site.clock.now - timedelta(days=2))
    unknown = "ZZZZ-ZZZZ"
    assert enrol(client, unknown).json()["code"] == "enrolment_code_invalid"
    assert enrol(client, used).json()["code"] == "enrolment_code_used"
    assert enrol(client, expired).json()["code"] == "enrolment_code_expired"

    failures = [e for e in site.audit("device.enrol_failed") if e.details.get("client_ip") == "10.8.0.1"]
    assert [e.details["reason"] for e in failures] == ["unknown", "used", "expired"]
    recorded = str([(e.details, e.target_id) for e in site.audit("device.enrol_failed")])
    for code in (used, expired, unknown):
        assert code not in recorded and code.replace("-", "") not in recorded
    [enrolled] = [e for e in site.audit("device.enrol") if e.details.get("client_ip") == "10.8.0.1"]
    assert enrolled.target_type == "device" and enrolled.actor_device_id is not None


def test_ten_refused_codes_lock_the_address_and_no_other(site: Site) -> None:
    guesser = site.client("10.9.0.66")
    for attempt in range(9):
        assert enrol(guesser, f"AAAA-{attempt:04d}").status_code == 400
    locked = enrol(guesser, "AAAA-9999")
    assert_locked(locked, 900)
    assert locked.json()["message"] == (
        "Trop de codes d'enrôlement refusés depuis ce réseau : réessayez dans 15 minutes."
    )
    good = site.code()
    assert_locked(enrol(guesser, good), 900)  # even a valid code waits: the address is locked
    assert enrol(site.client("10.9.0.7"), good).status_code == 201  # another address is not
    assert [e.details["client_ip"] for e in site.audit("device.enrol_locked")][-1:] == ["10.9.0.66"]

    site.clock.advance(WINDOW + timedelta(seconds=1))
    assert enrol(guesser, site.code()).status_code == 201
