"""The export API as a signed-in facilitator's browser uses it, and the promise behind it: an identifier
typed on a tablet never reaches an export unmasked. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import select

from backend import models
from backend.admin.demo_data import OBSERVERS
from tests.databases import DATABASE_KINDS
from tests.factories import ADMIN, FACILITATOR, DemoWeb, Site, demo_web, enrol, observation, statuses


@pytest.fixture(params=DATABASE_KINDS)
def web(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path) as demo:
        yield demo


def _other_programme_structure(web: DemoWeb) -> int:
    """A structure in a programme the demo facilitator does not work on."""
    with web.session() as session:
        programme = models.Programme(name="Autre programme", taxonomy_version="2026.1")
        session.add(programme)
        session.flush()
        assert programme.id is not None
        structure = models.Structure(programme_id=programme.id, name="CH d'ailleurs", kind="hospital")
        session.add(structure)
        session.commit()
        assert structure.id is not None
        return structure.id


def test_exports_need_a_signed_in_user(web: DemoWeb) -> None:
    response = web.browser(None).get(
        f"/api/v1/exports/observations.csv?programme_id={web.summary.programme_id}"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_structure_outside_the_facilitators_programmes_is_not_found(web: DemoWeb) -> None:
    elsewhere = _other_programme_structure(web)
    facilitator = web.browser(FACILITATOR)
    response = facilitator.get(f"/api/v1/exports/observations.xlsx?structure_id={elsewhere}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # The admin sees every structure.
    assert (
        web.browser(ADMIN).get(f"/api/v1/exports/observations.xlsx?structure_id={elsewhere}").status_code
        == 200
    )
    with web.session() as session:
        actions = [e.action for e in session.exec(select(models.AuditEvent)).all()]
    assert actions.count("export.xlsx") == 1  # the refusal exported nothing and recorded nothing


def test_bad_filters_and_options_get_a_clear_message(web: DemoWeb) -> None:
    facilitator = web.browser(FACILITATOR)
    bad_date = facilitator.get("/api/v1/exports/observations.csv?date_from=hier")
    assert bad_date.status_code == 422
    assert bad_date.json()["code"] == "invalid_filter"
    assert bad_date.json()["details"][0]["field"] == "date_from"
    assert facilitator.get("/api/v1/exports/observations.csv?separator=%7C").status_code == 422
    assert facilitator.get("/api/v1/exports/observations.docx").status_code == 422


def test_facilitator_downloads_each_format_and_it_is_audited(web: DemoWeb) -> None:
    facilitator = web.browser(FACILITATOR)
    query = f"programme_id={web.summary.programme_id}&category=interruption"
    response = facilitator.get(f"/api/v1/exports/observations.csv?{query}&separator=%2C")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="vigie-observations-' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=","))
    assert rows and {row["Catégorie (code)"] for row in rows} == {"interruption"}

    as_json = facilitator.get(f"/api/v1/exports/observations.json?{query}").json()
    assert [r["observation_id"] for r in as_json["observations"]] == [row["Identifiant"] for row in rows]
    pdf = facilitator.get(f"/api/v1/exports/observations.pdf?{query}&anonymous_structures=true")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "Dossier d'atelier" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

    facilitator_id = web.user(FACILITATOR).id
    with web.session() as session:
        events = session.exec(
            select(models.AuditEvent).where(models.AuditEvent.actor_user_id == facilitator_id)
        ).all()
    exports = [e for e in events if e.action.startswith("export.")]
    assert [e.action for e in exports] == ["export.csv", "export.json", "export.pdf"]
    assert exports[0].details["rows"] == len(rows)
    assert exports[0].details["separator"] == ","
    assert exports[2].details["anonymous_structures"] is True


def test_an_identifier_typed_on_a_tablet_never_reaches_an_export_unmasked(web: DemoWeb) -> None:
    with web.session() as session:
        structure = session.exec(select(models.Structure).order_by(models.Structure.id)).first()  # type: ignore[arg-type]
        assert structure is not None and structure.id is not None
        units = session.exec(select(models.Unit).where(models.Unit.structure_id == structure.id)).all()
        observers = session.exec(select(models.Observer)).all()
        site = Site(
            web.summary.programme_id, structure.id, [u.id or 0 for u in units], [o.id or 0 for o in observers]
        )
        structure_id = structure.id
        tablet = enrol(TestClient(web.app), session, site)
    visit = tablet.visit()
    note = "ch. 12 M. Martin, fille au 06 12 34 56 78, NIR 2 93 03 75 123 456 84 : ressaisie complète"
    typed = observation(visit["id"], note=note)
    assert statuses(tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", typed))) == [
        "applied",
        "applied",
    ]

    facilitator = web.browser(FACILITATOR)
    query = f"structure_id={structure_id}"
    downloads = {
        export_format: facilitator.get(f"/api/v1/exports/observations.{export_format}?{query}")
        for export_format in ("csv", "json", "xlsx", "pdf")
    }
    assert all(r.status_code == 200 for r in downloads.values())
    exported = next(
        r for r in json.loads(downloads["json"].content)["observations"] if r["observation_id"] == typed["id"]
    )
    # Masked at push by the server's detector: the role and the room stay, each identifier says what it was.
    assert (
        exported["note"]
        == "ch. 12 M. [nom], fille au [téléphone], NIR [n° de sécurité sociale] : ressaisie complète"
    )
    pdf_text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(downloads["pdf"].content)).pages
    )
    texts = [downloads["csv"].content.decode("utf-8-sig"), downloads["json"].content.decode(), pdf_text]
    for text in texts:
        for secret in ("Martin", "06 12 34 56 78", "2 93 03 75 123 456 84", *OBSERVERS):
            assert secret not in text
