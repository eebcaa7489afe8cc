"""Every file Vigie hands over, read back as an outside reader does.

Spreadsheets: each XLSX and CSV export the product offers (observations in CSV with either separator and
in XLSX, whole, with anonymous structures, filtered, and as background exports build them; both
comparison workbooks; the grid's workbook) reopened by LibreOffice headless, all in one run: observation
rows come back with the JSON export's values (start and end as dates, notes as typed), and every other
cell as the file holds it. PDFs: the workshop pack in its variants and the workshop record, their pages
rendered by poppler, their glyphs all there, no text out of its place (tests/pdf_checks.py), the checks
themselves first proven on a document built to fail them. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
from sqlmodel import col, select

from backend import models
from backend.exports.csv import neutralised
from backend.exports.pdf_document import MARGIN, embedded_styles, write_document
from backend.exports.pdf_fonts import pdf_fonts
from backend.exports.rows import COLUMN_HEADERS, COLUMN_KEYS
from backend.grids.service import export_document
from backend.grids.xlsx import read_grid_xlsx, write_grid_xlsx
from backend.main import create_app
from backend.settings import Settings
from backend.workshops import actions, service
from shared.schema import ReviewStatus
from tests.databases import DATABASE_KINDS
from tests.factories import FACILITATOR, VIEWER, Browser, DemoWeb, demo_web
from tests.libreoffice import DATE_YMD, TEXT, Reopen, csv_import, reopened_by_libreoffice
from tests.pdf_checks import Margins, check_pdf

BACKGROUND_ROWS = 20  # asked from a page, an export of more rows is built in the background
# Notes as observers type them: each must come back as typed (the last one, which a spreadsheet would
# run, gets a leading ' in the CSV only).
NOTES = [
    "-> DxCare planté, ressaisie papier",
    "- relance labo (2e fois)",
    "+1 appel de la pharmacie",
    "@Marie voir avec le cadre",
    "  espaces devant",
    "Chariot enfin réparé 🙂 — « ça change tout », dit l'IDE ≥ 3 fois",
    "=) content du nouveau chariot",
]
DATE_KEYS = ("occurred_at", "ended_at", "resumed_at")
# The page the PDFs are laid out on (backend/exports/pdf_document.py): text within its margins, the
# footer's line below the bottom one.
PAGE = Margins(MARGIN, MARGIN, MARGIN, MARGIN, footer_bottom=0.5 * cm)


@dataclass
class Exports:
    """The files, by name, and for the observation exports the JSON export of the same selection."""

    directory: Path
    files: dict[str, Path]
    expected: dict[str, list[dict[str, Any]]]
    grid: dict[str, Any]


def _prepare(demo: DemoWeb) -> tuple[int, int]:
    """Notes that start like formulas, one with an emoji, all approved for workshops; a milestone in the
    read-only account's structure (the before/after pages and sheets); a workshop on its observations with
    a theme, a note and an action (the record). Returns that structure and the workshop."""
    structure_id = demo.user(VIEWER).structure_id
    assert structure_id is not None
    with demo.session() as session:
        observations = session.exec(
            select(models.Observation)
            .where(models.Observation.structure_id == structure_id)
            .order_by(col(models.Observation.occurred_at))
        ).all()
        for observation, note in zip(observations, NOTES, strict=False):
            observation.note, observation.note_masked, observation.privacy_flagged = note, note, False
            observation.review_status = ReviewStatus.TO_DISCUSS.value
        for observation in session.exec(select(models.Observation)).all():
            observation.verbatim_approved = observation.note is not None
            session.add(observation)
        days = sorted(o.occurred_at.date() for o in observations)
        session.add(
            models.Milestone(structure_id=structure_id, day=days[len(days) // 2], label="DPI déployé")
        )
        session.commit()
        facilitator = session.exec(select(models.User).where(models.User.email == FACILITATOR)).one()
        workshop = service.create_workshop(
            session,
            facilitator,
            demo.summary.programme_id,
            "Atelier relève — logiciel de soins et circuit du médicament",
            date(2026, 12, 3),
            place="Salle du conseil",
            participants="Infirmier·e : 4\nCadre de santé : 1",
            structure_ids=[structure_id],
        )
        assert workshop.id is not None
        discussed = [o.id for o in observations if o.review_status == ReviewStatus.TO_DISCUSS.value]
        service.add_observations(session, facilitator, workshop.id, discussed)
        theme = service.add_theme(session, facilitator, workshop.id, "Logiciel de soins qui se fige")
        assert theme.id is not None
        for card in session.exec(
            select(models.WorkshopCard).where(models.WorkshopCard.workshop_id == workshop.id)
        ).all():
            assert card.id is not None
            service.place_card(session, facilitator, workshop.id, card.id, theme.id)
        service.add_note(session, facilitator, workshop.id, theme.id, "Le problème revient à chaque relève.")
        draft = actions.ActionDraft(
            title="Demander à l'éditeur un correctif du gel à l'ouverture du dossier de soins",
            owner_role="Cadre de santé",
            due_on=date(2027, 1, 15),
            milestone_label="Correctif installé",
            milestone_on=date(2027, 2, 1),
        )
        actions.add_action(session, facilitator, workshop.id, draft, theme_ids=[theme.id])
        return structure_id, workshop.id


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    """The demo, behind an app that sends exports of more than BACKGROUND_ROWS rows asked from a page to
    the background."""
    directory = tmp_path_factory.mktemp("read-back")
    with demo_web(request.param, directory) as demo:
        settings = Settings(
            database_url=demo.url, export_async_rows=BACKGROUND_ROWS, export_dir=str(directory / "jobs")
        )
        demo.app = create_app(settings, engine=demo.engine)
        yield demo


def _file(browser: Browser, path: str, params: dict[str, str] | None = None) -> bytes:
    """A file as a script gets it (the API, at once)."""
    response = browser.api("GET", path, params=params or {})
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    return bytes(response.content)


def _background(browser: Browser, path: str) -> bytes:
    """A file as a page gets it: queued, built in the background, then downloaded from its page."""
    queued = browser.get(path)
    assert queued.status_code == 303, queued.text
    job_page = queued.headers["location"]
    deadline = time.monotonic() + 180
    while 'data-status="ready"' not in (page := browser.get(job_page)).text:
        assert 'data-status="failed"' not in page.text
        assert time.monotonic() < deadline, "the background export did not finish"
        time.sleep(0.2)
    response = browser.get(f"{job_page}/file")
    assert response.status_code == 200
    return bytes(response.content)


@pytest.fixture(scope="module")
def exports(site: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> Exports:
    structure_id, workshop_id = _prepare(site)
    programme = {"programme_id": str(site.summary.programme_id)}
    anonymous = {**programme, "anonymous_structures": "true"}
    filtered = {"structure_id": str(structure_id), "review_status": ReviewStatus.TO_DISCUSS.value}
    observations = "/api/v1/exports/observations"
    browser = site.browser(FACILITATOR)
    with site.session() as session:
        other = session.exec(
            select(models.Structure.id).where(
                models.Structure.programme_id == site.summary.programme_id,
                models.Structure.id != structure_id,
            )
        ).first()
        middle = session.exec(select(models.Milestone)).one().day
        grid = export_document(session, site.summary.programme_id)
    compared = {"reference_structure_id": str(structure_id), "compared_structure_id": str(other)}
    periods = {"reference_to": str(middle - timedelta(days=1)), "compared_from": str(middle)}
    selections = {  # observation exports: name → (format, query); each compared with the JSON export
        "observations.csv": ("csv", programme),
        "observations-virgule-anonymes.csv": ("csv", {**anonymous, "separator": ","}),
        "observations-filtrees.csv": ("csv", filtered),
        "observations.xlsx": ("xlsx", programme),
        "observations-anonymes.xlsx": ("xlsx", anonymous),
        "observations-filtrees.xlsx": ("xlsx", filtered),
    }
    directory = tmp_path_factory.mktemp("exports")
    contents: dict[str, bytes] = {
        name: _file(browser, f"{observations}.{kind}", query) for name, (kind, query) in selections.items()
    }
    as_json: dict[frozenset[tuple[str, str]], bytes] = {}  # one JSON export per selection
    expected = {}
    for name, (_kind, query) in selections.items():
        chosen = frozenset((k, v) for k, v in query.items() if k != "separator")
        if chosen not in as_json:
            as_json[chosen] = _file(browser, f"{observations}.json", dict(chosen))
        expected[name] = as_json[chosen]
    contents["tache-de-fond.xlsx"] = _background(browser, f"{observations}.xlsx")
    contents["tache-de-fond.csv"] = _background(browser, f"{observations}.csv")
    # Asked with no filter, the facilitator's whole scope: the programme's observations.
    expected["tache-de-fond.xlsx"] = expected["tache-de-fond.csv"] = as_json[frozenset(programme.items())]
    contents["comparaison-avant-apres.xlsx"] = _file(
        browser, f"/api/v1/exports/structures/{structure_id}/before-after.xlsx", periods
    )
    contents["comparaison-structures.xlsx"] = _file(
        browser, f"/api/v1/exports/programmes/{site.summary.programme_id}/structures-compared.xlsx", compared
    )
    grid_file = directory / "grille.xlsx"
    write_grid_xlsx(grid, grid_file)  # what `vigie grid export --programme ID grille.xlsx` writes
    for name, query in {
        "dossier.pdf": programme,
        "dossier-anonyme.pdf": anonymous,
        "dossier-structure.pdf": {"structure_id": str(structure_id)},  # with its before/after pages
        "dossier-statut.pdf": filtered,
    }.items():
        contents[name] = _file(browser, f"{observations}.pdf", query)
    contents["compte-rendu.pdf"] = browser.get(f"/workshops/{workshop_id}/record.pdf").content
    files = {"grille.xlsx": grid_file}
    for name, content in contents.items():
        files[name] = directory / name
        files[name].write_bytes(content)
    rows = {name: _json_rows(content) for name, content in expected.items()}
    return Exports(directory, files, rows, grid)


def _json_rows(content: bytes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(content)["observations"]
    return rows


# --- spreadsheets ---------------------------------------------------------------------------------------


def _separator(name: str) -> str:
    """The CSV files are named after their separator: « -virgule » for ",", else the default ";"."""
    return "," if "-virgule" in name else ";"


def _csv_columns() -> list[int]:
    """Every column as text, as a reader keeping cells as they are; start and end as dates (YMD)."""
    return [DATE_YMD if key in DATE_KEYS else TEXT for key in COLUMN_KEYS]


def _local(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=None)


def _as_xlsx_cell(key: str, value: object) -> object:
    """A JSON value as the XLSX export's cell reads back: dates as local dates, flags in French, numbers."""
    if key in DATE_KEYS:
        return _local(value)  # type: ignore[arg-type]
    if isinstance(value, bool):
        return "oui" if value else "non"
    return None if value in (None, "") else value


def _as_csv_cell(key: str, value: object) -> object:
    """A JSON value as the CSV export's cell reads back with every column as text: the same text, with a
    leading ' only where a spreadsheet would run it as a formula."""
    if key in DATE_KEYS:
        return _local(value)  # type: ignore[arg-type]
    if isinstance(value, bool):
        return "oui" if value else "non"
    if value in (None, ""):
        return None
    return neutralised(value) if isinstance(value, str) else str(value)


def _sheet_rows(sheet: Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _same_cell(original: object, reopened: object) -> bool:
    if isinstance(original, float) and isinstance(reopened, int | float):
        return abs(original - reopened) <= 1e-9 * max(1.0, abs(original))
    return original == reopened


def _check_observations(sheet: Worksheet, expected: list[dict[str, Any]], name: str, csv_file: bool) -> None:
    rows = _sheet_rows(sheet)
    assert rows[0] == list(COLUMN_HEADERS.values()), name
    assert len(rows) - 1 == len(expected), name
    as_cell = _as_csv_cell if csv_file else _as_xlsx_cell
    for number, (row, wanted) in enumerate(zip(rows[1:], expected, strict=True), start=2):
        for key, value in zip(COLUMN_KEYS, row, strict=True):
            cell = as_cell(key, wanted[key])
            if key in DATE_KEYS and cell is not None:
                assert isinstance(value, datetime), (name, number, key, value)  # a date, not text
                if csv_file:
                    # LibreOffice 7.4 takes the ISO text's offset "+01:00" for hundredths of a second.
                    value = value.replace(microsecond=0)
            assert value == cell, (name, number, key, value, cell)


def test_libreoffice_reopens_every_spreadsheet_export(exports: Exports) -> None:
    spreadsheets = {name: path for name, path in exports.files.items() if path.suffix in {".xlsx", ".csv"}}
    assert len(spreadsheets) == 11
    reopen = [
        csv_import(path, _separator(name), _csv_columns()) if path.suffix == ".csv" else Reopen(path)
        for name, path in spreadsheets.items()
    ]
    saved = reopened_by_libreoffice(reopen, exports.directory / "libreoffice")
    notes_seen: set[str] = set()
    for name, path in spreadsheets.items():
        reopened = load_workbook(saved[path])
        if name in exports.expected:
            expected = exports.expected[name]
            notes_seen |= {row["note"] for row in expected if row["note"]}
            if path.suffix == ".csv":
                _check_observations(reopened.worksheets[0], expected, name, csv_file=True)
                raw = list(csv.reader(io.StringIO(path.read_text("utf-8-sig")), delimiter=_separator(name)))
                for key in DATE_KEYS:  # in the file itself: the JSON's ISO 8601 text, offset included
                    column = COLUMN_KEYS.index(key)
                    assert [row[column] or None for row in raw[1:]] == [row[key] for row in expected]
                continue
            _check_observations(reopened["Observations"], expected, name, csv_file=False)
        # Every other sheet as the file holds it: LibreOffice loses no sheet, value, date or label.
        original = load_workbook(path)
        assert reopened.sheetnames == original.sheetnames, name
        for sheet in original.worksheets:
            if sheet.title == "Observations" and name in exports.expected:
                continue
            before, after = _sheet_rows(sheet), _sheet_rows(reopened[sheet.title])
            assert len(before) == len(after), (name, sheet.title)
            for row_a, row_b in zip(before, after, strict=True):
                assert len(row_a) == len(row_b) and all(map(_same_cell, row_a, row_b)), (
                    name,
                    sheet.title,
                    row_a,
                )
    assert set(NOTES) <= notes_seen
    # The grid a team edits in LibreOffice and saves is read back by the import as the grid it was.
    grid, problems, _places = read_grid_xlsx(saved[exports.files["grille.xlsx"]])
    assert not problems and grid == exports.grid


# --- PDFs -----------------------------------------------------------------------------------------------


def test_every_pdf_renders_with_its_glyphs_and_no_text_out_of_place(exports: Exports) -> None:
    pdfs = {name: path for name, path in exports.files.items() if path.suffix == ".pdf"}
    assert len(pdfs) == 5
    problems = {
        name: found
        for name, path in pdfs.items()
        if (found := check_pdf(path, PAGE, exports.directory / "pages" / path.stem))
    }
    assert not problems, problems


def test_the_pdf_checks_catch_a_document_built_to_fail_them(tmp_path: Path) -> None:
    """A label too wide for its cell, a paragraph too long for its box, text past the right margin in a
    font left out of the file, two texts on one spot, an emoji the font lacks: each is found."""
    fonts, style = pdf_fonts(), embedded_styles()
    body = style("body", "Normal", fontSize=10, leading=12)
    wide = Table([["Anticonstitutionnellement", "ok"]], colWidths=[2 * cm, 3 * cm])
    wide.setStyle(
        TableStyle(
            [("FONTNAME", (0, 0), (-1, -1), fonts.regular), ("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]
        )
    )
    low = Table(
        [[Paragraph("Une étiquette bien trop longue pour une case aussi basse, qui déborde dessous", body)]],
        colWidths=[4 * cm],
        rowHeights=[1 * cm],
    )
    low.setStyle(
        TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    drawing = Drawing(10 * cm, 2 * cm, initialFontName=fonts.regular)
    # Past the right margin, and in the drawing's default font, Helvetica, which is not embedded.
    drawing.add(String(15 * cm, 1 * cm, "Relations avec les patients / résidents", fontSize=9))
    drawing.add(String(0, 0, "Premier", fontName=fonts.regular, fontSize=9))
    drawing.add(String(4, 0, "Second", fontName=fonts.regular, fontSize=9))
    emoji = Paragraph("Chariot réparé 🙂", body)  # not through printable(): the font has no such glyph
    pdf = tmp_path / "cassé.pdf"
    write_document(str(pdf), [wide, Spacer(1, 12), low, Spacer(1, 12), drawing, emoji], "Cassé", "Vigie")
    found = "\n".join(check_pdf(pdf, PAGE, tmp_path / "pages"))
    assert "« Anticonstitutionnellement » is crossed by a rule" in found
    assert "« Anticonstitutionnellement » runs over the edge of its box" in found
    assert "« ok » is printed over « Anticonstitutionnellement »" in found
    assert "continues out of the box its paragraph starts in" in found
    assert "« résidents » lies outside the page margins" in found
    assert "« Second » is printed over « Premier »" in found
    assert "a character the font lacks is printed as .notdef" in found
    assert "font /Helvetica is not embedded" in found
