"""What an outside security review found (issue 18), one regression test (or more) per finding."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import ValidationError

from backend import models
from backend.server_process import vigie_serve
from backend.settings import Settings
from backend.sync.devices import create_enrolment_code, revoke_device
from shared.sync import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.factories import ADMIN, DemoWeb, demo_web, make_site, post_enrolment


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web("sqlite", tmp_path_factory.mktemp("review")) as demo:
        yield demo


# 1. A revoked tablet cannot undo its revocation by re-sending its enrolment.


def test_a_revoked_tablet_cannot_enrol_again_with_its_original_request(site: DemoWeb) -> None:
    client = TestClient(site.app)
    with site.session() as session:
        place = make_site(session, "CH Révoqué")
        code = create_enrolment_code(
            session, observer_id=place.observer_ids[0], structure_id=place.structure_id
        ).code
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
        assert session.get(models.Device, first.json()["device_id"]).revoked_at is not None


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
    compose = yaml.safe_load(COMPOSE.read_text())
    api = compose["services"]["api"]["environment"]
    proxy = compose["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    assert "FORWARDED_ALLOW_IPS" not in api
    assert api["VIGIE_TRUSTED_PROXIES"] == proxy
