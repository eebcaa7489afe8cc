"""Schemathesis against the app's own OpenAPI schema, as each kind of caller: no answer is a server
error, and every error answer has the one documented shape ``{code, message, details}``.

Runs on PostgreSQL, the production database and the stricter one (integer ranges, no NUL character in
text): the first run found eleven ways to get a 500 there that SQLite let through. Each caller fuzzes
the operations that are theirs: the anonymous caller every one; a tablet (bearer token) the sync
operations; admin, facilitator and viewer (session cookie, plus the X-CSRF-Token header on writes) the
facilitator API. Examples are few and derandomised so the run is short and the same every time;
``VIGIE_FUZZ_EXAMPLES`` raises the count for a deeper search by hand.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import (
    DEMO_ADMIN_EMAIL,
    DEMO_FACILITATOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_VIEWER_EMAIL,
    build_demo,
)
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.settings import Settings
from backend.sync.devices import create_enrolment_code
from shared.sync import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.databases import postgres_database

pytestmark = pytest.mark.postgres

EXAMPLES = int(os.environ.get("VIGIE_FUZZ_EXAMPLES", "10"))
SYNC_PATHS = ("/api/v1/sync/",)
# Whoever calls them, these answer the same: fuzzed once, as the anonymous caller.
PUBLIC_PATHS = ("/health", "/api/v1/taxonomy", "/api/v1/auth/login", "/api/v1/devices/enrol")
ERROR_KEYS = {"code", "message", "details"}
Operation = APIOperation[Any, Any, Any, Any]
DETAIL_KEYS = {"field", "code", "message"}


@dataclass(frozen=True)
class Caller:
    """How one kind of caller authenticates, and which operations it fuzzes."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    fuzzes: Callable[[Operation], bool] = lambda _operation: True


@dataclass
class FuzzSite:
    app: FastAPI
    schema: Any  # schemathesis' OpenApiSchema
    callers: dict[str, Caller]


def _is_sync(operation: Operation) -> bool:
    return operation.path.startswith(SYNC_PATHS)


def _is_public(operation: Operation) -> bool:
    return operation.path.startswith(PUBLIC_PATHS)


def _is_web(operation: Operation) -> bool:
    # Signing out would end the session the rest of the run uses; the anonymous caller still fuzzes it.
    signs_out = operation.method.upper() == "POST" and operation.path.endswith("/auth/logout")
    return not (_is_sync(operation) or _is_public(operation) or signs_out)


def _signed_in(client: TestClient, name: str, email: str) -> Caller:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return Caller(
        name,
        headers={"X-CSRF-Token": response.json()["csrf_token"]},
        cookies=dict(response.cookies),
        fuzzes=_is_web,
    )


def _enrolled_tablet(client: TestClient, session: Session) -> Caller:
    observer = session.exec(select(models.Observer).order_by(col(models.Observer.id))).first()
    assert observer is not None and observer.id is not None
    structure = session.exec(
        select(models.Structure).where(models.Structure.programme_id == observer.programme_id)
    ).first()
    assert structure is not None and structure.id is not None
    issued = create_enrolment_code(session, observer_id=observer.id, structure_id=structure.id)
    protocol = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    body = {"code": issued.code, "installation_id": str(uuid.uuid4()), "label": "Fuzz"}
    response = client.post("/api/v1/devices/enrol", json=body, headers=protocol)
    assert response.status_code == 201, response.text
    token = response.json()["device_token"]
    return Caller("device", headers={**protocol, "Authorization": f"Bearer {token}"}, fuzzes=_is_sync)


@pytest.fixture(scope="module")
def fuzz_site() -> Iterator[FuzzSite]:
    """The demo programme on PostgreSQL behind the app; every caller signed in before any fuzzing, so
    that lockouts the anonymous caller sets off (wrong passwords, wrong codes) cannot stop them."""
    with postgres_database() as url:
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            build_demo(session)
            app = create_app(Settings(database_url=url), engine=engine)
            with TestClient(app) as client:
                callers = [
                    # The tablet first: the administrators' fuzzing may revoke devices, its own among them.
                    _enrolled_tablet(client, session),
                    _signed_in(client, "admin", DEMO_ADMIN_EMAIL),
                    _signed_in(client, "facilitator", DEMO_FACILITATOR_EMAIL),
                    _signed_in(client, "viewer", DEMO_VIEWER_EMAIL),
                    Caller("anonymous"),
                ]
        try:
            schema = schemathesis.openapi.from_asgi("/openapi.json", app)
            yield FuzzSite(app, schema, {c.name: c for c in callers})
        finally:
            engine.dispose()


def error_shape_problem(content_type: str, body_text: str) -> str | None:
    """What is wrong with an error answer, or None when it has the documented shape."""
    if not content_type.startswith("application/json"):
        return f"not JSON: {content_type!r}"
    try:
        body = json.loads(body_text)
    except ValueError:
        return "unreadable JSON"
    if not isinstance(body, dict) or set(body) != ERROR_KEYS:
        return f"keys {sorted(body) if isinstance(body, dict) else type(body).__name__}"
    if not (isinstance(body["code"], str) and body["code"] and isinstance(body["message"], str)):
        return "code or message not a non-empty text"
    details = body["details"]
    if not isinstance(details, list) or not all(
        isinstance(d, dict) and set(d) == DETAIL_KEYS and all(isinstance(v, str) for v in d.values())
        for d in details
    ):
        return "details not a list of {field, code, message}"
    return None


def problem_with(operation: Operation, response: schemathesis.Response) -> str | None:
    status = response.status_code
    text = response.content.decode("utf-8", errors="replace")
    if status >= 500 and not (operation.path == "/health" and status == 503):  # documented: Health
        return f"server error {status}: {text[:300]}"
    if status >= 400:
        content_type = ";".join(response.headers.get("content-type", []))
        shape = error_shape_problem(content_type, text)
        return f"{status} error not in the documented shape ({shape}): {text[:300]}" if shape else None
    return None


def fuzz(operation: Operation, caller: Caller, mode: GenerationMode) -> list[str]:
    """Run ``EXAMPLES`` generated requests; return what went wrong (at most one report per kind)."""
    problems: dict[str, str] = {}

    @settings(
        # Invalid input is refused early and the same way: fewer examples find what there is to find.
        max_examples=EXAMPLES if mode == GenerationMode.POSITIVE else max(1, EXAMPLES // 2),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # report every problem as found, no shrinking
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case[Operation]) -> None:
        case.headers.update(caller.headers)
        try:
            response = case.call(cookies=caller.cookies)
        except Exception as exc:  # the app raised instead of answering: a 500 for a real client
            problems.setdefault(type(exc).__name__, f"raised {exc!r:.300}\n    {case.as_curl_command()}")
            return
        problem = problem_with(operation, response)
        if problem is not None:
            problems.setdefault(problem[:40], f"{problem}\n    {case.as_curl_command()}")

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no parameters, no body)
        run()
    return [f"{caller.name} {mode.value} {operation.label}: {p}" for p in problems.values()]


def operations(site: FuzzSite) -> list[Operation]:
    found = []
    for result in site.schema.get_all_operations():
        found.append(result.ok())
    return found


def test_schema_lists_the_api_of_every_caller(fuzz_site: FuzzSite) -> None:
    labels = {o.label for o in operations(fuzz_site)}
    # Pages are not in the schema; the API of tablets and of the facilitators' browsers is.
    assert {"POST /api/v1/sync/push", "GET /api/v1/sync/pull", "POST /api/v1/devices/enrol"} <= labels
    assert {"GET /api/v1/observations", "POST /api/v1/observations/{observation_id}/comments"} <= labels
    assert all(o.path.startswith(("/api/", "/health")) for o in operations(fuzz_site))


@pytest.mark.parametrize("caller_name", ["device", "admin", "facilitator", "viewer", "anonymous"])
def test_fuzzed_requests_never_get_a_server_error_and_errors_keep_their_shape(
    fuzz_site: FuzzSite, caller_name: str
) -> None:
    caller = fuzz_site.callers[caller_name]
    fuzzed = [o for o in operations(fuzz_site) if caller.fuzzes(o)]
    assert fuzzed
    problems = [
        problem
        for operation in fuzzed
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for problem in fuzz(operation, caller, mode)
    ]
    assert problems == [], "\n".join(problems)


def test_the_shape_check_catches_what_it_should() -> None:
    """The check itself: a bare FastAPI error, an HTML page and an incomplete detail are all caught."""
    good = '{"code": "not_found", "message": "Ressource introuvable.", "details": []}'
    assert error_shape_problem("application/json", good) is None
    assert error_shape_problem("application/json", '{"detail": "Not Found"}') is not None
    assert error_shape_problem("text/html; charset=utf-8", "<html></html>") is not None
    incomplete = '{"code": "c", "message": "m", "details": [{"field": "f", "code": "c"}]}'
    assert error_shape_problem("application/json", incomplete) is not None
