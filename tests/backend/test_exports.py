"""Exports as a workshop meets them: every format opened back with the tool people use, on the demo
programme plus observations whose notes name patients. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
import xlsxwriter
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import OBSERVERS, STRUCTURES, build_demo
from backend.errors import ApiError
from backend.exports.csv import Separator
from backend.exports.rows import (
    COLUMN_HEADERS,
    WITHHELD_NOTE,
    ExportRow,
    ExportScope,
    count_export_rows,
    iter_export_rows,
    pseudonyms_for,
    uuid_text,
)
from backend.exports.service import ExportFormat, start_export
from backend.exports.summary import workshop_figures
from backend.exports.xlsx import DATE_COLUMNS, DateStyles, _write_rows_xml, write_xlsx
from backend.privacy.kinds import REPLACEMENTS
from backend.review.filters import ObservationFilter
from backend.sync.records import save_observation
from shared import schema
from shared.schema import ReviewStatus

# Notes an observer might type on the ward; every identifier in them must vanish from exports.
IDENTIFYING_NOTES = {
    "chambre 12, Mme Dupont refuse le bilan, la fille rappelle au 06 12 34 56 78": (
        "Dupont",
        "06 12 34 56 78",
    ),
    "NIR 1 85 05 78 006 084 91 ressaisi à la main, DDN 12/03/1945": ("1 85 05 78 006 084 91", "12/03/1945"),
    "Compte rendu envoyé à jean.lefevre@gmail.com au lieu du médecin, M. Lefèvre prévenu": (
        "jean.lefevre@gmail.com",
        "Lefèvre",
    ),
}
SECRET_WORDS = [word for words in IDENTIFYING_NOTES.values() for word in words]


@dataclass
class Workshop:
    programme_id: int
    identifying: list[uuid.UUID]


def _add_identifying_observations(session: Session) -> list[uuid.UUID]:
    """Observations with identifiers in their notes, stored as a push stores them (waiting to be screened,
    backend/privacy/pending.py), and marked "to discuss" so they land on the workshop pack's cards."""
    visit_row = session.exec(select(models.Visit).order_by(col(models.Visit.started_at))).first()
    assert visit_row is not None
    visit = schema.Visit.model_validate(visit_row.model_dump(include=set(schema.Visit.model_fields)))
    ids = []
    for number, note in enumerate(IDENTIFYING_NOTES):
        observation = schema.Observation.logged(
            visit.id,
            visit.started_at + timedelta(minutes=5 + number),
            "interruption",
            role=visit.observed_roles[0] if visit.observed_roles else None,
            interruption_source="phone",
            dimensions=["rhythm", "work_content"],
            effect="negative",
            impacts=["care_quality"],
            note=note,
            created_at=visit.started_at,
            updated_at=visit.started_at,
        )
        row = save_observation(session, observation, visit)
        row.privacy_pending = True
        row.review_status = ReviewStatus.TO_DISCUSS.value
        ids.append(observation.id)
    session.commit()
    return ids


@pytest.fixture
def workshop(session: Session) -> Workshop:
    summary = build_demo(session)
    return Workshop(summary.programme_id, _add_identifying_observations(session))


def _export(
    session: Session, export_format: ExportFormat, criteria: ObservationFilter, **options: object
) -> bytes:
    separator: Separator = ";" if options.pop("separator", ";") == ";" else ","
    scope = ExportScope.model_validate({"criteria": criteria, **options})
    started = start_export(session, scope, export_format, actor_user_id=None, via="test", separator=separator)
    return b"".join(started.chunks)


def _csv_rows(data: bytes, delimiter: str = ";") -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_csv_opens_with_the_french_excel_dialect(session: Session, workshop: Workshop) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id)
    rows = _csv_rows(_export(session, ExportFormat.CSV, criteria))

    assert len(rows) == count_export_rows(session, ExportScope(criteria=criteria))
    first = rows[0]
    assert first["Catégorie (code)"] and first["Catégorie"]
    assert first["Début"][19:] in {"+01:00", "+02:00"}  # ISO 8601 in Paris time, with its offset
    mine = {
        row["Identifiant"]: row
        for row in rows
        if row["Identifiant"] in {str(i) for i in workshop.identifying}
    }
    assert len(mine) == 3
    for row in mine.values():
        assert row["Catégorie"] == "Interruption"
        assert row["Dimensions (codes)"] == "work_content|rhythm"  # grid order, whatever the database
        assert row["Dimensions du travail touchées"] == "Contenu du travail | Rythme"
        assert row["Impact sur"] == "Qualité des soins"
        assert row["Statut de relecture"] == "À discuter en atelier"
        assert row["Note signalée (confidentialité)"] == "oui"
        assert any(marker in row["Note"] for marker in REPLACEMENTS.values())  # masked by the server


def test_csv_with_commas_when_asked(session: Session, workshop: Workshop) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id, category="interruption")
    rows = _csv_rows(_export(session, ExportFormat.CSV, criteria, separator=","), delimiter=",")
    assert rows and all(row["Catégorie (code)"] == "interruption" for row in rows)


def test_no_identifier_and_no_observer_name_leaves_in_any_format(
    session: Session, workshop: Workshop
) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id)
    texts = {
        "csv": _export(session, ExportFormat.CSV, criteria).decode("utf-8-sig"),
        "json": _export(session, ExportFormat.JSON, criteria).decode(),
        "pdf": "\n".join(
            page.extract_text()
            for page in PdfReader(io.BytesIO(_export(session, ExportFormat.PDF, criteria))).pages
        ),
    }
    workbook = load_workbook(io.BytesIO(_export(session, ExportFormat.XLSX, criteria)))
    texts["xlsx"] = "\n".join(
        str(cell)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    )
    for name, text in texts.items():
        for secret in [*SECRET_WORDS, *OBSERVERS]:
            assert secret not in text, f"{secret!r} found in the {name} export"


def test_xlsx_has_the_observations_and_summary_sheets_with_charts(
    session: Session, workshop: Workshop
) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id)
    expected = count_export_rows(session, ExportScope(criteria=criteria))
    workbook = load_workbook(io.BytesIO(_export(session, ExportFormat.XLSX, criteria)))

    assert workbook.sheetnames == [
        "Observations",
        "Par catégorie",
        "Par professionnel",
        "Par outil",
        "Par dimension",
        "Par effet",
        "Par heure",
        "Par jour",
        "Taux par heure observée",
        "À propos",
    ]
    observations = workbook["Observations"]
    header = [cell.value for cell in observations[1]]
    assert header[:4] == ["Identifiant", "Structure", "Unité", "Observateur"]
    assert observations.max_row == expected + 1
    assert observations.freeze_panes == "A2"
    assert observations.auto_filter.ref == f"A1:AL{expected + 1}"
    assert observations.column_dimensions["Z"].width > 50  # the note column is wide enough to read
    for name in workbook.sheetnames[1:-1]:
        # openpyxl keeps a sheet's charts private
        charts = workbook[name]._charts  # type: ignore[attr-defined]
        assert len(charts) == 1, name  # native charts the facilitator can restyle
    assert sum(_numbers(workbook["Par catégorie"], 2)) == expected
    assert sum(_numbers(workbook["Par heure"], 1)) == expected
    assert sum(_numbers(workbook["Par jour"], 1)) == expected
    rates = workbook["Taux par heure observée"]
    names = [row[0] for row in rates.iter_rows(min_row=2, values_only=True)]
    assert names == [*sorted(s.name for s in STRUCTURES), "Ensemble"]
    assert _numbers(rates, 3)[-1] == expected
    assert all(rate > 0 for rate in _numbers(rates, 4))  # observations per observed hour


def _numbers(sheet: object, column: int) -> list[float]:
    """The numbers of one column, header row left out."""
    assert isinstance(sheet, Worksheet)
    values = [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, int | float) for v in values), values
    return [float(v) for v in values if isinstance(v, int | float)]


def test_workshop_pack_prints_the_cards_to_discuss(session: Session, workshop: Workshop) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id)
    to_discuss = count_export_rows(
        session, ExportScope(criteria=criteria.model_copy(update={"review_status": ReviewStatus.TO_DISCUSS}))
    )
    unapproved = PdfReader(io.BytesIO(_export(session, ExportFormat.PDF, criteria)))
    unapproved_text = "\n".join(page.extract_text() for page in unapproved.pages)
    assert "ressaisi à la main" not in unapproved_text  # no verbatim before a facilitator approves it
    assert "(note non approuvée pour les ateliers)" in unapproved_text
    for observation in session.exec(select(models.Observation)).all():
        observation.verbatim_approved = observation.note is not None
        session.add(observation)
    session.commit()
    reader = PdfReader(io.BytesIO(_export(session, ExportFormat.PDF, criteria)))
    text = "\n".join(page.extract_text() for page in reader.pages)

    assert "Dossier d'atelier" in reader.pages[0].extract_text()
    assert "Chiffres clés" in text
    assert "Situations à discuter en atelier" in text
    assert f"{to_discuss}. " in text  # one numbered card per observation to discuss
    assert f"{to_discuss + 1}. " not in text.split("Situations à discuter en atelier")[1]
    assert sum(text.count(marker) for marker in REPLACEMENTS.values()) >= 5  # masked on the cards
    assert "ressaisi à la main" in text  # ... while the situation stays readable


def test_filters_select_the_same_observations_in_every_format(session: Session, workshop: Workshop) -> None:
    structure = session.exec(
        select(models.Structure).where(models.Structure.name == STRUCTURES[0].name)
    ).one()
    criteria = ObservationFilter(
        programme_id=workshop.programme_id, structure_id=structure.id, category="interruption"
    )
    csv_ids = [row["Identifiant"] for row in _csv_rows(_export(session, ExportFormat.CSV, criteria))]
    json_ids = [
        row["observation_id"]
        for row in json.loads(_export(session, ExportFormat.JSON, criteria))["observations"]
    ]
    sheet = load_workbook(io.BytesIO(_export(session, ExportFormat.XLSX, criteria)))["Observations"]
    xlsx_ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    database_ids = session.exec(
        select(models.Observation.id).where(
            models.Observation.structure_id == structure.id,
            models.Observation.category == "interruption",
            models.Observation.deleted == False,  # noqa: E712
        )
    ).all()

    assert csv_ids == json_ids == xlsx_ids
    assert sorted(csv_ids) == sorted(str(i) for i in database_ids)
    assert len(csv_ids) > 0


def test_pseudonyms_are_stable_across_exports(session: Session, workshop: Workshop) -> None:
    everything = json.loads(
        _export(session, ExportFormat.JSON, ObservationFilter(programme_id=workshop.programme_id))
    )
    effects = json.loads(
        _export(
            session,
            ExportFormat.JSON,
            ObservationFilter(programme_id=workshop.programme_id, category="alert"),
        )
    )
    first = {row["observation_id"]: row["observer"] for row in everything["observations"]}
    second = {row["observation_id"]: row["observer"] for row in effects["observations"]}
    assert second and all(first[i] == pseudonym for i, pseudonym in second.items())
    assert set(first.values()) == {f"O{n}" for n in range(1, len(OBSERVERS) + 1)}
    by_observer = {str(o.id): o.observer_id for o in session.exec(select(models.Observation)).all()}
    pseudonym_of: dict[int, str] = {}
    for observation_id, pseudonym in first.items():
        assert pseudonym_of.setdefault(by_observer[observation_id], pseudonym) == pseudonym  # one each


def test_anonymous_structures_are_s_numbers(session: Session, workshop: Workshop) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id)
    data = _export(session, ExportFormat.CSV, criteria, anonymous_structures=True)
    rows = _csv_rows(data)
    assert {row["Structure"] for row in rows} == {f"S{n}" for n in range(1, len(STRUCTURES) + 1)}
    pdf_text = "\n".join(
        p.extract_text()
        for p in PdfReader(
            io.BytesIO(_export(session, ExportFormat.PDF, criteria, anonymous_structures=True))
        ).pages
    )
    for structure in STRUCTURES:
        assert structure.name not in data.decode("utf-8-sig")
        assert structure.name not in pdf_text


def test_every_export_is_in_the_audit_log(session: Session, workshop: Workshop) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id, category="login")
    expected = count_export_rows(session, ExportScope(criteria=criteria))
    for export_format in ExportFormat:
        _export(session, export_format, criteria)
    events = session.exec(
        select(models.AuditEvent).where(col(models.AuditEvent.action).startswith("export."))
    ).all()
    assert [e.action for e in events] == [f"export.{f.value}" for f in ExportFormat]
    for event in events:
        assert event.target_type == "programme" and event.target_id == str(workshop.programme_id)
        assert event.details["rows"] == expected
        assert event.details["filters"] == {"programme_id": workshop.programme_id, "category": "login"}


def test_a_flagged_note_the_guard_cannot_explain_is_withheld(session: Session, workshop: Workshop) -> None:
    observation = session.exec(
        select(models.Observation).where(col(models.Observation.note).is_not(None))
    ).first()
    assert observation is not None
    observation.privacy_flagged = True  # flagged by hand in review, or by another version of the guard
    session.add(observation)
    session.commit()
    rows = json.loads(
        _export(session, ExportFormat.JSON, ObservationFilter(programme_id=workshop.programme_id))
    )
    exported = next(r for r in rows["observations"] if r["observation_id"] == str(observation.id))
    assert exported["note"] == WITHHELD_NOTE


def test_a_structure_outside_the_readers_scope_is_refused(session: Session, workshop: Workshop) -> None:
    structures = session.exec(select(models.Structure).order_by(col(models.Structure.id))).all()
    mine, other = structures[0].id, structures[1].id
    assert mine is not None and other is not None
    scope = ExportScope(
        criteria=ObservationFilter(structure_id=other), allowed_structure_ids=frozenset({mine})
    )
    with pytest.raises(ApiError) as refused:
        start_export(session, scope, ExportFormat.CSV, actor_user_id=None, via="test")
    assert refused.value.status_code == 404
    # Without naming a structure, a reader's export holds only their own structures.
    own = ExportScope(criteria=ObservationFilter(), allowed_structure_ids=frozenset({mine}))
    rows = _csv_rows(
        b"".join(start_export(session, own, ExportFormat.CSV, actor_user_id=None, via="test").chunks)
    )
    assert rows and {row["Structure"] for row in rows} == {structures[0].name}
    assert session.exec(select(models.AuditEvent)).all()[-1].details["rows"] == len(rows)


def test_an_unknown_code_in_the_filter_says_so(session: Session, workshop: Workshop) -> None:
    scope = ExportScope(
        criteria=ObservationFilter(programme_id=workshop.programme_id, category="interuption")
    )
    with pytest.raises(ApiError) as refused:
        start_export(session, scope, ExportFormat.CSV, actor_user_id=None, via="test")
    assert refused.value.status_code == 422
    assert "interuption" in refused.value.message


def test_xlsx_rows_keep_awkward_text_as_text() -> None:
    # The observation rows are written as sheet XML directly: escaping must hold for any note.
    awkward = [
        '=1+1 & <b>"gras"</b>',
        "  espaces\u00a0et tabulation\tgardés ",
        "contrôle\x01\x0b\ufffesupprimé",
        "<r><t>pas du texte riche</t></r>",
        "_x0041_ reste tel quel",
    ]
    fields = len(ExportRow._fields)
    rows = [ExportRow._make([text, 42, True, None, *[""] * (fields - 4)]) for text in awkward]
    body = io.BytesIO()
    assert _write_rows_xml(rows, body, DateStyles(1, 2)) == len(awkward)
    root = ElementTree.fromstring(b"<sheetData>" + body.getvalue() + b"</sheetData>")  # noqa: S314 (our own XML)
    texts = [t.text for t in root.iter("t")]
    assert texts[0::2] == [
        '=1+1 & <b>"gras"</b>',
        "  espaces\u00a0et tabulation\tgardés ",
        "contrôlesupprimé",  # characters XML cannot carry are dropped
        "<r><t>pas du texte riche</t></r>",
        "_x005F_x0041_ reste tel quel",  # Excel reads _x005F_ as "_": it shows the text as typed
    ]
    assert texts[1::2] == ["oui"] * len(awkward)
    assert [c.get("r") for c in root.find("row")] == ["A2", "B2", "C2"]  # type: ignore[union-attr]
    assert root.find("row/c[@r='B2']/v").text == "42"  # type: ignore[union-attr]
    preserved = [t.get("{http://www.w3.org/XML/1998/namespace}space") for t in root.iter("t")]
    assert preserved[2] == "preserve" and preserved[0] is None  # only where spaces lead or trail


def _xlsxwriter_sheet(rows: list[ExportRow]) -> bytes:
    """The observations sheet as XlsxWriter itself writes it, cell by cell (the export's former way)."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("Observations")
    sheet.write_row(0, 0, list(COLUMN_HEADERS.values()))
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    for number, row in enumerate(rows, start=1):
        for column, (key, value) in enumerate(zip(COLUMN_HEADERS, row, strict=True)):
            if key in DATE_COLUMNS and value:
                moment = datetime.fromisoformat(str(value)).replace(tzinfo=None)
                sheet.write_datetime(number, column, moment, date_format)
            elif isinstance(value, bool):
                sheet.write_string(number, column, "oui" if value else "non")
            elif isinstance(value, int):
                sheet.write_number(number, column, value)
            elif value:
                sheet.write_string(number, column, value)
    workbook.close()
    return out.getvalue()


def test_xlsx_rows_read_back_as_xlsxwriter_would_have_written_them(
    session: Session, workshop: Workshop
) -> None:
    scope = ExportScope(criteria=ObservationFilter(programme_id=workshop.programme_id))
    real = list(iter_export_rows(session, scope))
    awkward = [
        real[0]._replace(observation_id=text, unit=text, note=text, comments=text, severity=7)
        for text in ['=1+1 & <b>"gras"</b>', " espaces autour ", "ligne\nsuivante", "_x0041_", "émoji 🙂"]
    ]
    rows = [*real, *awkward]
    figures = workshop_figures(session, scope, pseudonyms_for(session, scope))
    written = io.BytesIO()
    assert write_xlsx(rows, figures, written) == len(rows)

    ours = load_workbook(written)["Observations"]
    theirs = load_workbook(io.BytesIO(_xlsxwriter_sheet(rows)))["Observations"]
    assert list(ours.iter_rows(values_only=True)) == list(theirs.iter_rows(values_only=True))
    with zipfile.ZipFile(written) as package:
        sheet_xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert f'<dimension ref="A1:AL{len(rows) + 1}"/>' in sheet_xml
    assert f'<autoFilter ref="A1:AL{len(rows) + 1}"/>' in sheet_xml


def test_an_xlsx_without_observations_still_opens(session: Session, workshop: Workshop) -> None:
    criteria = ObservationFilter(
        programme_id=workshop.programme_id, date_from=date(2001, 1, 1), date_to=date(2001, 1, 2)
    )
    workbook = load_workbook(io.BytesIO(_export(session, ExportFormat.XLSX, criteria)))
    observations = workbook["Observations"]
    assert [row[0] for row in observations.iter_rows(values_only=True)] == ["Identifiant"]
    assert observations.freeze_panes == "A2"
    assert workbook["À propos"]["B3"].value == "0"


def test_observation_ids_keep_their_usual_form_whatever_the_database() -> None:
    observation_id = uuid.uuid4()
    assert uuid_text(observation_id) == str(observation_id)
    assert uuid_text(observation_id.hex) == str(observation_id)  # as SQLite keeps it
    assert uuid_text(observation_id.hex.upper()) == str(observation_id)


def test_the_words_of_a_text_search_are_kept_neither_in_the_export_nor_in_the_audit_log(
    session: Session, workshop: Workshop
) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id, text="dupont")
    exported = json.loads(_export(session, ExportFormat.JSON, criteria))
    assert exported["filters"] == {"programme_id": workshop.programme_id, "text_search": True}
    event = session.exec(select(models.AuditEvent).where(models.AuditEvent.action == "export.json")).one()
    assert event.details["filters"] == {"programme_id": workshop.programme_id, "text_search": True}
    assert "dupont" not in json.dumps(event.details)


def test_workshop_pack_names_no_professional_in_a_small_cell(session: Session, workshop: Workshop) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id)
    programme = session.get_one(models.Programme, workshop.programme_id)

    def pack_text() -> str:
        reader = PdfReader(io.BytesIO(_export(session, ExportFormat.PDF, criteria)))
        return "\n".join(page.extract_text() for page in reader.pages).split(
            "Situations à discuter en atelier"
        )[1]

    programme.small_cell_threshold = 1  # no cell is ever smaller than one observation
    session.add(programme)
    session.commit()
    assert "petit effectif" not in pack_text() and "Secret statistique" not in pack_text()

    programme.small_cell_threshold = 100_000  # every cell is small: no card says who, nor at what hour
    session.add(programme)
    session.commit()
    cards = pack_text()
    assert "Secret statistique" in cards
    assert "professionnel non précisé (petit effectif)" in cards
    assert not re.search(r"\d{2} h \d{2}", cards)


def test_an_export_with_anonymous_structures_generalises_small_cells(
    session: Session, workshop: Workshop
) -> None:
    criteria = ObservationFilter(programme_id=workshop.programme_id)

    def rows(anonymous: bool) -> list[dict[str, Any]]:
        exported = _export(session, ExportFormat.JSON, criteria, anonymous_structures=anonymous)
        return list(json.loads(exported)["observations"])

    named = rows(anonymous=False)
    programme = session.get_one(models.Programme, workshop.programme_id)
    programme.small_cell_threshold = 100_000  # every cell is small
    session.add(programme)
    session.commit()
    anonymous = rows(anonymous=True)
    assert len(anonymous) == len(named)
    with_role = [row for row in anonymous if row["role"] is not None]
    assert with_role and all(row["role"] == "non précisé (petit effectif)" for row in with_role)
    assert all(row["role_code"] is None and len(row["occurred_at"]) == 10 for row in with_role)
    # Exports for the facilitators themselves, structures named, keep every detail.
    assert any(row["role_code"] for row in rows(anonymous=False))

    programme.small_cell_threshold = 1
    session.add(programme)
    session.commit()
    assert [r["role_code"] for r in rows(anonymous=True)] == [r["role_code"] for r in named]
