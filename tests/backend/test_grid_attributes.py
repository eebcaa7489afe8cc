"""Attributes a programme adds to its grid: checked in the grid, round-tripped by `vigie grid` (JSON and
XLSX), captured in pushes (checked against the visit's version, with French errors), delivered by the
pull to tablets that ask for them, counted by dashboards, shown on the observation page and exported."""

from __future__ import annotations

import base64
import copy
import csv
import html
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session, select
from typer.testing import CliRunner

from backend import models
from backend.auth.users import UserRole, create_user
from backend.cli import app
from backend.dashboards.milestones import add_milestone
from backend.dashboards.rate_comparison import PeriodsAsked, compare_periods
from backend.dashboards.service import programme_dashboard
from backend.exports.rows import COLUMN_HEADERS, ExportScope, iter_export_rows
from backend.exports.service import ExportFormat, start_export
from backend.exports.xlsx import _sheet_name
from backend.grids.form import document_from_form
from backend.grids.service import export_document, publish, save_draft
from backend.grids.validation import grid_problems
from backend.grids.versions import starting_document
from backend.grids.xlsx import read_grid_xlsx, write_grid_xlsx
from backend.odata.tokens import create_feed_token
from backend.review.filters import ObservationFilter
from backend.review.service import observation_detail
from backend.settings import get_settings
from tests.factories import Site, Tablet, observation

runner = CliRunner()

MOOD: dict[str, Any] = {
    "code": "mood",
    "multiple": False,
    "applies_to": ["interruption", "workaround"],
    "fr": "Humeur de l'équipe",
    "en": "Team mood",
    "values": [
        {"code": "calm", "fr": "Calme", "en": "Calm"},
        {"code": "tense", "fr": "Tendue", "en": "Tense"},
    ],
}
LOAD: dict[str, Any] = {
    "code": "load",
    "multiple": True,
    "fr": "Charge",
    "en": "Workload",
    "values": [
        {"code": "patients", "fr": "Patients nombreux", "en": "Many patients"},
        {"code": "staff", "fr": "Effectif réduit", "en": "Short-staffed"},
        {"code": "admissions", "fr": "Entrées", "en": "Admissions"},
    ],
}


def with_added_attributes() -> dict[str, Any]:
    document = copy.deepcopy(starting_document())
    document["attributes"] += [copy.deepcopy(MOOD), copy.deepcopy(LOAD)]
    return document


def publish_added(session: Session, site: Site) -> None:
    save_draft(session, site.programme_id, with_added_attributes(), actor_user_id=None)
    assert publish(session, site.programme_id, actor_user_id=None).number == 2


def test_a_grid_with_added_attributes_has_no_problem_and_their_shape_is_checked() -> None:
    assert grid_problems(with_added_attributes()) == []
    document = with_added_attributes()
    del document["attributes"][-1]["multiple"]
    document["attributes"][-2]["code"] = "category"
    found = [(p.field, p.code, p.message) for p in grid_problems(document)]
    assert found == [
        (
            "attributes[7].code",
            "grid_reserved_code",
            "Le code « category » est réservé : choisissez-en un autre pour cet attribut.",
        ),
        (
            "attributes[8].multiple",
            "grid_missing_field",
            "Champ « multiple » manquant ou de mauvais type (vrai/faux attendu).",
        ),
    ]


def test_added_attributes_go_to_a_spreadsheet_and_come_back_the_same(tmp_path: Path) -> None:
    document = with_added_attributes()
    file = tmp_path / "grille.xlsx"
    write_grid_xlsx(document, file)
    read, problems, _places = read_grid_xlsx(file)
    assert problems == []
    assert read["attributes"][-2:] == [MOOD, LOAD]


@pytest.fixture
def cli_database(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def test_grid_import_publishes_added_attributes_and_export_gives_them_back(
    cli_database: str, session: Session, site: Site, tmp_path: Path
) -> None:
    file = tmp_path / "grille.json"
    file.write_text(json.dumps(with_added_attributes(), ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(
        app, ["grid", "import", "--programme", str(site.programme_id), str(file), "--publish"]
    )
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert export_document(session, site.programme_id)["attributes"][-2:] == [MOOD, LOAD]


def test_the_editor_form_adds_an_attribute_with_its_values_and_categories() -> None:
    previous = copy.deepcopy(starting_document())
    form = {
        "category-count": str(len(previous["categories"])),
        **{
            f"category-{i}-{key}": str(c[key])
            for i, c in enumerate(previous["categories"])
            for key in ("code", "fr", "en", "colour")
        },
        "description-fr": previous["description"]["fr"],
        **{f"matrix-{c['code']}": "1" for c in previous["categories"]},
        **{
            f"applies-{a['code']}-{c['code']}": "on"
            for a in previous["attributes"]
            for c in previous["categories"]
            if c["code"] in a.get("applies_to", [c["code"]])
        },
        "attribute-codes": " ".join(a["code"] for a in previous["attributes"]),
        **{f"attribute-{a['code']}-{k}": a[k] for a in previous["attributes"] for k in ("fr", "en")},
        **{
            f"value-{a['code']}-{j}-{key}": v[key]
            for a in previous["attributes"]
            for j, v in enumerate(a["values"])
            for key in ("code", "fr", "en")
        },
        **{f"value-{a['code']}-count": str(len(a["values"])) for a in previous["attributes"]},
        "new-attribute-code": "mood",
        "new-attribute-fr": "Humeur de l'équipe",
        "new-attribute-en": "Team mood",
        "new-attribute-multiple": "0",
        "new-value-count": "6",
        "new-value-0-code": "calm",
        "new-value-0-fr": "Calme",
        "new-value-0-en": "Calm",
        "new-value-1-code": "tense",
        "new-value-1-fr": "Tendue",
        "new-value-1-en": "Tense",
        "new-applies-interruption": "on",
        "new-applies-workaround": "on",
    }
    document = document_from_form(form, previous)
    assert document["attributes"] == [*previous["attributes"], MOOD]
    assert grid_problems(document) == []

    # Saved as the draft, it becomes an ordinary row of the form: its choice editable, removable.
    again = {**form, "attribute-codes": form["attribute-codes"] + " mood", "new-attribute-code": ""}
    again.update(
        {"new-attribute-fr": "", "new-attribute-en": "", "new-value-0-code": "", "new-value-0-fr": ""}
    )
    again.update({"new-value-0-en": "", "new-value-1-code": "", "new-value-1-fr": "", "new-value-1-en": ""})
    again.update({"attribute-mood-fr": "Humeur", "attribute-mood-multiple": "1", "value-mood-count": "2"})
    again.update(
        {f"value-mood-{j}-{k}": v[k] for j, v in enumerate(MOOD["values"]) for k in ("code", "fr", "en")}
    )
    again.update({"applies-mood-interruption": "on"})
    edited = document_from_form(again, document)["attributes"][-1]
    assert (edited["fr"], edited["multiple"], edited["applies_to"]) == ("Humeur", True, ["interruption"])
    assert [
        a["code"]
        for a in document_from_form({**again, "attribute-mood-remove": "on"}, document)["attributes"]
    ] == [a["code"] for a in previous["attributes"]]


def _results(tablet: Tablet, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
    return list(tablet.push(*mutations).json()["results"])


def test_pushed_values_are_checked_against_the_visit_s_version_with_french_errors(
    session: Session, site: Site, tablet: Tablet
) -> None:
    old_visit = tablet.visit(grid_version=1)
    assert _results(tablet, tablet.mutation("visit", old_visit))[0]["status"] == "applied"
    publish_added(session, site)
    visit = tablet.visit(grid_version=2)
    good = observation(visit["id"], grid_attributes={"mood": ["tense"], "load": ["staff", "patients"]})
    results = _results(
        tablet,
        tablet.mutation("visit", visit),
        tablet.mutation("observation", good),
        tablet.mutation("observation", observation(visit["id"], grid_attributes={"mood": ["euphoric"]})),
        tablet.mutation("observation", observation(visit["id"], grid_attributes={"mood": ["calm", "tense"]})),
        tablet.mutation(
            "observation",
            observation(
                visit["id"], category="login", interruption_source=None, grid_attributes={"mood": ["calm"]}
            ),
        ),
        tablet.mutation("observation", observation(visit["id"], grid_attributes={"weather": ["rain"]})),
        tablet.mutation("observation", observation(visit["id"], grid_attributes={"tool": ["phone"]})),
        tablet.mutation("observation", observation(old_visit["id"], grid_attributes={"mood": ["calm"]})),
    )
    assert [r["status"] for r in results] == ["applied", "applied", *["rejected"] * 6]
    assert [r["details"][0]["message"] for r in results[2:]] == [
        "Code inconnu « euphoric » pour « mood » (grille 2).",
        "« mood » est à choix unique : une seule valeur (reçu : 2).",
        "« mood » ne s'applique qu'aux catégories : interruption, workaround.",
        "Attribut « weather » absent de la grille 2 : mettez à jour la grille de la tablette.",
        "« tool » est un champ propre de l'observation, pas un attribut ajouté par le programme.",
        "Attribut « mood » absent de la grille 1 : mettez à jour la grille de la tablette.",
    ]
    assert {r["details"][0]["field"] for r in results[2:]} == {"grid_attributes"}
    stored = session.exec(
        select(models.ObservationAttributeValue.attribute, models.ObservationAttributeValue.code).where(
            models.ObservationAttributeValue.observation_id == uuid.UUID(good["id"])
        )
    ).all()
    added = sorted(value for value in stored if value[0] in ("mood", "load"))
    assert added == [("load", "patients"), ("load", "staff"), ("mood", "tense")]

    # Edited: the values follow the new state, an attribute left empty is gone.
    edited = {**good, "version": 2, "grid_attributes": {"load": ["admissions"], "mood": []}}
    assert _results(tablet, tablet.mutation("observation", edited))[0]["status"] == "applied"
    pulled = next(o for o in tablet.pull(0).json()["observations"] if o["id"] == good["id"])
    assert pulled["grid_attributes"] == {"load": ["admissions"]}


def test_an_edit_from_an_app_older_than_added_attributes_keeps_their_values(
    session: Session, site: Site, tablet: Tablet
) -> None:
    publish_added(session, site)
    visit = tablet.visit(grid_version=2)
    recorded = observation(visit["id"], grid_attributes={"mood": ["tense"], "load": ["staff"]})
    results = _results(tablet, tablet.mutation("visit", visit), tablet.mutation("observation", recorded))
    assert [r["status"] for r in results] == ["applied", "applied"]

    # The same observation edited on an app that has never heard of added attributes: no such field.
    older_edit = {k: v for k, v in recorded.items() if k != "grid_attributes"}
    older_edit.update(version=2, effect="negative")
    assert _results(tablet, tablet.mutation("observation", older_edit))[0]["status"] == "applied"
    session.expire_all()
    stored = session.exec(
        select(models.ObservationAttributeValue.attribute, models.ObservationAttributeValue.code).where(
            models.ObservationAttributeValue.observation_id == uuid.UUID(recorded["id"])
        )
    ).all()
    assert sorted(v for v in stored if v[0] in ("mood", "load")) == [("load", "staff"), ("mood", "tense")]
    row = session.get_one(models.Observation, uuid.UUID(recorded["id"]))
    assert (row.effect, row.version) == ("negative", 2)  # the edit itself was applied

    def left() -> set[str]:
        session.expire_all()
        return set(
            session.exec(
                select(models.ObservationAttributeValue.attribute).where(
                    models.ObservationAttributeValue.observation_id == uuid.UUID(recorded["id"])
                )
            ).all()
        )

    # A newer app that clears them says so with the field: then they go.
    cleared = {**recorded, "version": 3, "effect": "negative", "grid_attributes": {}}
    assert _results(tablet, tablet.mutation("observation", cleared))[0]["status"] == "applied"
    assert not {"mood", "load"} & left()
    # The tablet of today leaves an empty field out of its records, and says in its push that it knows the
    # added attributes: the absent field then means none chosen.
    again = {**recorded, "version": 4}
    assert _results(tablet, tablet.mutation("observation", again))[0]["status"] == "applied"
    assert {"mood", "load"} <= left()
    unchosen = {k: v for k, v in recorded.items() if k != "grid_attributes"} | {"version": 5}
    pushed = tablet.push(tablet.mutation("observation", unchosen), captures=["grid_attributes", "resumption"])
    assert [r["status"] for r in pushed.json()["results"]] == ["applied"]
    assert not {"mood", "load"} & left()


def test_the_pull_gives_added_attributes_only_to_tablets_that_ask_for_them(
    session: Session, site: Site, tablet: Tablet
) -> None:
    publish_added(session, site)
    older = tablet.pull(0).json()["grid"]
    assert older["number"] == 2
    assert "mood" not in [a["code"] for a in older["grid"]["attributes"]]  # an older app knows no such field
    newer = tablet.client.get("/api/v1/sync/pull?added_attributes=true", headers=tablet.headers).json()[
        "grid"
    ]
    assert [a["code"] for a in newer["grid"]["attributes"]][-2:] == ["mood", "load"]
    # An older tablet's observations, without the field, are accepted on the same version.
    visit = tablet.visit(grid_version=2)
    results = _results(
        tablet, tablet.mutation("visit", visit), tablet.mutation("observation", observation(visit["id"]))
    )
    assert [r["status"] for r in results] == ["applied", "applied"]


def test_dashboards_the_observation_page_and_exports_show_added_attributes(
    client: TestClient, session: Session, site: Site, tablet: Tablet
) -> None:
    publish_added(session, site)
    visit = tablet.visit(grid_version=2)
    chosen = [
        {"mood": ["tense"], "load": ["staff", "patients"]},
        {"mood": ["tense"], "load": ["staff"]},
        {"mood": ["calm"]},
        {},
    ]
    observations = [observation(visit["id"], grid_attributes=values) for values in chosen]
    results = _results(
        tablet, tablet.mutation("visit", visit), *(tablet.mutation("observation", o) for o in observations)
    )
    assert {r["status"] for r in results} == {"applied"}

    admin = create_user(
        session, email="admin@attributs.test", full_name="Admin", role=UserRole.ADMIN, password="x" * 12
    )
    dashboard = programme_dashboard(session, admin, site.programme_id, ObservationFilter())
    added = {a.code: (a.label, {c.label: c.count for c in a.counts}) for a in dashboard.by_added_attribute}
    assert added == {
        "mood": ("Humeur de l'équipe", {"Tendue": 2, "Calme": 1}),
        "load": ("Charge", {"Effectif réduit": 2, "Patients nombreux": 1, "Entrées": 0}),
    }

    detail = observation_detail(session, admin, uuid.UUID(observations[0]["id"]))
    assert [(a.code, a.name, a.values) for a in detail.added_attributes] == [
        ("mood", "Humeur de l'équipe", ["tense"]),
        ("load", "Charge", ["patients", "staff"]),
    ]

    scope = ExportScope(criteria=ObservationFilter(programme_id=site.programme_id))
    rows = {r.observation_id: r for r in iter_export_rows(session, scope)}
    first = rows[observations[0]["id"]]
    assert first.grid_attribute_codes == "load:patients|load:staff|mood:tense"
    assert (
        first.grid_attributes == "Humeur de l'équipe : Tendue | Charge : Patients nombreux, Effectif réduit"
    )
    assert rows[observations[3]["id"]].grid_attribute_codes == ""
    started = start_export(session, scope, ExportFormat.CSV, actor_user_id=None, via="test", separator=";")
    text = b"".join(started.chunks).decode("utf-8-sig")
    exported = {
        r[COLUMN_HEADERS["observation_id"]]: r for r in csv.DictReader(io.StringIO(text), delimiter=";")
    }
    assert exported[observations[2]["id"]]["Attributs du programme"] == "Humeur de l'équipe : Calme"
    assert exported[observations[2]["id"]]["Attributs du programme (codes)"] == "mood:calm"

    # The spreadsheet has a summary sheet with its chart per added attribute.
    started = start_export(session, scope, ExportFormat.XLSX, actor_user_id=None, via="test", separator=";")
    workbook = load_workbook(io.BytesIO(b"".join(started.chunks)))
    assert {"Par humeur de l'équipe", "Par charge"} <= set(workbook.sheetnames)
    mood_sheet = [[c.value for c in row][:3] for row in workbook["Par humeur de l'équipe"].iter_rows()]
    assert mood_sheet == [
        ["Code", "Humeur de l'équipe", "Nombre"],
        ["tense", "Tendue", 2],
        ["calm", "Calme", 1],
    ]

    # The OData feed gives the same two columns (Excel and Power BI read them as text).
    token, _record = create_feed_token(session, admin, "Power BI", actor_user_id=admin.id, via="test")
    basic = {"Authorization": "Basic " + base64.b64encode(f"moi:{token}".encode()).decode()}
    metadata = client.get("/odata/v4/$metadata", headers=basic).text
    assert 'Name="grid_attribute_codes"' in metadata and 'Name="grid_attributes"' in metadata
    feed = client.get(
        "/odata/v4/observations?$select=observation_id,grid_attribute_codes,grid_attributes", headers=basic
    ).json()["value"]
    by_id = {row["observation_id"]: row for row in feed}
    assert by_id[observations[1]["id"]] == {
        "observation_id": observations[1]["id"],
        "grid_attribute_codes": "load:staff|mood:tense",
        "grid_attributes": "Humeur de l'équipe : Tendue | Charge : Effectif réduit",
    }


def test_an_added_attribute_s_sheet_gets_a_name_excel_accepts_and_no_other_sheet_has() -> None:
    taken = {"Par outil", "Observations"}
    assert _sheet_name("Par outil", taken) == "Par outil (2)"
    assert _sheet_name("Par outil", taken) == "Par outil (3)"
    assert _sheet_name("Par charge [patients/soignants]: ratio ?", taken) == "Par charge patients soignants r"
    assert len(_sheet_name("Par " + "très long libellé " * 4, taken)) == 31


def test_an_added_attribute_s_bar_leads_to_its_observations_and_exports_them(
    client: TestClient, session: Session, site: Site, tablet: Tablet
) -> None:
    publish_added(session, site)
    visit = tablet.visit(grid_version=2)
    chosen = [{"mood": ["tense"], "load": ["staff"]}, {"mood": ["tense"]}, {"mood": ["calm"]}, {}]
    observations = [observation(visit["id"], grid_attributes=values) for values in chosen]
    _results(
        tablet, tablet.mutation("visit", visit), *(tablet.mutation("observation", o) for o in observations)
    )
    create_user(session, email="admin@barres.test", full_name="Admin", role=UserRole.ADMIN, password="x" * 12)
    assert client.post(
        "/api/v1/auth/login", json={"email": "admin@barres.test", "password": "x" * 12}
    ).is_success

    page = client.get(f"/structures/{site.structure_id}").text
    links = sorted(set(re.findall(r'href="(/observations\?[^"]*added=mood[^"]*)"', page)))
    assert [html.unescape(link).rsplit("added=", 1)[1] for link in links] == ["mood:calm", "mood:tense"]
    query = dict(parse_qsl(urlsplit(html.unescape(links[1])).query))
    assert query == {"structure_id": str(site.structure_id), "added": "mood:tense"}
    listed = client.get("/api/v1/observations", params=query).json()
    assert sorted(item["id"] for item in listed["items"]) == sorted(o["id"] for o in observations[:2])
    listing = client.get("/observations", params=query).text
    assert "Humeur de l&#39;équipe : Tendue" in listing  # the filter chip, in words

    exported = client.get("/api/v1/exports/observations.csv", params=query)
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert sorted(r[COLUMN_HEADERS["observation_id"]] for r in rows) == sorted(
        o["id"] for o in observations[:2]
    )
    unknown = client.get("/api/v1/exports/observations.csv", params={**query, "added": "mood:euphoric"})
    assert unknown.status_code == 422
    assert "euphoric" in unknown.json()["message"]
    malformed = client.get("/api/v1/observations", params={"added": "mood"})
    assert malformed.status_code == 422


def test_before_after_compares_added_attributes_and_their_counts_lead_to_their_observations(
    client: TestClient, session: Session, site: Site, tablet: Tablet
) -> None:
    publish_added(session, site)
    day = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    sides = {
        day - timedelta(days=7): [{"mood": ["calm"]}, {"mood": ["tense"]}],
        day: [{"mood": ["tense"], "load": ["staff"]}, {"mood": ["tense"]}, {"mood": ["tense"]}, {}],
    }
    for start, chosen in sides.items():
        visit = tablet.visit(
            grid_version=2, started_at=start.isoformat(), ended_at=(start + timedelta(hours=1)).isoformat()
        )
        at = (start + timedelta(minutes=10)).isoformat()
        mutations = [
            tablet.mutation("observation", observation(visit["id"], occurred_at=at, grid_attributes=values))
            for values in chosen
        ]
        assert {r["status"] for r in _results(tablet, tablet.mutation("visit", visit), *mutations)} == {
            "applied"
        }
    admin = create_user(
        session, email="admin@comparer.test", full_name="Admin", role=UserRole.ADMIN, password="x" * 12
    )
    before, after = (day - timedelta(days=7)).date(), day.date()
    asked = PeriodsAsked(reference_from=before, reference_to=before, compared_from=after, compared_to=after)
    comparison = compare_periods(session, admin, site.structure_id, asked)
    added = {(r.attribute_label, r.label): (r.reference.count, r.compared.count) for r in comparison.rows}
    assert added[("Humeur de l'équipe", "Tendue")] == (1, 3)
    assert added[("Humeur de l'équipe", "Calme")] == (1, 0)
    assert added[("Charge", "Effectif réduit")] == (0, 1)
    tense = next(r for r in comparison.rows if r.attribute == "mood" and r.code == "tense")
    assert "« Tendue » (humeur de l'équipe)" in tense.reading

    assert client.post(
        "/api/v1/auth/login", json={"email": "admin@comparer.test", "password": "x" * 12}
    ).is_success
    query = f"reference_from={before}&reference_to={before}&compared_from={after}&compared_to={after}"
    page = client.get(f"/structures/{site.structure_id}/before-after?{query}").text
    drills = sorted(set(re.findall(r'href="(/observations\?[^"]*)" data-drill="mood"', page)))
    assert len(drills) == 3  # tense before and after, calm before
    for link in drills:
        params = dict(parse_qsl(urlsplit(html.unescape(link)).query))
        assert params["added"] in ("mood:tense", "mood:calm")
        listed = client.get("/api/v1/observations", params=params)
        assert listed.status_code == 200, listed.text
        expected = added[("Humeur de l'équipe", "Tendue" if params["added"] == "mood:tense" else "Calme")]
        assert listed.json()["total"] == (expected[0] if params["date_from"] == str(before) else expected[1])

    # The structure's workshop pack compares them too, after the categories, around its milestone.
    add_milestone(session, admin, site.structure_id, after, "Nouveau planning")
    pack = client.get("/api/v1/exports/observations.pdf", params={"structure_id": site.structure_id})
    assert pack.status_code == 200
    text = " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pack.content)).pages
    )
    compared = text.split("Avant et après les changements numériques", 1)[1]
    assert "Avant / après « Nouveau planning »" in compared and "Catégorie ou attribut" in compared
    assert "Humeur de l'équipe : Tendue" in compared and "Charge : Effectif réduit" in compared
