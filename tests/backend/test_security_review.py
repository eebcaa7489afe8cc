"""What an outside security review found (issue 18), one regression test (or more) per finding."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, select
from starlette.routing import BaseRoute
from typer.testing import CliRunner

from backend import models
from backend.admin.demo_data import DEMO_PASSWORD, DEMO_VIEWER_STRUCTURE
from backend.auth.users import UserError, UserRole, create_user
from backend.cli import app as cli
from backend.db import make_engine
from backend.main import create_app
from backend.server_process import vigie_serve
from backend.settings import Settings, get_settings
from backend.sync.devices import revoke_device
from shared.sync import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.factories import (
    ADMIN,
    BROWSER_ACCEPT,
    FACILITATOR,
    VIEWER,
    Browser,
    DemoWeb,
    Site,
    demo_web,
    make_site,
    post_enrolment,
    site_code,
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web("sqlite", tmp_path_factory.mktemp("review")) as demo:
        yield demo


# 1. A revoked tablet cannot undo its revocation by re-sending its enrolment.


def test_a_revoked_tablet_cannot_enrol_again_with_its_original_request(site: DemoWeb) -> None:
    client = TestClient(site.app)
    with site.session() as session:
        place = make_site(session, "CH Révoqué")
        code = site_code(session, place)
    installation = uuid.uuid4()
    first = post_enrolment(client, code, installation)
    assert first.status_code == 201
    # The answer was lost: the same request again is a retry and is answered.
    assert post_enrolment(client, code, installation).status_code == 201
    with site.session() as session:
        revoke_device(session, first.json()["device_id"])
    again = post_enrolment(client, code, installation)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "enrolment_code_used"
    with site.session() as session:
        device = session.get(models.Device, first.json()["device_id"])
        assert device is not None and device.revoked_at is not None


# 2. Nothing written to an XLSX becomes a formula, whatever the data or the filters say.

FORMULA = '=HYPERLINK("http://evil.example/s","Structure")'


def xlsx_formulas(content: bytes) -> list[str]:
    """The sheets of a workbook holding a formula cell (charts refer to cells by formulas of their own)."""
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        return [
            name
            for name in workbook.namelist()
            if name.startswith("xl/worksheets/") and b"<f>" in workbook.read(name)
        ]


def test_no_formula_from_data_or_filters_in_any_sheet(site: DemoWeb) -> None:
    admin = site.browser(ADMIN)
    structure_id = site.structure_id("CHU de Bellerive")
    with site.session() as session:
        structure = session.get(models.Structure, structure_id)
        assert structure is not None
        original, structure.name = structure.name, FORMULA
        session.add(structure)
        session.commit()
    try:
        for query in (
            {},
            {"structure_id": str(structure_id)},
            {"tag": FORMULA, "text": "=1+1", "anonymous_structures": "false"},
        ):
            response = admin.get("/api/v1/exports/observations.xlsx", params=query)
            assert response.status_code == 200, response.text
            assert xlsx_formulas(response.content) == [], query
            with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
                strings = workbook.read("xl/sharedStrings.xml").decode()
            assert "=HYPERLINK" in strings  # kept, as the text it is
        # The CSV, opened by Excel too, has no cell that starts like a formula.
        response = admin.get("/api/v1/exports/observations.csv", params={"separator": ","})
        cells = [cell for line in csv.reader(io.StringIO(response.text.lstrip("\ufeff"))) for cell in line]
        assert "'" + FORMULA in cells
        assert [cell for cell in cells if cell.startswith(("=", "+", "-", "@"))] == []
    finally:
        with site.session() as session:
            structure = session.get(models.Structure, structure_id)
            assert structure is not None
            structure.name = original
            session.add(structure)
            session.commit()


# 3. Behind the proxy, the lockout counts the address the trusted proxy saw, not one the client wrote.

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yml"


def test_a_forged_forwarded_for_does_not_escape_the_lockout(migrated_url: str, tmp_path: Path) -> None:
    """The documented setup: nginx appends the address it sees to whatever X-Forwarded-For the client sent.
    Here the test plays nginx at 127.0.0.1 for a client at 198.51.100.7 who writes a new address each try."""
    settings = {
        "FORWARDED_ALLOW_IPS": "*",  # what the compose file used to say: must not be what decides
        "VIGIE_TRUSTED_PROXIES": "127.0.0.1",
        "VIGIE_LOGIN_MAX_FAILURES_PER_IP": "3",
        "VIGIE_ENROLMENT_MAX_FAILURES_PER_IP": "3",
    }
    with (
        vigie_serve(migrated_url, tmp_path / "server.log", settings=settings) as base_url,
        httpx.Client(base_url=base_url) as client,
    ):
        sign_ins = [
            client.post(
                "/api/v1/auth/login",
                json={"email": f"essai{i}@vigie.test", "password": "pas-le-bon-mot"},
                headers={"X-Forwarded-For": f"203.0.113.{i}, 198.51.100.7"},
            ).status_code
            for i in range(5)
        ]
        enrolments = [
            client.post(
                "/api/v1/devices/enrol",
                json={"code": "AAAA-AAAA", "installation_id": str(uuid.uuid4()), "label": "T"},
                headers={
                    "X-Forwarded-For": f"203.0.113.{i}, 198.51.100.7",
                    PROTOCOL_HEADER: str(PROTOCOL_VERSION),
                },
            ).status_code
            for i in range(5)
        ]
    assert sign_ins[-1] == 429, sign_ins
    assert enrolments[-1] == 429, enrolments


def test_trusted_proxies_are_named_never_everyone() -> None:
    with pytest.raises(ValidationError):
        Settings(trusted_proxies="*")
    assert Settings(trusted_proxies="10.0.0.2, 172.28.0.0/24").trusted_proxy_list == [
        "10.0.0.2",
        "172.28.0.0/24",
    ]
    compose = COMPOSE.read_text()
    trusted = re.search(r'^ +VIGIE_TRUSTED_PROXIES: "([^"]+)"', compose, re.MULTILINE)
    proxy = re.search(r"^ +ipv4_address: (\S+)", compose, re.MULTILINE)
    assert trusted and proxy and trusted.group(1) == proxy.group(1)
    assert "FORWARDED_ALLOW_IPS" not in compose


# 4. Every id a request names is checked against the reader's scope: another programme's unit is not found.

EXPORTS = ("csv", "xlsx", "pdf", "json")
SECRET_UNIT = "Unité Confidentielle"


@pytest.fixture(scope="module")
def elsewhere(site: DemoWeb) -> Site:
    """A programme the demo's facilitator does not follow, with a unit whose name must not leak."""
    with site.session() as session:
        other = make_site(session, "Clinique Ailleurs")
        unit = session.get(models.Unit, other.unit_ids[0])
        assert unit is not None
        unit.name = SECRET_UNIT
        session.add(unit)
        session.commit()
    return other


def filtered_reads(programme_id: int) -> list[str]:
    """Every route that takes the observation filters: list, dashboards, each export format."""
    return [
        "/api/v1/observations",
        f"/api/v1/programmes/{programme_id}/dashboard",
        f"/api/v1/programmes/{programme_id}/comparison",
        "/observations",
        f"/programmes/{programme_id}",
        *(f"/api/v1/exports/observations.{export_format}" for export_format in EXPORTS),
    ]


@pytest.mark.parametrize("name", ["unit_id", "structure_id", "programme_id"])
def test_ids_of_another_programme_are_not_found_anywhere_filters_are_read(
    site: DemoWeb, elsewhere: Site, name: str
) -> None:
    facilitator = site.browser(FACILITATOR)
    value = {"unit_id": elsewhere.unit_ids[0], "structure_id": elsewhere.structure_id}.get(
        name, elsewhere.programme_id
    )
    for path in filtered_reads(site.summary.programme_id):
        response = facilitator.get(path, params={name: str(value)})
        assert response.status_code == 404, (path, response.status_code)
        assert SECRET_UNIT not in response.text
    # The same ids are found by someone whose scope has them.
    admin = site.browser(ADMIN)
    response = admin.get("/api/v1/exports/observations.json", params={name: str(value)})
    assert response.status_code == 200


# 5. The text filter searches only what the reader may read: never notes masked for them.

HIDDEN_WORD = "Zorglubinet"


@pytest.fixture(scope="module")
def hidden_note(site: DemoWeb) -> uuid.UUID:
    """A note in the viewer's structure that names a patient: flagged, so masked for the viewer."""
    with site.session() as session:
        observation = session.exec(
            select(models.Observation).where(
                models.Observation.structure_id == site.structure_id(DEMO_VIEWER_STRUCTURE),
                models.Observation.deleted == False,  # noqa: E712
            )
        ).first()
        assert observation is not None
        observation.note = f"Mme {HIDDEN_WORD} appelle depuis la chambre"
        observation.privacy_flagged = True
        session.add(observation)
        session.commit()
        return observation.id


def text_matches(browser: Browser, structure_id: int) -> dict[str, int]:
    query = {"text": HIDDEN_WORD}
    listed = browser.get("/api/v1/observations", params=query).json()["total"]
    dashboard = browser.get(f"/api/v1/structures/{structure_id}/dashboard", params=query).json()
    exported = browser.get("/api/v1/exports/observations.json", params=query).json()
    csv_lines = browser.get("/api/v1/exports/observations.csv", params=query).text.strip().splitlines()
    return {
        "list": listed,
        "dashboard": dashboard["observations"],
        "json": len(exported["observations"]),
        "csv": len(csv_lines) - 1,
    }


def test_a_viewer_cannot_probe_words_of_a_note_masked_for_them(site: DemoWeb, hidden_note: uuid.UUID) -> None:
    structure_id = site.structure_id(DEMO_VIEWER_STRUCTURE)
    viewer = site.browser(VIEWER)
    note = viewer.get(f"/api/v1/observations/{hidden_note}").json()["note"]
    assert HIDDEN_WORD not in note  # masked for the viewer...
    assert text_matches(viewer, structure_id) == {"list": 0, "dashboard": 0, "json": 0, "csv": 0}
    # ...while the facilitator, who reads it, finds it.
    facilitator = site.browser(FACILITATOR)
    assert text_matches(facilitator, structure_id) == {"list": 1, "dashboard": 1, "json": 1, "csv": 1}


# 6. Facilitators' comments and tags go through the privacy guard like notes.

NAMING = "Mme Durandel, chambre 12, a chuté"


def test_a_comment_or_tag_naming_a_patient_is_refused(site: DemoWeb, hidden_note: uuid.UUID) -> None:
    facilitator = site.browser(FACILITATOR)
    comment = facilitator.api("POST", f"/api/v1/observations/{hidden_note}/comments", json={"body": NAMING})
    assert comment.status_code == 422, comment.text
    assert comment.json()["code"] == "comment_names_a_patient"
    tag = facilitator.api("POST", f"/api/v1/observations/{hidden_note}/tags", json={"tag": "Mme Durandel"})
    assert tag.status_code == 422, tag.text
    assert tag.json()["code"] == "tag_names_a_patient"
    detail = facilitator.api("GET", f"/api/v1/observations/{hidden_note}").json()
    assert "Durandel" not in str(detail["comments"]) and "Mme Durandel" not in detail["tags"]


def test_comments_and_tags_written_before_the_guard_are_masked_for_a_viewer(
    site: DemoWeb, hidden_note: uuid.UUID
) -> None:
    with site.session() as session:
        author = session.exec(select(models.User).where(models.User.email == FACILITATOR)).one()
        assert author.id is not None
        session.add(models.ReviewComment(observation_id=hidden_note, author_user_id=author.id, body=NAMING))
        session.add(models.ObservationTag(observation_id=hidden_note, tag="M. Durandel"))
        session.commit()
    viewer = site.browser(VIEWER)
    detail = viewer.api("GET", f"/api/v1/observations/{hidden_note}").json()
    listed = viewer.api("GET", "/api/v1/observations", params={"page_size": "200"}).json()["items"]
    page = viewer.get("/observations").text + viewer.get(f"/observations/{hidden_note}").text
    for seen in (str(detail), str(listed), page):
        assert "Durandel" not in seen
    assert detail["comments"] and detail["comment_count"] == len(detail["comments"])
    # The facilitator, who reads notes in full, reads them as written.
    facilitator = site.browser(FACILITATOR).api("GET", f"/api/v1/observations/{hidden_note}").json()
    assert NAMING in [c["body"] for c in facilitator["comments"]] and "M. Durandel" in facilitator["tags"]


# 7. Ids beyond what the database holds are not found or refused, on pages as in the API, never a 500.

HUGE = str(2**70)


def signed_in_client(site: DemoWeb, email: str) -> tuple[TestClient, str]:
    client = TestClient(site.app, raise_server_exceptions=False, headers={"Accept": BROWSER_ACCEPT})
    response = client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200
    return client, response.json()["csrf_token"]


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """The app's routes, those of its included routers too (which are included without a prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from api_routes(router.routes)


def test_every_route_with_an_id_bounds_it(site: DemoWeb) -> None:
    client, csrf = signed_in_client(site, ADMIN)
    programme = str(site.summary.programme_id)
    form = {
        "csrf_token": csrf,
        "name": "Essai",
        "observer_id": HUGE,
        "structure_id": HUGE,
        "programme_id": HUGE,
        "days": "7",
        "active": "false",
        "email": "essai@vigie.test",
        "full_name": "Essai",
        "role": "facilitator",
        "password": "mot-de-passe-assez-long",
    }
    answers = {}
    for route in api_routes(site.app.routes):
        if not re.search(r"\{\w+_id\}", route.path):
            continue  # no id in its path (the OData feed's entity set names are checked in test_odata)
        for method in sorted(route.methods or ()):
            path = re.sub(r"\{(\w+)\}", lambda m: HUGE if m.group(1).endswith("_id") else "x", route.path)
            headers = {"X-CSRF-Token": csrf}
            if method == "POST":
                response = client.post(path, data=form, headers=headers, follow_redirects=False)
            else:
                response = client.request(method, path, headers=headers, follow_redirects=False)
            answers[f"{method} {route.path}"] = response.status_code
    # And the forms whose ids are fields rather than in the path.
    for path, fields in (
        (f"/admin/programmes/{programme}/enrolment-codes", {"observer_id": HUGE, "structure_id": "1"}),
        (f"/admin/programmes/{programme}/enrolment-codes", {"observer_id": "1", "structure_id": HUGE}),
        ("/admin/users", {"role": "facilitator", "programme_id": HUGE, "structure_id": ""}),
        ("/admin/users", {"role": "viewer", "programme_id": "", "structure_id": HUGE}),
        ("/workshop-figures", {"kind": "category_rates", "theme_id": HUGE, "structure_id": "1"}),
        (
            "/workshop-figures",
            {"kind": "before_after", "theme_id": "1", "structure_id": "1", "milestone_id": HUGE},
        ),
    ):
        response = client.post(path, data={**form, **fields}, follow_redirects=False)
        answers[f"POST {path} {fields}"] = response.status_code
    assert {name: status for name, status in answers.items() if status not in (404, 422)} == {}


# 8. No secret where it should not be: what was typed as an unknown e-mail is not in the audit log.

TYPED_PASSWORD = "Mon-Mot-De-Passe-Tape-42"


def test_a_password_typed_as_the_email_is_not_recorded(site: DemoWeb) -> None:
    client = TestClient(site.app)
    for _ in range(4):
        failed = client.post("/api/v1/auth/login", json={"email": TYPED_PASSWORD, "password": "x"})
        assert failed.status_code == 401
    # Still counted against what was typed: the fifth failure locks it out, as for a known e-mail.
    locked = client.post("/api/v1/auth/login", json={"email": TYPED_PASSWORD, "password": "x"})
    assert locked.status_code == 429
    with site.session() as session:
        recorded = [str(e.details) for e in session.exec(select(models.AuditEvent)).all()]
    assert recorded and not [details for details in recorded if TYPED_PASSWORD.lower() in details.lower()]
    assert TYPED_PASSWORD.lower() not in site.browser(ADMIN).get("/admin/audit").text.lower()
    # A known account's e-mail is still named, so that an administrator sees who was tried.
    client.post("/api/v1/auth/login", json={"email": VIEWER, "password": "pas-le-bon"})
    assert VIEWER in site.browser(ADMIN).get("/admin/audit").text


# 9. Nothing a tablet chose reaches the terminal as control characters.

HOSTILE_LABEL = "Tablette\r\x1b]0;titre piégé\x07\x1b[2J\x9b31m\u202eeliforp"


def test_the_cli_prints_no_control_character_from_the_data(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    try:
        engine = make_engine(migrated_url)
        with Session(engine) as session:
            place = make_site(session, "CH Terminal\x1b[31m")
            code = site_code(session, place)
        engine.dispose()
        with TestClient(create_app(Settings(database_url=migrated_url))) as client:
            assert post_enrolment(client, code, label=HOSTILE_LABEL).status_code == 201
        printed = CliRunner().invoke(cli, ["device", "list"])
    finally:
        get_settings.cache_clear()
    assert printed.exit_code == 0, printed.output
    assert "Tablette" in printed.output and "titre piégé" in printed.output
    controls = [ch for ch in printed.output if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf")]
    assert controls == []


def test_cli_commands_print_only_through_the_cleaning_echo() -> None:
    cli_dir = Path(__file__).resolve().parents[2] / "backend" / "cli"
    direct = [
        path.name
        for path in cli_dir.glob("*.py")
        if path.name != "common.py" and re.search(r"typer\.(echo|secho)\(|\bprint\(", path.read_text())
    ]
    assert direct == []


# 10. No-store on what a signed-in reader gets; one account per e-mail however it is spelled; no address
# taken from the Host header.


def test_api_answers_and_downloads_are_not_stored_by_caches(site: DemoWeb) -> None:
    admin = site.browser(ADMIN)
    paths = [
        "/api/v1/auth/me",
        "/api/v1/observations",
        f"/api/v1/programmes/{site.summary.programme_id}/dashboard",
        *(f"/api/v1/exports/observations.{export_format}" for export_format in EXPORTS),
    ]
    for path in paths:
        response = admin.get(path)
        assert response.status_code == 200, path
        assert response.headers.get("cache-control") == "no-store", path


def ensure_fille_account(session: Session) -> None:
    """The account "fille@vigie.demo", whose look-alike spelling with the ﬁ ligature the tests try."""
    if session.exec(select(models.User).where(models.User.email == "fille@vigie.demo")).first() is None:
        create_user(
            session,
            email="fille@vigie.demo",
            full_name="Fille",
            role=UserRole.FACILITATOR,
            password=DEMO_PASSWORD,
        )


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("FACILITATRICE@VIGIE.DEMO", "email_taken"),
        ("facilitatrice@vigie.d\u0435mo", "email_mixed_scripts"),  # a Cyrillic е
        ("facilitatri\u0441e@vigie.demo", "email_mixed_scripts"),  # a Cyrillic с
        ("\ufb01lle@vigie.demo", "email_taken"),  # the ﬁ ligature: "fille", created below
    ],
)
def test_look_alike_emails_do_not_make_a_second_account(site: DemoWeb, email: str, code: str) -> None:
    with site.session() as session:
        ensure_fille_account(session)
        with pytest.raises(UserError) as refused:
            create_user(
                session, email=email, full_name="Sosie", role=UserRole.FACILITATOR, password=DEMO_PASSWORD
            )
    assert refused.value.code == code


def test_the_ligature_spelling_signs_in_to_the_same_account(site: DemoWeb) -> None:
    with site.session() as session:
        ensure_fille_account(session)
    client = TestClient(site.app)
    response = client.post(
        "/api/v1/auth/login", json={"email": "\ufb01lle@vigie.demo", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["user"]["email"] == "fille@vigie.demo"


def test_the_enrolment_form_does_not_take_the_server_address_from_the_host_header(site: DemoWeb) -> None:
    admin = site.browser(ADMIN)
    page = admin.get(f"/admin/programmes/{site.summary.programme_id}", headers={"Host": "evil.example"})
    assert page.status_code == 200
    assert "evil.example" not in page.text
    configured = create_app(
        Settings(database_url=site.url, public_url="https://vigie.example.org/"), engine=site.engine
    )
    client = TestClient(configured, headers={"Accept": BROWSER_ACCEPT})
    client.post("/api/v1/auth/login", json={"email": ADMIN, "password": DEMO_PASSWORD})
    page = client.get(f"/admin/programmes/{site.summary.programme_id}", headers={"Host": "evil.example"})
    assert 'name="server_url" value="https://vigie.example.org"' in page.text
    assert "evil.example" not in page.text
