"""Session fixation and CSRF: a cookie set before sign-in is never kept after it, and writes made with the
cookie but without the session's own token are refused (forms, API, sign-in and sign-out)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend import models
from backend.admin.demo_data import DEMO_PASSWORD
from backend.auth.web_sessions import COOKIE_NAME
from tests.databases import DATABASE_KINDS
from tests.factories import ADMIN, FACILITATOR, DemoWeb, demo_web

PLANTED = "jeton-pose-par-un-attaquant"


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("sessions")) as demo:
        yield demo


def login_form_token(client: TestClient) -> str:
    page = client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token
    return token.group(1)


def form_login(client: TestClient, email: str, token: str | None = None) -> Any:
    return client.post(
        "/login",
        data={"email": email, "password": DEMO_PASSWORD, "login_csrf": token or login_form_token(client)},
        follow_redirects=False,
    )


def signed_in_as(site: DemoWeb, token: str) -> str | None:
    client = TestClient(site.app, cookies={COOKIE_NAME: token})
    response = client.get("/api/v1/auth/me")
    return response.json()["user"]["email"] if response.status_code == 200 else None


def stored_session_count(site: DemoWeb) -> int:
    with site.session() as session:
        return len(session.exec(select(models.WebSession)).all())


def api_login(client: TestClient, email: str) -> Any:
    return client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})


@pytest.mark.parametrize("sign_in", [api_login, form_login], ids=["api", "form"])
def test_a_cookie_planted_before_sign_in_is_not_kept(site: DemoWeb, sign_in: Callable[..., Any]) -> None:
    client = TestClient(site.app)
    if sign_in is form_login:
        token = login_form_token(client)
        client.cookies.set(COOKIE_NAME, PLANTED, domain="testserver.local")
        assert form_login(client, FACILITATOR, token).status_code == 303
    else:
        client.cookies.set(COOKIE_NAME, PLANTED, domain="testserver.local")
        assert api_login(client, FACILITATOR).status_code == 200
    issued = client.cookies[COOKIE_NAME]
    assert issued != PLANTED
    assert signed_in_as(site, issued) == FACILITATOR
    assert signed_in_as(site, PLANTED) is None


def test_signing_in_over_a_live_session_issues_a_new_token_and_ends_the_old_one(site: DemoWeb) -> None:
    """An attacker's own valid session planted in a victim's browser never becomes the victim's."""
    attacker = TestClient(site.app)
    assert api_login(attacker, ADMIN).status_code == 200
    planted = attacker.cookies[COOKIE_NAME]

    victim = TestClient(site.app)
    form_token = login_form_token(victim)
    victim.cookies.set(COOKIE_NAME, planted, domain="testserver.local")
    before = stored_session_count(site)
    assert form_login(victim, FACILITATOR, form_token).status_code == 303
    issued = victim.cookies[COOKIE_NAME]
    assert issued != planted
    assert signed_in_as(site, issued) == FACILITATOR
    assert signed_in_as(site, planted) is None  # replaced, not kept alongside
    assert stored_session_count(site) == before  # one closed, one opened


def first_observation(site: DemoWeb) -> models.Observation:
    with site.session() as session:
        observation = session.exec(select(models.Observation)).first()
    assert observation is not None
    return observation


def test_form_posts_without_or_with_a_wrong_csrf_token_are_refused(site: DemoWeb) -> None:
    facilitator, other = site.browser(FACILITATOR), site.browser(ADMIN)
    observation = first_observation(site)
    target = f"/observations/{observation.id}/comments"
    for token in (None, "", "faux-jeton", other.csrf):  # missing, empty, forged, another session's
        data = (
            {"body": "Commentaire forgé"}
            if token is None
            else {"body": "Commentaire forgé", "csrf_token": token}
        )
        refused = facilitator.client.post(target, data=data, follow_redirects=False)
        assert refused.status_code == 403, token
        assert "Jeton de sécurité (CSRF) manquant ou périmé" in refused.text
    with site.session() as session:
        comments = session.exec(
            select(models.ReviewComment).where(models.ReviewComment.observation_id == observation.id)
        ).all()
    assert not any(c.body == "Commentaire forgé" for c in comments)
    assert facilitator.form(target, {"body": "Commentaire légitime"}).status_code == 303


def test_api_writes_with_the_cookie_need_the_session_csrf_header(site: DemoWeb) -> None:
    facilitator, other = site.browser(FACILITATOR), site.browser(ADMIN)
    observation = first_observation(site)
    path = f"/api/v1/observations/{observation.id}/review-status"
    for headers in ({}, {"X-CSRF-Token": "faux"}, {"X-CSRF-Token": other.csrf}):
        refused = facilitator.client.post(
            path, json={"review_status": "to_discuss"}, headers={"Accept": "application/json", **headers}
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "csrf_failed"


def test_sign_out_and_sign_in_forms_check_their_tokens(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    token = browser.client.cookies[COOKIE_NAME]
    assert browser.client.post("/logout", follow_redirects=False).status_code == 403
    assert signed_in_as(site, token) == FACILITATOR  # a forged sign-out ends nothing

    client = TestClient(site.app)
    client.get("/login")  # sets the double-submit cookie
    mismatched = form_login(client, ADMIN, "pas-celui-du-cookie")
    assert mismatched.status_code == 401
    assert "Formulaire expiré" in mismatched.text
    assert COOKIE_NAME not in client.cookies
