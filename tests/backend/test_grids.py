"""A programme's grid: checks with their place, drafts and immutable published versions, import and export
by `vigie grid`, and pushes checked against the version of their visit."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from backend import models
from backend.admin.service import create_programme
from backend.auth.users import UserRole, create_user
from backend.cli import app
from backend.dashboards.service import programme_dashboard
from backend.errors import ApiError
from backend.exports.rows import ExportScope, iter_export_rows
from backend.grids.service import export_document, publish, save_draft
from backend.grids.validation import grid_problems
from backend.grids.versions import current_version, published_versions, starting_document
from backend.grids.xlsx import read_grid_xlsx, write_grid_xlsx
from backend.privacy.detector import mask_notes
from backend.privacy.service import programme_glossary
from backend.review.filters import ObservationFilter
from backend.settings import get_settings
from tests.factories import NOW, Site, Tablet, observation

runner = CliRunner()


def shipped() -> dict[str, Any]:
    return copy.deepcopy(starting_document())


def with_robot_category(document: dict[str, Any]) -> dict[str, Any]:
    document["categories"].append(
        {"code": "robot", "colour": "#00695C", "timed": False, "fr": "Robot de soins", "en": "Care robot"}
    )
    return document


def places(document: Any) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in grid_problems(document)]


def test_the_shipped_grid_has_no_problem() -> None:
    assert grid_problems(shipped()) == []


def test_duplicate_codes_are_refused_with_their_place_and_the_first_use() -> None:
    document = shipped()
    document["categories"][3]["code"] = "interruption"
    document["attributes"][0]["values"][2]["code"] = "ide"
    problems = grid_problems(document)
    assert [(p.field, p.code) for p in problems] == [
        ("categories[3].code", "grid_duplicate_code"),
        ("attributes[0].values[2].code", "grid_duplicate_code"),
    ]
    assert problems[0].message == "Le code « interruption » est déjà utilisé plus haut (categories[0])."


def test_a_missing_french_label_is_refused_where_it_is_missing() -> None:
    document = shipped()
    document["categories"][1]["fr"] = "  "
    del document["attributes"][1]["values"][0]["fr"]
    problems = grid_problems(document)
    assert [(p.field, p.message) for p in problems] == [
        ("categories[1].fr", "Libellé en français manquant."),
        ("attributes[1].values[0].fr", "Libellé en français manquant."),
    ]


def test_values_used_by_no_active_category_are_refused() -> None:
    document = shipped()
    source = next(a for a in document["attributes"] if a["code"] == "interruption_source")
    index = document["attributes"].index(source)
    source["applies_to"] = []
    assert places(document) == [(f"attributes[{index}].applies_to", "grid_value_used_by_no_category")]
    # Archiving the only category it applies to leaves the values serving nothing either.
    source["applies_to"] = ["interruption"]
    document["categories"][0]["archived"] = True
    assert places(document) == [(f"attributes[{index}].applies_to", "grid_value_used_by_no_category")]


def test_bad_codes_colours_unknown_categories_and_attributes_are_refused() -> None:
    document = shipped()
    document["categories"][0]["code"] = "Pause café"
    document["categories"][1]["colour"] = "rouge"
    document["attributes"][2]["applies_to"] = ["nulle_part"]
    document["attributes"] = [a for a in document["attributes"] if a["code"] != "severity"]
    document["attributes"].append(
        {"code": "humeur", "multiple": False, "fr": "Humeur", "en": "Mood", "values": []}
    )
    found = places(document)
    assert ("categories[0].code", "grid_bad_code") in found
    assert ("categories[1].colour", "grid_bad_colour") in found
    assert ("attributes[2].applies_to[0]", "grid_unknown_category") in found
    assert ("attributes", "grid_attribute_set") in found  # the record's own attributes stay
    assert ("attributes[6].values", "grid_no_values") in found
    assert places([]) == [("", "grid_not_an_object")]


def test_a_draft_with_problems_is_refused_as_a_whole(session: Session, site: Site) -> None:
    document = shipped()
    document["categories"][2]["code"] = "login"
    document["categories"][4]["fr"] = ""
    with pytest.raises(ApiError) as refused:
        save_draft(session, site.programme_id, document, actor_user_id=None)
    assert refused.value.message == "Grille refusée : 2 problème(s) à corriger."
    assert [d.field for d in refused.value.details] == ["categories[4].code", "categories[4].fr"]


def test_publishing_freezes_a_version_and_the_next_draft_is_the_next_number(
    session: Session, site: Site
) -> None:
    assert current_version(session, site.programme_id)[0] == 1
    save_draft(session, site.programme_id, with_robot_category(shipped()), actor_user_id=None)
    assert current_version(session, site.programme_id)[0] == 1  # a draft is not what tablets get
    second = publish(session, site.programme_id, actor_user_id=None)
    assert second.number == 2
    assert current_version(session, site.programme_id)[0] == 2

    renamed = with_robot_category(shipped())
    renamed["categories"][-1]["fr"] = "Robot"
    save_draft(session, site.programme_id, renamed, actor_user_id=None)
    assert export_document(session, site.programme_id, 2)["categories"][-1]["fr"] == "Robot de soins"
    assert export_document(session, site.programme_id)["version"] == "2"
    assert publish(session, site.programme_id, actor_user_id=None).number == 3
    assert [c["code"] for c in export_document(session, site.programme_id, 1)["categories"]] == [
        c["code"] for c in starting_document()["categories"]
    ]
    actions = session.exec(select(models.AuditEvent.action).order_by(col(models.AuditEvent.id))).all()
    assert actions.count("programme.grid_publish") == 2


def test_a_deleted_code_still_used_by_data_is_refused_and_archiving_is_accepted(
    session: Session, site: Site, tablet: Tablet
) -> None:
    without_paper = shipped()
    without_paper["categories"] = [c for c in without_paper["categories"] if c["code"] != "paper"]
    save_draft(session, site.programme_id, without_paper, actor_user_id=None)  # nothing uses it yet
    visit = tablet.visit()
    results = tablet.push(
        tablet.mutation("visit", visit),
        tablet.mutation("observation", observation(visit["id"], category="paper", interruption_source=None)),
    )
    assert [r["status"] for r in results.json()["results"]] == ["applied", "applied"]
    in_use = [
        "Le code « paper » (category) a été supprimé mais 1 enregistrement(s) l'utilisent : "
        "archivez-le au lieu de le supprimer."
    ]
    # Data that came after the draft was saved: publishing checks again.
    with pytest.raises(ApiError) as refused:
        publish(session, site.programme_id, actor_user_id=None)
    assert [d.message for d in refused.value.details] == in_use
    # Saving (the editor, `vigie grid import` without --publish) reports it too, not only publishing.
    with pytest.raises(ApiError) as refused_at_save:
        save_draft(session, site.programme_id, without_paper, actor_user_id=None)
    assert [d.message for d in refused_at_save.value.details] == in_use

    archived = shipped()
    next(c for c in archived["categories"] if c["code"] == "paper")["archived"] = True
    save_draft(session, site.programme_id, archived, actor_user_id=None)
    assert publish(session, site.programme_id, actor_user_id=None).number == 2


def test_pushes_are_checked_against_the_version_of_their_visit(
    client: TestClient, session: Session, site: Site, tablet: Tablet
) -> None:
    old_visit = tablet.visit(grid_version=1)
    assert tablet.push(tablet.mutation("visit", old_visit)).json()["results"][0]["status"] == "applied"

    save_draft(session, site.programme_id, with_robot_category(shipped()), actor_user_id=None)
    publish(session, site.programme_id, actor_user_id=None)

    page = tablet.pull(0).json()
    assert page["grid"]["number"] == 2
    assert "robot" in [c["code"] for c in page["grid"]["grid"]["categories"]]
    assert (
        tablet.client.get("/api/v1/sync/pull?grid_version=2", headers=tablet.headers).json()["grid"] is None
    )
    assert (
        tablet.client.get("/api/v1/sync/pull?grid_version=1", headers=tablet.headers).json()["grid"]["number"]
        == 2
    )

    new_visit = tablet.visit(grid_version=2)
    robot = {"category": "robot", "interruption_source": None}
    results = tablet.push(
        tablet.mutation("visit", new_visit),
        tablet.mutation("observation", observation(new_visit["id"], **robot)),
        tablet.mutation("observation", observation(old_visit["id"], **robot)),
        tablet.mutation("observation", observation(old_visit["id"])),
        tablet.mutation("visit", tablet.visit(grid_version=7)),
    ).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "rejected", "applied", "rejected"]
    assert results[2]["details"][0]["message"] == "Code inconnu « robot » pour « category » (grille 1)."
    assert results[4]["details"][0] == {
        "field": "grid_version",
        "code": "unknown_grid_version",
        "message": "Version 7 de la grille inconnue pour ce programme.",
    }
    stored = session.exec(select(models.Visit.grid_version).order_by(col(models.Visit.grid_version))).all()
    assert stored == [1, 2]


def test_a_visit_from_a_tablet_without_grid_versions_keeps_the_version_current_at_its_arrival(
    session: Session, site: Site, tablet: Tablet
) -> None:
    visit = tablet.visit()
    tablet.push(tablet.mutation("visit", visit))
    assert session.exec(select(models.Visit.grid_version)).one() == 1
    # A new version is published; that tablet then ends the visit: it keeps the version it started with.
    save_draft(session, site.programme_id, with_robot_category(shipped()), actor_user_id=None)
    assert publish(session, site.programme_id, actor_user_id=None).number == 2
    ended = {**visit, "version": 2, "ended_at": NOW.isoformat()}
    assert tablet.push(tablet.mutation("visit", ended)).json()["results"][0]["status"] == "applied"
    session.expire_all()
    assert session.exec(select(models.Visit.grid_version, models.Visit.version)).one() == (1, 2)
    # A new visit of that tablet takes the version current at its arrival.
    later = tablet.visit()
    tablet.push(tablet.mutation("visit", later))
    session.expire_all()
    assert session.get_one(models.Visit, uuid.UUID(later["id"])).grid_version == 2


@pytest.fixture
def cli_database(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def test_grid_export_then_import_with_publish_makes_a_new_version(
    cli_database: str, session: Session, site: Site, tmp_path: Path
) -> None:
    file = tmp_path / "grille.json"
    exported = runner.invoke(app, ["grid", "export", "--programme", str(site.programme_id), str(file)])
    assert exported.exit_code == 0, exported.output
    document = json.loads(file.read_text(encoding="utf-8"))
    assert document["version"] == "1" and document == {**starting_document(), "version": "1"}

    file.write_text(json.dumps(with_robot_category(document), ensure_ascii=False), encoding="utf-8")
    drafted = runner.invoke(app, ["grid", "import", "--programme", str(site.programme_id), str(file)])
    assert "Grille version 2 du programme" in drafted.output and "brouillon" in drafted.output
    published = runner.invoke(
        app, ["grid", "import", "--programme", str(site.programme_id), str(file), "--publish"]
    )
    assert published.exit_code == 0, published.output
    assert "publiée" in published.output
    session.expire_all()
    assert current_version(session, site.programme_id)[0] == 2


def test_grid_import_reports_every_problem_with_its_place_in_french(
    cli_database: str, site: Site, tmp_path: Path
) -> None:
    document = shipped()
    document["categories"][1]["code"] = "interruption"
    document["attributes"][0]["fr"] = ""
    file = tmp_path / "grille.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(
        app, ["grid", "import", "--programme", str(site.programme_id), str(file), "--publish"]
    )
    assert result.exit_code == 1
    assert (
        "categories[1].code : Le code « interruption » est déjà utilisé plus haut (categories[0])."
        in result.output
    )
    assert "attributes[0].fr : Libellé en français manquant." in result.output
    assert "Grille refusée : 2 problème(s) à corriger." in result.output

    file.write_text('{\n  "categories": [,]\n}', encoding="utf-8")
    broken = runner.invoke(app, ["grid", "import", "--programme", str(site.programme_id), str(file)])
    assert broken.exit_code == 1
    assert "ligne 2, colonne 18 : JSON invalide" in broken.output


def test_a_merge_recorded_in_the_new_version_is_followed_by_dashboards_and_exports_carry_versions(
    session: Session, site: Site, tablet: Tablet
) -> None:
    old_visit = tablet.visit()
    old = [{"category": "paper"}, {"category": "equipment"}, {"category": "login"}]
    pushed = tablet.push(
        tablet.mutation("visit", old_visit),
        *(
            tablet.mutation("observation", observation(old_visit["id"], interruption_source=None, **o))
            for o in old
        ),
    ).json()["results"]
    assert {r["status"] for r in pushed} == {"applied"}

    merged = shipped()
    merged["categories"] = [c for c in merged["categories"] if c["code"] not in ("paper", "equipment")]
    merged["categories"].append(
        {
            "code": "material",
            "colour": "#455A64",
            "timed": False,
            "fr": "Matériel et papier",
            "en": "Material",
        }
    )
    merged["mappings"] = [{"attribute": "category", "old": ["paper", "equipment"], "new": ["material"]}]
    save_draft(session, site.programme_id, merged, actor_user_id=None)
    assert (
        publish(session, site.programme_id, actor_user_id=None).number == 2
    )  # merged codes are not deletions

    new_visit = tablet.visit(grid_version=2)
    results = tablet.push(
        tablet.mutation("visit", new_visit),
        tablet.mutation(
            "observation", observation(new_visit["id"], category="material", interruption_source=None)
        ),
        tablet.mutation(
            "observation", observation(new_visit["id"], category="paper", interruption_source=None)
        ),
    ).json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied", "rejected"]  # gone from version 2

    admin = create_user(
        session, email="admin@grille.test", full_name="Admin", role=UserRole.ADMIN, password="x" * 12
    )
    dashboard = programme_dashboard(session, admin, site.programme_id, ObservationFilter())
    counts = {c.code: (c.label, c.count) for c in dashboard.by_category if c.count}
    assert counts == {"material": ("Matériel et papier", 3), "login": ("Connexion / authentification", 1)}

    scope = ExportScope(criteria=ObservationFilter(programme_id=site.programme_id))
    rows = {(r.category_code, r.category, r.grid_version) for r in iter_export_rows(session, scope)}
    assert rows == {
        ("paper", "Papier / impression", 1),  # rows keep the code and label they were captured with
        ("equipment", "Matériel indisponible ou inadapté", 1),
        ("login", "Connexion / authentification", 1),
        ("material", "Matériel et papier", 2),
    }


def test_a_grid_goes_to_a_spreadsheet_like_xlsform_and_comes_back_the_same(tmp_path: Path) -> None:
    document = with_robot_category(shipped())
    document["categories"][0]["help"] = {"fr": "Toute interruption de la tâche", "en": "Any interruption"}
    document["categories"][7]["archived"] = True
    document["mappings"] = [{"attribute": "category", "old": ["paper"], "new": ["robot"]}]
    file = tmp_path / "grille.xlsx"
    write_grid_xlsx(document, file)

    workbook = load_workbook(file)
    assert workbook.sheetnames == ["survey", "choices", "mappings", "settings"]
    choices = [[cell.value for cell in row] for row in workbook["choices"].iter_rows()]
    assert choices[0][:4] == ["list_name", "name", "label::Français (fr)", "label::English (en)"]
    assert choices[1][:4] == ["category", "interruption", "Interruption", "Interruption"]
    assert ["role", "ide", "IDE", "Registered nurse"] in [row[:4] for row in choices]
    survey = [[cell.value for cell in row] for row in workbook["survey"].iter_rows()]
    assert survey[1][:2] == ["select_one role", "role"]

    read, problems, _places = read_grid_xlsx(file)
    assert problems == []
    assert read == document


def test_grid_import_of_a_spreadsheet_names_the_rows_of_its_problems(
    cli_database: str, site: Site, tmp_path: Path
) -> None:
    document = shipped()
    document["categories"][2]["fr"] = ""
    document["attributes"][1]["values"][1]["code"] = document["attributes"][1]["values"][0]["code"]
    file = tmp_path / "grille.xlsx"
    write_grid_xlsx(document, file)
    result = runner.invoke(app, ["grid", "import", "--programme", str(site.programme_id), str(file)])
    assert result.exit_code == 1
    assert "choices, ligne 4 (fr) : Libellé en français manquant." in result.output
    first_tool_line = 2 + len(document["categories"]) + len(document["attributes"][0]["values"])
    assert (
        f"choices, ligne {first_tool_line + 1} (code) : Le code « patient_record » est déjà utilisé"
        in result.output
    )

    good = tmp_path / "bonne.xlsx"
    write_grid_xlsx(with_robot_category(shipped()), good)
    published = runner.invoke(
        app, ["grid", "import", "--programme", str(site.programme_id), str(good), "--publish"]
    )
    assert "Grille version 2 du programme" in published.output and "publiée" in published.output
    exported = tmp_path / "export.xlsx"
    assert (
        runner.invoke(app, ["grid", "export", "--programme", str(site.programme_id), str(exported)]).exit_code
        == 0
    )
    assert read_grid_xlsx(exported)[0]["categories"][-1]["code"] == "robot"


def test_a_new_programme_starts_from_the_shipped_grid_as_its_published_version_1(session: Session) -> None:
    admin = create_user(
        session, email="admin@grille.test", full_name="Admin", role=UserRole.ADMIN, password="x" * 12
    )
    programme = create_programme(session, admin, "ACIA Bretagne", None, "2026.1")
    assert programme.id is not None
    versions = published_versions(session, programme.id)
    assert [(v.number, v.document) for v in versions] == [(1, starting_document("2026.1"))]


def test_the_tools_of_the_current_grid_are_never_masked_in_the_programme_s_notes(
    session: Session, site: Site
) -> None:
    assert "Orbis" not in programme_glossary(session, site.programme_id)
    document = shipped()
    tools = next(a for a in document["attributes"] if a["code"] == "tool")
    tools["values"].append({"code": "orbis", "fr": "Logiciel Orbis", "en": "Orbis software"})
    save_draft(session, site.programme_id, document, actor_user_id=None)
    assert "Orbis" not in programme_glossary(session, site.programme_id)  # a draft changes nothing yet
    publish(session, site.programme_id, actor_user_id=None)
    glossary = programme_glossary(session, site.programme_id)
    assert {"Logiciel Orbis", "Orbis"} <= set(glossary)
    assert mask_notes(["Orbis plante encore, Mme Durand attend"], glossary)[0].startswith(
        "Orbis plante encore"
    )
