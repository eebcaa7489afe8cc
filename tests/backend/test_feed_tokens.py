"""Feed tokens as their owners handle them: on the account page (shown once, listed, revoked) and with
``vigie feed-token create|list|revoke``; each one opens the OData feed until it is revoked."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select
from typer.testing import CliRunner

from backend import models
from backend.admin.demo_data import DEMO_FACILITATOR_EMAIL, DEMO_VIEWER_EMAIL
from backend.auth.users import UserRole, create_user
from backend.cli import app
from backend.odata.tokens import create_feed_token
from backend.settings import get_settings
from tests.factories import DemoWeb

runner = CliRunner()
TOKEN = re.compile(r"vigie_feed_[A-Za-z0-9_-]{43}")


def _opens_the_feed(demo: DemoWeb, token: str) -> bool:
    credentials = base64.b64encode(f"x:{token}".encode()).decode()
    response = TestClient(demo.app).get("/odata/v4/", headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code in {200, 401}
    return bool(response.status_code == 200)


def _actions(demo: DemoWeb) -> list[str]:
    with demo.session() as session:
        return list(
            session.exec(
                select(models.AuditEvent.action)
                .where(col(models.AuditEvent.action).like("feed_token.%"))
                .order_by(col(models.AuditEvent.id))
            ).all()
        )


def test_the_account_page_shows_a_new_token_once_and_revokes_it(demo: DemoWeb) -> None:
    browser = demo.browser(DEMO_VIEWER_EMAIL)
    page = browser.get("/account/feed-tokens")
    assert page.status_code == 200 and "/odata/v4/" in page.text and DEMO_VIEWER_EMAIL in page.text
    created = browser.form("/account/feed-tokens", {"name": "Power BI direction"})
    assert created.status_code == 200
    (token,) = TOKEN.findall(created.text)
    assert _opens_the_feed(demo, token)
    again = browser.get("/account/feed-tokens")
    assert "Power BI direction" in again.text and token not in again.text  # shown once only
    token_id = re.search(r'data-token-id="(\d+)"', again.text)
    assert token_id is not None

    other = demo.browser(DEMO_FACILITATOR_EMAIL)
    assert other.form(f"/account/feed-tokens/{token_id.group(1)}/revoke").status_code == 404  # not theirs
    assert _opens_the_feed(demo, token)
    revoked = browser.form(f"/account/feed-tokens/{token_id.group(1)}/revoke")
    assert revoked.status_code == 303
    assert not _opens_the_feed(demo, token)
    assert "révoqué" in browser.get(revoked.headers["location"]).text


def test_a_token_needs_a_name(demo: DemoWeb) -> None:
    browser = demo.browser(DEMO_VIEWER_EMAIL)
    refused = browser.form("/account/feed-tokens", {"name": "   "})
    assert refused.status_code == 422 and "Nommez le jeton" in refused.text
    assert not TOKEN.search(refused.text)


@pytest.fixture
def cli_on(demo: DemoWeb, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", demo.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_cli_creates_lists_and_revokes_tokens(demo: DemoWeb, cli_on: None) -> None:
    before = len(_actions(demo))
    created = runner.invoke(
        app, ["feed-token", "create", "--user", DEMO_FACILITATOR_EMAIL, "--name", "Excel ARS"]
    )
    assert created.exit_code == 0, created.output
    (token,) = TOKEN.findall(created.output)
    assert _opens_the_feed(demo, token)

    listed = runner.invoke(app, ["feed-token", "list", "--user", DEMO_FACILITATOR_EMAIL.upper()])
    assert listed.exit_code == 0 and "Excel ARS" in listed.output and token not in listed.output
    number = re.search(r"^(\d+)\s+Excel ARS", listed.output, re.MULTILINE)
    assert number is not None

    revoked = runner.invoke(app, ["feed-token", "revoke", "--user", DEMO_FACILITATOR_EMAIL, number.group(1)])
    assert revoked.exit_code == 0, revoked.output
    assert not _opens_the_feed(demo, token)
    assert "révoqué le" in runner.invoke(app, ["feed-token", "list", "--user", DEMO_FACILITATOR_EMAIL]).output
    assert _actions(demo)[before:] == ["feed_token.create", "feed_token.revoke"]

    unknown = runner.invoke(app, ["feed-token", "create", "--user", "personne@nulle.part", "--name", "x"])
    assert unknown.exit_code == 1 and "Aucun compte" in unknown.output
    not_theirs = runner.invoke(app, ["feed-token", "revoke", "--user", DEMO_VIEWER_EMAIL, number.group(1)])
    assert not_theirs.exit_code == 1 and "introuvable" in not_theirs.output


def test_a_deactivated_account_s_token_no_longer_opens_the_feed(demo: DemoWeb) -> None:
    with demo.session() as session:
        user = create_user(
            session,
            email="partie@vigie.test",
            full_name="Partie du programme",
            role=UserRole.FACILITATOR,
            password="mot-de-passe-long",
            programme_ids=[demo.summary.programme_id],
        )
        session.commit()
        token, _record = create_feed_token(session, user, "Excel", actor_user_id=user.id, via="test")
        assert _opens_the_feed(demo, token)
        user.is_active = False
        session.add(user)
        session.commit()
    assert not _opens_the_feed(demo, token)
