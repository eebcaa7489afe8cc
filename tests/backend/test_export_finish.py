"""Exports a facilitator hands over as they are: the same text in every format, the visit, tags, comments
and grid version in the rows, real dates in XLSX, chart titles as sentences, bars largest first. (Every
export reopened by LibreOffice, as an outside reader does: test_exports_read_back.py.) Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import build_demo
from backend.exports.csv import neutralised
from backend.exports.rows import ExportScope
from backend.exports.service import ExportFormat, start_export
from backend.exports.xlsx import SUMMARY_TITLES
from backend.privacy.service import note_for_export
from backend.review.filters import ObservationFilter

# Notes as observers type them: none of them calls anything, all must come out as typed.
ORDINARY_NOTES = [
    "-> DxCare planté, ressaisie papier",
    "- relance labo (2e fois)",
    "+1 appel de la pharmacie",
    "@Marie voir avec le cadre",
    "  espaces devant",
    "=) content du nouveau chariot",  # a smiley: this one a spreadsheet would run, so it is neutralised
]


def test_csv_neutralises_only_what_a_spreadsheet_would_run() -> None:
    runs = [
        "=1+1",
        ' =HYPERLINK("http://exemple.test")',
        '+HYPERLINK("http://exemple.test")',
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A9)",
        "\t=1",
    ]
    for text in runs:
        assert neutralised(text) == "'" + text, text
    for text in ORDINARY_NOTES[:-1]:
        assert neutralised(text) == text, text
    assert neutralised("Note ordinaire = rien à faire") == "Note ordinaire = rien à faire"


def _export(session: Session, export_format: ExportFormat, criteria: ObservationFilter) -> bytes:
    started = start_export(
        session, ExportScope(criteria=criteria), export_format, actor_user_id=None, via="test"
    )
    return b"".join(started.chunks)


@pytest.fixture
def programme_id(session: Session) -> int:
    """The demo programme, with ordinary notes that start like formulas on its first observations."""
    summary = build_demo(session)
    observations = session.exec(
        select(models.Observation).order_by(col(models.Observation.occurred_at)).limit(len(ORDINARY_NOTES))
    ).all()
    for observation, note in zip(observations, ORDINARY_NOTES, strict=True):
        observation.note, observation.note_masked, observation.privacy_flagged = note, note, False
        session.add(observation)
    session.commit()
    return summary.programme_id


def _json_rows(session: Session, criteria: ObservationFilter) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(_export(session, ExportFormat.JSON, criteria))["observations"]
    return rows


def test_rows_carry_the_visit_tags_comments_and_grid_version(session: Session, programme_id: int) -> None:
    # Free text like a note, the visit's context and the comments go through the same privacy guard.
    named = session.exec(select(models.Visit).order_by(col(models.Visit.started_at))).first()
    assert named is not None
    named.context_note = "Mme Dupont en chambre 12 a refusé la visite"
    session.add(named)
    session.commit()
    criteria = ObservationFilter(programme_id=programme_id)
    rows = {row["observation_id"]: row for row in _json_rows(session, criteria)}
    programme = session.get(models.Programme, programme_id)
    assert programme is not None
    for observation in session.exec(select(models.Observation)).all():
        row = rows[str(observation.id)]
        visit = session.get(models.Visit, observation.visit_id)
        assert visit is not None
        assert row["visit_id"] == str(visit.id)
        assert row["visit_context"] == note_for_export(visit.context_note, None)
        if visit.id == named.id:
            assert "Dupont" not in str(row["visit_context"]) and "[nom]" in str(row["visit_context"])
        assert row["grid_version"] == visit.grid_version == 1  # the grid the visit was captured with
        tags = session.exec(
            select(models.ObservationTag.tag).where(models.ObservationTag.observation_id == observation.id)
        ).all()
        assert row["tags"] == "|".join(sorted(tags))
        comments = session.exec(
            select(models.ReviewComment.body)
            .where(models.ReviewComment.observation_id == observation.id)
            .order_by(col(models.ReviewComment.created_at), col(models.ReviewComment.id))
        ).all()
        assert row["comments"] == (note_for_export("\n".join(comments), None) if comments else "")
    assert any(row["tags"] for row in rows.values()) and any(row["comments"] for row in rows.values())
    assert any(row["visit_context"] for row in rows.values())


def test_xlsx_has_dates_sentences_and_bars_largest_first(session: Session, programme_id: int) -> None:
    criteria = ObservationFilter(programme_id=programme_id)
    data = _export(session, ExportFormat.XLSX, criteria)
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook["Observations"]
    header = [cell.value for cell in sheet[1]]
    json_rows = _json_rows(session, criteria)
    start, end = header.index("Début") + 1, header.index("Fin") + 1
    for number, expected in enumerate(json_rows, start=2):
        started = sheet.cell(number, start)
        assert isinstance(started.value, datetime) and started.number_format == "dd/mm/yyyy hh:mm"
        local = datetime.fromisoformat(str(expected["occurred_at"])).replace(tzinfo=None)
        assert started.value == local  # the structure's local time, to the second
        if expected["ended_at"] is not None:
            assert sheet.cell(number, end).value == datetime.fromisoformat(str(expected["ended_at"])).replace(
                tzinfo=None
            )
    for name in ("Par catégorie", "Par outil"):
        counts = [row[2] for row in workbook[name].iter_rows(min_row=2, values_only=True)]
        assert counts == sorted(counts, reverse=True), name  # type: ignore[type-var]
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        charts = [package.read(n).decode() for n in package.namelist() if n.startswith("xl/charts/chart")]
    titles = {title for _label, title in SUMMARY_TITLES.values()}
    found = {title for title in titles if any(f"<a:t>{title}</a:t>" in chart for chart in charts)}
    assert found == titles
    bar_charts = [chart for chart in charts if '<c:barDir val="bar"/>' in chart]
    assert bar_charts and all('<c:orientation val="maxMin"/>' in chart for chart in bar_charts)
