"""A programme's words never masked: edited by its facilitators, used at push, by rescan and by the CLI."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from backend import models
from backend.cli import app
from backend.privacy.pending import screen_pending
from backend.settings import get_settings
from tests.factories import FACILITATOR, VIEWER, DemoWeb, enrolled_tablet, observation, statuses


def test_facilitators_keep_their_software_names_out_of_masking(
    demo: DemoWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    programme_id = demo.summary.programme_id
    facilitator = demo.browser(FACILITATOR)
    saved = facilitator.form(
        f"/admin/programmes/{programme_id}/never-masked", {"terms": "Octavia\n\nZorglub, octavia"}
    )
    assert saved.status_code == 303
    page = facilitator.get(f"/admin/programmes/{programme_id}")
    assert "Octavia\nZorglub</textarea>" in page.text
    with demo.session() as session:
        assert session.get_one(models.Programme, programme_id).never_masked == ["Octavia", "Zorglub"]
        event = session.exec(
            select(models.AuditEvent).where(models.AuditEvent.action == "programme.glossary")
        ).one()
        assert event.details == {"terms": 2}
        structure = session.exec(
            select(models.Structure).where(models.Structure.programme_id == programme_id)
        ).first()
        assert structure is not None and structure.id is not None
        observer = session.exec(
            select(models.Observer).where(models.Observer.programme_id == programme_id)
        ).first()
        unit = session.exec(select(models.Unit).where(models.Unit.structure_id == structure.id)).first()
        assert observer is not None and observer.id is not None and unit is not None and unit.id is not None
        tablet = enrolled_tablet(TestClient(demo.app), session, observer.id, structure.id, unit.id)
    visit = tablet.visit()
    kept = observation(visit["id"], note="Octavia (IDE) relance Zorglub, appel de mme dupont")
    assert statuses(tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", kept))) == [
        "applied",
        "applied",
    ]
    with demo.session() as session:
        screen_pending(session)  # what the server's worker does once the push is in
        row = session.get_one(models.Observation, uuid.UUID(kept["id"]))
        assert row.note_masked == "Octavia (IDE) relance Zorglub, appel de mme [nom]"

    monkeypatch.setenv("DATABASE_URL", demo.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["privacy", "mask", "--programme", str(programme_id)], input="Octavia (IDE) absente\n"
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output == "Octavia (IDE) absente\n"


def test_a_read_only_account_cannot_change_the_glossary(demo: DemoWeb) -> None:
    programme_id = demo.summary.programme_id
    refused = demo.browser(VIEWER).form(f"/admin/programmes/{programme_id}/never-masked", {"terms": "Dupont"})
    assert refused.status_code in (403, 404)
    with demo.session() as session:
        assert "Dupont" not in session.get_one(models.Programme, programme_id).never_masked


def test_facilitators_set_the_small_cell_threshold(demo: DemoWeb) -> None:
    programme_id = demo.summary.programme_id
    facilitator = demo.browser(FACILITATOR)
    assert (
        facilitator.form(f"/admin/programmes/{programme_id}/small-cells", {"threshold": "8"}).status_code
        == 303
    )
    assert (
        'name="threshold" min="1" max="100" value="8"'
        in facilitator.get(f"/admin/programmes/{programme_id}").text
    )
    refused = facilitator.form(f"/admin/programmes/{programme_id}/small-cells", {"threshold": "0"})
    assert refused.status_code == 422
    with demo.session() as session:
        assert session.get_one(models.Programme, programme_id).small_cell_threshold == 8
