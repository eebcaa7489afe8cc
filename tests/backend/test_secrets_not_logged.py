"""Tokens, enrolment codes and passwords never reach a log: a real uvicorn server (access log on, every
logger at its most verbose, SQL with its parameters) while a tablet enrols, pushes and pulls with its
bearer token and a facilitator signs in, fails, and changes password."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from backend.auth.users import UserRole, create_user
from backend.auth.web_sessions import COOKIE_NAME
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.settings import Settings
from backend.sync.devices import normalise_code
from mobile import capture
from mobile.store import Store
from mobile.sync_client import SyncClient
from tests.factories import make_site, site_code
from tests.live_app import served_in_thread

EMAIL = "secret@vigie.test"
PASSWORD = "mot-de-passe-tres-secret-1"
WRONG_PASSWORD = "essai-de-mot-de-passe-faux-2"
NEW_PASSWORD = "nouveau-mot-de-passe-secret-3"


@pytest.fixture
def server(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of uvicorn serving the app in this process, its logs going to caplog."""
    url = f"sqlite:///{tmp_path / 'vigie.db'}"
    upgrade(url)
    caplog.set_level(1)  # everything, down to uvicorn's TRACE (ASGI messages) and SQLAlchemy's rows
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    app = create_app(Settings(database_url=url, sql_echo=True))
    with served_in_thread(
        app, log_level="trace", access_log=True, log_config=None, lifespan="on"
    ) as base_url:
        yield base_url, url


def test_no_token_code_or_password_in_any_log(
    server: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base_url, database_url = server
    engine = make_engine(database_url)
    with Session(engine) as session:
        site = make_site(session, "CH Discret")
        code = site_code(session, site)
        create_user(session, email=EMAIL, full_name="Animatrice", role=UserRole.ADMIN, password=PASSWORD)
    engine.dispose()

    # The tablet, with its own client: enrol, record, push and pull with the bearer token.
    store = Store(tmp_path / "tablet.db")
    tablet = SyncClient(store)
    enrolled = tablet.enrol(base_url, code, label="Tablette discrète")
    visit = capture.start_visit(
        store,
        structure_id=site.structure_id,
        unit_id=site.unit_ids[0],
        observer_id=enrolled.observer_id,
        observed_roles=["ide"],
        context_note=None,
    )
    capture.log_observation(store, visit.id, "interruption")
    report = tablet.sync()
    assert report.pushed == 2 and report.pending == 0
    store.close()

    # A facilitator: a wrong password, then the right one (API and form), then a new password.
    with httpx.Client(base_url=base_url) as browser:
        wrong = browser.post("/api/v1/auth/login", json={"email": EMAIL, "password": WRONG_PASSWORD})
        assert wrong.status_code == 401
        signed_in = browser.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
        assert signed_in.status_code == 200
        first_cookie = browser.cookies[COOKIE_NAME]
        changed = browser.post(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
            headers={"X-CSRF-Token": signed_in.json()["csrf_token"]},
        )
        assert changed.status_code == 204, changed.text
    with httpx.Client(base_url=base_url) as browser:
        form = browser.get("/login")
        login_csrf = browser.cookies["vigie_login_csrf"]
        assert form.status_code == 200
        by_form = browser.post(
            "/login", data={"email": EMAIL, "password": NEW_PASSWORD, "login_csrf": login_csrf, "next": "/"}
        )
        assert by_form.status_code == 303
        second_cookie = browser.cookies[COOKIE_NAME]

    # The server's logs (uvicorn, SQLAlchemy, the app) and the clients' (httpx, httpcore) apart: the
    # stand-in browser's httpcore logs response headers at DEBUG, Set-Cookie included, as no browser does.
    client_side = ("httpx", "httpcore")
    server_logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith(client_side)
    )
    client_logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(client_side))
    # The capture did see the traffic and the SQL, with parameters...
    assert "POST /api/v1/sync/push" in server_logged and "GET /api/v1/sync/pull" in server_logged
    assert "POST /api/v1/devices/enrol" in server_logged and "POST /login" in server_logged
    assert "INSERT INTO observation" in server_logged and "auth.login_failed" in server_logged
    # ...and none of the secrets that went through.
    secrets = {
        "enrolment code": code,
        "enrolment code, as typed": normalise_code(code),
        "device token": enrolled.device_token,
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "new password": NEW_PASSWORD,
        "CSRF token": signed_in.json()["csrf_token"],
        "session cookie": first_cookie,
        "second session cookie": second_cookie,
    }
    assert [name for name, secret in secrets.items() if secret in server_logged] == []
    # The tablet's own client logs neither its code nor its token.
    tablet_secrets = (code, normalise_code(code), enrolled.device_token)
    assert client_logged and not any(secret in client_logged for secret in tablet_secrets)
