"""Signing in and out, the session cookie, CSRF protection and password changes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend import models
from backend.admin.demo_data import DEMO_PASSWORD
from backend.auth.users import UserRole, create_user, verify_password
from backend.db_types import utcnow
from tests.databases import DATABASE_KINDS
from tests.factories import ADMIN, BROWSER_ACCEPT, FACILITATOR, DemoWeb, csrf_of, demo_web


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("auth")) as demo:
        yield demo


def _login_form(client: TestClient, email: str, password: str, next_path: str = "/") -> httpx.Response:
    page = client.get(f"/login?next={next_path}")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token
    response: httpx.Response = client.post(
        "/login",
        data={"email": email, "password": password, "login_csrf": token.group(1), "next": next_path},
        follow_redirects=False,
    )
    return response


def _audit(site: DemoWeb, action: str) -> list[models.AuditEvent]:
    with site.session() as session:
        return list(session.exec(select(models.AuditEvent).where(models.AuditEvent.action == action)).all())


def _new_account(site: DemoWeb, email: str) -> None:
    with site.session() as session:
        create_user(
            session,
            email=email,
            full_name="Compte de test",
            role=UserRole.FACILITATOR,
            password=DEMO_PASSWORD,
        )


def test_login_form_sets_a_protected_cookie_and_stores_only_its_hash(site: DemoWeb) -> None:
    client = TestClient(site.app)
    response = _login_form(client, " Admin@Vigie.demo ", DEMO_PASSWORD, "/observations")
    assert response.status_code == 303
    assert response.headers["location"] == "/observations"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("vigie_session="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http here; see the https test below
    token = client.cookies["vigie_session"]
    with site.session() as session:
        stored = session.exec(select(models.WebSession.token_hash)).all()
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored
    assert client.get("/observations").status_code == 200
    assert any(e.actor_user_id == site.user(ADMIN).id for e in _audit(site, "auth.login"))


def test_cookie_is_secure_when_served_over_https(site: DemoWeb) -> None:
    client = TestClient(site.app, base_url="https://vigie.example")
    response = client.post("/api/v1/auth/login", json={"email": ADMIN, "password": DEMO_PASSWORD})
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_is_refused_in_french_and_recorded(site: DemoWeb) -> None:
    client = TestClient(site.app)
    response = _login_form(client, FACILITATOR, "pas-le-bon-mot-de-passe")
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in response.text
    assert "vigie_session" not in client.cookies
    unknown = client.post("/api/v1/auth/login", json={"email": "personne@nulle.part", "password": "x" * 12})
    assert unknown.status_code == 401
    assert unknown.json() == {
        "code": "invalid_credentials",
        "message": "Adresse e-mail ou mot de passe incorrect.",
        "details": [],
    }
    failures = [e.details for e in _audit(site, "auth.login_failed")]
    assert FACILITATOR in {d.get("email") for d in failures}
    # An e-mail no account has is recorded without what was typed (it may be a password: issue 18).
    assert any("unknown_email" in d for d in failures)
    assert not any("personne@nulle.part" in str(d) for d in failures)
    assert not any("pas-le-bon" in str(e.details) for e in _audit(site, "auth.login_failed"))


def test_login_form_without_its_csrf_cookie_is_refused(site: DemoWeb) -> None:
    client = TestClient(site.app)
    response = client.post(
        "/login",
        data={"email": ADMIN, "password": DEMO_PASSWORD, "login_csrf": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "Formulaire expiré" in response.text
    assert "vigie_session" not in client.cookies


def test_login_never_redirects_to_another_site(site: DemoWeb) -> None:
    client = TestClient(site.app)
    response = _login_form(client, ADMIN, DEMO_PASSWORD, "//evil.example/")
    assert response.headers["location"] == "/"


def test_forms_and_api_writes_without_the_csrf_token_are_refused(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    with site.session() as session:
        observation = session.exec(select(models.Observation)).first()
        assert observation is not None
    before = observation.review_status
    forged = browser.client.post(
        f"/observations/{observation.id}/status", data={"review_status": "set_aside"}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert "Jeton de sécurité" in forged.text
    wrong = browser.client.post(
        f"/api/v1/observations/{observation.id}/review-status",
        json={"review_status": "set_aside"},
        headers={"X-CSRF-Token": "not-the-token"},
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "csrf_failed"
    with site.session() as session:
        assert session.get_one(models.Observation, observation.id).review_status == before
    # The pages carry the session's token in every form.
    assert csrf_of(browser.get(f"/observations/{observation.id}").text) == browser.csrf


def test_logout_ends_the_session_in_the_database(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    token = browser.client.cookies["vigie_session"]
    response = browser.form("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    with site.session() as session:
        digest = hashlib.sha256(token.encode()).hexdigest()
        assert session.get(models.WebSession, digest) is None
    # Even a copy of the old cookie no longer works.
    stolen = TestClient(site.app, cookies={"vigie_session": token})
    assert stolen.get("/api/v1/auth/me").status_code == 401
    page = stolen.get("/observations", headers={"Accept": BROWSER_ACCEPT}, follow_redirects=False)
    assert page.status_code == 303
    assert _audit(site, "auth.logout")


def test_expired_session_sends_back_to_login(site: DemoWeb) -> None:
    browser = site.browser(ADMIN)
    token = browser.client.cookies["vigie_session"]
    with site.session() as session:
        record = session.get_one(models.WebSession, hashlib.sha256(token.encode()).hexdigest())
        record.expires_at = utcnow() - timedelta(minutes=1)
        session.add(record)
        session.commit()
    assert browser.get("/admin").status_code == 303
    assert browser.client.get("/api/v1/auth/me").status_code == 401


def test_password_change_checks_and_signs_out_other_browsers(site: DemoWeb) -> None:
    email = "change@vigie.demo"
    _new_account(site, email)
    laptop, phone = site.browser(email), site.browser(email)

    refused = laptop.form(
        "/account/password",
        {"current_password": "faux", "new_password": "court", "confirmation": "court"},
    )
    assert refused.status_code == 422
    assert "Mot de passe actuel incorrect." in refused.text
    assert "trop court" in refused.text
    mismatch = laptop.api(
        "POST",
        "/api/v1/auth/password",
        json={
            "current_password": DEMO_PASSWORD,
            "new_password": "nouveau-secret-1",
            "confirmation": "autre-chose-1",
        },
    )
    assert mismatch.status_code == 422
    assert [d["code"] for d in mismatch.json()["details"]] == ["password_mismatch"]

    changed = laptop.form(
        "/account/password",
        {
            "current_password": DEMO_PASSWORD,
            "new_password": "nouveau-secret-1",
            "confirmation": "nouveau-secret-1",
        },
    )
    assert changed.status_code == 303
    assert laptop.get("/account/password").status_code == 200  # this browser stays signed in
    assert phone.get("/account/password").status_code == 303  # the other one must sign in again
    with site.session() as session:
        user = session.exec(select(models.User).where(models.User.email == email)).one()
        assert verify_password("nouveau-secret-1", user.password_hash)
        changes = session.exec(
            select(models.AuditEvent).where(models.AuditEvent.action == "user.password_change")
        ).all()
        assert [c.actor_user_id for c in changes] == [user.id]


def test_deactivated_account_is_signed_out_and_cannot_sign_in(site: DemoWeb) -> None:
    email = "parti@vigie.demo"
    _new_account(site, email)
    leaving = site.browser(email)
    admin = site.browser(ADMIN)
    account = site.user(email)
    assert admin.form(f"/admin/users/{account.id}/active", {"active": "false"}).status_code == 303
    assert leaving.get("/observations").status_code == 303
    again = TestClient(site.app).post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert again.status_code == 401
    assert {"user.deactivate"} <= {e.action for e in _audit(site, "user.deactivate")}
