"""What an outside security review found (issue 18), one regression test (or more) per finding."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend import models
from backend.sync.devices import create_enrolment_code, revoke_device
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
