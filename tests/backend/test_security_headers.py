"""Security headers on every answer, a Content-Security-Policy the pages really live with, request body
size limits with a structured 413, and CORS closed unless origins are listed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.admin.demo_data import DEMO_PASSWORD
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.models import Observer, Structure
from backend.security import (
    DOCS_POLICY,
    MAX_BODY_BYTES,
    MAX_PUSH_BODY_BYTES,
    MIB,
    PAGE_POLICY,
)
from backend.settings import Settings
from backend.sync.devices import create_enrolment_code
from backend.web.templating import STATIC, TEMPLATES
from shared.schema import NOTE_MAX_LENGTH
from shared.sync import MAX_BATCH
from tests.conftest import DemoSite
from tests.e2e.browser import chromium
from tests.factories import (
    ADMIN,
    BROWSER_ACCEPT,
    DemoWeb,
    demo_web,
    enrol,
    make_site,
    observation,
    post_enrolment,
    statuses,
)

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    # Headers and limits sit in front of the database: one engine is enough (SQLite).
    with demo_web("sqlite", tmp_path_factory.mktemp("headers")) as demo:
        yield demo


def assert_common_headers(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_pages_carry_a_strict_content_security_policy(site: DemoWeb) -> None:
    anonymous = site.browser(None)
    login = anonymous.get("/login")
    assert login.status_code == 200
    assert_common_headers(login)
    assert login.headers["content-security-policy"] == PAGE_POLICY
    policy = dict(d.strip().split(" ", 1) for d in PAGE_POLICY.split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["form-action"] == "'self'"

    admin = site.browser(ADMIN)
    for path in ("/programmes/1", "/observations", "/admin/devices", "/admin/audit", "/no-such-page"):
        response = admin.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        assert response.headers["content-security-policy"] == PAGE_POLICY, path
        assert_common_headers(response)
    assert "strict-transport-security" not in login.headers  # plain http here


def test_api_answers_and_files_carry_the_headers_too(site: DemoWeb) -> None:
    client = TestClient(site.app)
    for response in (client.get("/health"), client.get("/api/v1/taxonomy"), client.get("/api/v1/nowhere")):
        assert_common_headers(response)
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    stylesheet = client.get("/static/vigie.css")
    assert stylesheet.status_code == 200
    assert_common_headers(stylesheet)
    docs = client.get("/docs")
    assert docs.headers["content-security-policy"] == DOCS_POLICY  # Swagger UI starts from inline script
    assert (
        "strict-transport-security"
        in TestClient(site.app, base_url="https://vigie.example").get("/health").headers
    )


def test_templates_hold_no_inline_script_style_element_or_handler() -> None:
    """What the policy forbids must not creep back into the pages."""
    for template in sorted(TEMPLATES.glob("*.html")):
        html = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), template.name
        assert "<style" not in html, template.name
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
        assert "javascript:" not in html, template.name
    assert (STATIC / "vigie.js").is_file()


def test_the_largest_valid_push_fits_under_the_push_limit(tmp_path: Path) -> None:
    """500 observations whose 2,000-character notes take 4 bytes a character (well over 2 MiB) go through."""
    url = f"sqlite:///{tmp_path / 'push.db'}"
    upgrade(url)
    engine = make_engine(url)
    with TestClient(create_app(Settings(database_url=url), engine=engine)) as client:
        with Session(engine) as session:
            tablet = enrol(client, session, make_site(session))
        visit = tablet.visit()
        assert statuses(tablet.push(tablet.mutation("visit", visit))) == ["applied"]
        note = "🩺" * NOTE_MAX_LENGTH
        mutations = [
            tablet.mutation("observation", observation(visit["id"], note=note)) for _ in range(MAX_BATCH)
        ]
        response = tablet.push(*mutations)
        sent = len(response.request.content)
        assert 2 * MIB < sent < MAX_PUSH_BODY_BYTES
        assert statuses(response) == ["applied"] * MAX_BATCH

        too_big = client.post(
            "/api/v1/sync/push",
            content=b"x" * (MAX_PUSH_BODY_BYTES + 1),
            headers={**tablet.headers, "Content-Type": "application/json"},
        )
        assert too_big.status_code == 413
        assert too_big.json()["code"] == "request_too_large"
    engine.dispose()


def test_an_oversized_body_is_refused_with_a_structured_413(site: DemoWeb) -> None:
    client = TestClient(site.app)
    declared = client.post(
        "/api/v1/auth/login",
        content=b"{" + b" " * MAX_BODY_BYTES + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert declared.status_code == 413
    assert declared.json() == {
        "code": "request_too_large",
        "message": "Requête trop volumineuse : 1 Mio au plus (pour un envoi de la tablette, découpez-le).",
        "details": [],
    }
    assert_common_headers(declared)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"email": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'", "password": "x"}'

    streamed = client.post(
        "/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["code"] == "request_too_large"
    # Just under the limit is an ordinary request (here: a wrong sign-in).
    fits = client.post(
        "/api/v1/auth/login",
        json={"email": "personne@vigie.demo", "password": "x" * 900, "padding": " " * (MAX_BODY_BYTES // 2)},
    )
    assert fits.status_code == 401


def test_an_oversized_form_gets_a_french_page(site: DemoWeb) -> None:
    client = TestClient(site.app, headers={"Accept": BROWSER_ACCEPT})
    response = client.post("/login", data={"email": "a" * (MAX_BODY_BYTES + 10), "password": "x"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "Requête trop volumineuse : 1 Mio au plus" in response.text


def test_cross_origin_calls_are_closed_by_default(site: DemoWeb) -> None:
    client = TestClient(site.app)
    preflight = client.options(
        "/api/v1/auth/login",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code >= 400
    assert not any(name.startswith("access-control-") for name in preflight.headers)
    simple = client.get("/api/v1/taxonomy", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in simple.headers


def test_listed_origins_and_only_they_may_call_the_api(site: DemoWeb) -> None:
    allowed = "https://outil.region.example"
    app = create_app(Settings(database_url=site.url, cors_origins=f"{allowed}/, "), engine=site.engine)
    client = TestClient(app)

    def preflight(origin: str) -> Any:
        return client.options(
            "/api/v1/sync/pull",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )

    ok = preflight(allowed)
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == allowed
    assert "access-control-allow-credentials" not in ok.headers  # never with the session cookie
    refused = preflight(EVIL)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


def enrol_a_tablet(site: DemoSite) -> None:
    engine = make_engine(site.database_url)
    with Session(engine) as session:
        observer = session.exec(select(Observer)).first()
        structure = session.exec(select(Structure)).first()
        assert observer is not None and observer.id is not None
        assert structure is not None and structure.id is not None
        code = create_enrolment_code(session, observer_id=observer.id, structure_id=structure.id).code
    engine.dispose()
    with httpx.Client(base_url=site.url, timeout=30) as client:
        answer = post_enrolment(client, code, label="Tablette CSP")
    assert answer.status_code == 201, answer.text


@pytest.mark.browser
def test_pages_work_in_chromium_under_the_policy(demo_site: DemoSite) -> None:
    """Every page the facilitators use, in a real browser: no CSP violation, charts still drawn,
    the revocation still asks before it is sent."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        violations: list[str] = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(f"{demo_site.url}/login")
        page.get_by_label("Adresse e-mail").fill(ADMIN)
        page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.get_by_role("button", name="Se déconnecter").wait_for()

        page.goto(f"{demo_site.url}/structures/1")
        bar = page.locator(".bar").first
        bar.wait_for()
        assert bar.evaluate("e => e.getBoundingClientRect().width") > 0  # inline width applied
        for path in ("/programmes/1", "/observations", "/agreement", "/admin", "/admin/audit"):
            page.goto(f"{demo_site.url}{path}")
        page.goto(f"{demo_site.url}/admin/programmes/1")
        # Not taken from the Host header: typed, when VIGIE_PUBLIC_URL does not say it (issue 18).
        page.get_by_label("Adresse du serveur vue par la tablette").fill(demo_site.url)
        page.get_by_role("button", name="Créer un code d'enrôlement").click()
        page.locator(".enrolment .qr svg").wait_for()

        enrol_a_tablet(demo_site)  # the demo has none: something to revoke
        page.goto(f"{demo_site.url}/admin/devices")
        revoke = page.get_by_role("button", name="Révoquer")
        questions: list[str] = []

        def dismiss(dialog: Any) -> None:
            questions.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", dismiss)
        revoke.first.click()
        assert questions == ["Révoquer cette tablette ? Elle ne pourra plus synchroniser."]
        assert page.get_by_role("status").count() == 0  # dismissed: nothing sent
        page.reload()
        assert page.get_by_role("button", name="Révoquer").count() == revoke.count()  # still active
        page.goto(f"{demo_site.url}/docs")
        page.get_by_text("/api/v1/taxonomy", exact=True).first.wait_for(timeout=15_000)
        assert violations == []
