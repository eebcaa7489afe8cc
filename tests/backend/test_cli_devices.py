"""Observers, enrolment codes and tablets from the ``vigie`` command, checked against the real API."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner, Result

from backend.cli import app
from backend.db import make_engine
from backend.main import create_app
from backend.settings import Settings, get_settings
from shared.sync import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.factories import Site, make_site, post_enrolment

runner = CliRunner()
CODE = re.compile(r"Code d'enrôlement : ([A-Z0-9]{4}-[A-Z0-9]{4})")
URI = re.compile(r"Adresse d'enrôlement : (vigie://enrol\?\S+)")


@pytest.fixture
def sites(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Site, Site]]:
    """Two programmes of one structure each, and the CLI pointed at their database."""
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    engine = make_engine(migrated_url)
    with Session(engine) as session:
        here, elsewhere = make_site(session, "CH Nord"), make_site(session, "EHPAD Sud")
    engine.dispose()
    yield here, elsewhere
    get_settings.cache_clear()


@pytest.fixture
def api(migrated_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=migrated_url))) as client:
        yield client


def vigie(*args: str) -> Result:
    return runner.invoke(app, list(args))


def fails_with(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def enrol(api: TestClient, code: str) -> dict[str, object]:
    response = post_enrolment(api, code)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def new_code(site: Site, *extra: str) -> Result:
    result = vigie(
        "enrolment",
        "create",
        "--observer",
        str(site.observer_ids[0]),
        "--structure",
        str(site.structure_id),
        *extra,
    )
    assert result.exit_code == 0, result.output
    return result


def printed(pattern: re.Pattern[str], result: Result) -> str:
    found = pattern.search(result.output)
    assert found, result.output
    return found.group(1)


def require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: install {package} (apt-get install {package})", pytrace=False)
    return path


def decode_qr(image: Path, tmp_path: Path) -> str:
    """What a camera would read: zbarimg on the PNG, or on the SVG as librsvg (browsers alike) draws it."""
    zbarimg = require("zbarimg", "zbar-tools")
    if image.suffix.lower() == ".svg":
        # ImageMagick's built-in SVG renderer, which zbarimg would use, draws stroked paths wrongly.
        rendered = tmp_path / "rendered.png"
        subprocess.run(
            [require("rsvg-convert", "librsvg2-bin"), "-o", str(rendered), str(image)],
            check=True,
            capture_output=True,
        )
        image = rendered
    decoded = subprocess.run([zbarimg, "--raw", "-q", str(image)], capture_output=True, text=True)
    assert decoded.returncode == 0, f"no QR code found in {image}: {decoded.stderr}"
    return decoded.stdout.strip()


def test_observer_created_from_the_cli_is_listed_with_its_programme(sites: tuple[Site, Site]) -> None:
    here, _ = sites
    created = vigie("observer", "create", "--programme", str(here.programme_id), "--name", "  Claire Martin ")
    assert created.exit_code == 0, created.output
    assert "Observateur créé" in created.output
    listed = vigie("observer", "list", "--programme", str(here.programme_id))
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if "Claire Martin" in line)
    assert "ACIA CH Nord" in line
    assert "EHPAD Sud" not in listed.output


def test_enrolment_code_printed_by_the_cli_enrols_a_tablet(sites: tuple[Site, Site], api: TestClient) -> None:
    here, _ = sites
    result = new_code(here, "--days", "3", "--server-url", "https://vigie.example.org/")
    code = printed(CODE, result)
    assert printed(URI, result) == f"vigie://enrol?server=https%3A%2F%2Fvigie.example.org&code={code}"
    assert "Valable jusqu'au" in result.output
    assert "Attention" not in result.output  # no loopback warning for a real address

    body = enrol(api, code)
    assert body["observer_id"] == here.observer_ids[0]
    assert body["structure_id"] == here.structure_id
    listed = vigie("device", "list")
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if line.startswith(f"{body['device_id']} "))
    assert "Obs 0" in line and "CH Nord" in line and "jamais" in line and "active" in line


def test_default_server_address_comes_with_a_loopback_warning(sites: tuple[Site, Site]) -> None:
    result = new_code(sites[0])
    assert "server=http%3A%2F%2F127.0.0.1%3A8000" in printed(URI, result)
    assert "ne joint que ce poste" in result.output


@pytest.mark.parametrize("name", ["enrolment.png", "enrolment.SVG"])
def test_qr_code_file_decodes_to_the_printed_uri(sites: tuple[Site, Site], tmp_path: Path, name: str) -> None:
    image = tmp_path / name
    result = new_code(sites[0], "--server-url", "http://192.168.1.10:8000", "--qr", str(image))
    assert f"QR code écrit dans : {image}" in result.output
    assert decode_qr(image, tmp_path) == printed(URI, result)


def test_revoked_tablet_pull_gets_device_revoked(sites: tuple[Site, Site], api: TestClient) -> None:
    body = enrol(api, printed(CODE, new_code(sites[0])))
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "Authorization": f"Bearer {body['device_token']}"}
    assert api.get("/api/v1/sync/pull", headers=headers).status_code == 200

    revoked = vigie("device", "revoke", str(body["device_id"]))
    assert revoked.exit_code == 0, revoked.output
    assert "révoquée" in revoked.output
    refused = api.get("/api/v1/sync/pull", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "device_revoked"

    again = vigie("device", "revoke", str(body["device_id"]))
    assert again.exit_code == 0
    assert "déjà révoquée" in again.output
    assert "révoquée le" in vigie("device", "list").output


def test_enrolment_for_an_observer_of_another_programme_is_refused(sites: tuple[Site, Site]) -> None:
    here, elsewhere = sites
    result = vigie(
        "enrolment",
        "create",
        "--observer",
        str(elsewhere.observer_ids[0]),
        "--structure",
        str(here.structure_id),
    )
    fails_with(result, "appartient au programme ACIA EHPAD Sud")
    assert "enrôlement refusé" in result.output
    assert "Code d'enrôlement :" not in result.output


def test_unknown_ids_and_wrong_arguments_give_clear_messages(
    sites: tuple[Site, Site], tmp_path: Path
) -> None:
    here, _ = sites
    enrol_here = ["enrolment", "create", "--observer", str(here.observer_ids[0])]
    enrol_here += ["--structure", str(here.structure_id)]
    refusals = [
        (
            ["enrolment", "create", "--observer", "999", "--structure", str(here.structure_id)],
            "Observateur 999",
        ),
        ([*enrol_here[:4], "--structure", "999"], "Structure 999 inconnue"),
        (["device", "revoke", "999"], "Tablette introuvable"),
        (["observer", "create", "--programme", "999", "--name", "X"], "Programme 999 inconnu"),
        (["observer", "create", "--programme", str(here.programme_id), "--name", " "], "Le nom doit"),
        ([*enrol_here, "--days", "0"], "Durée de validité invalide"),
        ([*enrol_here, "--server-url", "192.168.1.10:8000"], "Adresse du serveur invalide"),
        ([*enrol_here, "--qr", str(tmp_path / "code.jpg")], "Format du QR code inconnu"),
        ([*enrol_here, "--qr", str(tmp_path / "nowhere" / "code.png")], "Dossier introuvable"),
    ]
    for arguments, message in refusals:
        fails_with(vigie(*arguments), message)
