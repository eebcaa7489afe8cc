"""Adding an attribute in the grid editor, in a real browser: its values, the categories it applies to, a
problem shown beside its field, publishing; then a tablet pulls it, records a value the server accepts (and
one it refuses in French), and the dashboard and the observation page show it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import DEMO_FACILITATOR_EMAIL
from backend.db import make_engine
from tests.conftest import DemoSite
from tests.e2e.browser import chromium
from tests.e2e.test_web_review import _sign_in, enrolled_on
from tests.factories import observation

pytestmark = pytest.mark.browser


def test_facilitator_adds_an_attribute_publishes_it_and_sees_it_counted(
    demo_site: DemoSite, artifacts: Path
) -> None:
    shots = artifacts / "web"
    shots.mkdir(exist_ok=True)
    with chromium() as browser:
        page = _sign_in(browser, demo_site, DEMO_FACILITATOR_EMAIL)
        page.goto(f"{demo_site.url}/admin/programmes/1/grid")
        expect(page.get_by_role("group", name="Ajouter un attribut")).to_be_visible()

        page.get_by_label("Code du nouvel attribut").focus()
        page.keyboard.type("mood")
        page.keyboard.press("Tab")
        page.keyboard.type("Humeur de l'équipe")
        page.keyboard.press("Tab")
        page.keyboard.type("Team mood")
        page.get_by_label("Nouvel attribut : choix unique ou multiple").select_option(label="unique")
        for index, (code, fr, en) in enumerate([("calm", "Calme", "Calm"), ("tense", "", "Tense")]):
            page.get_by_label(f"Nouvel attribut, code de la valeur {index + 1}").fill(code)
            page.get_by_label(f"Nouvel attribut, valeur {index + 1} en français").fill(fr)
            page.get_by_label(f"Nouvel attribut, valeur {index + 1} en anglais").fill(en)
        # The exclusion matrix of the new attribute: interruptions only (Space unticks a box).
        boxes = page.locator("input[name^='new-applies-']")
        for index in range(boxes.count()):
            box = boxes.nth(index)
            if box.get_attribute("name") != "new-applies-interruption":
                box.focus()
                page.keyboard.press("Space")
        page.screenshot(path=str(shots / "grid-attribute-0-new.png"), full_page=True)

        page.get_by_role("button", name="Enregistrer le brouillon").click()
        expect(page.get_by_role("alert")).to_contain_text("Grille refusée : 1 problème(s) à corriger.")
        expect(page.locator("#value-mood-1-fr-problem")).to_have_text("Libellé en français manquant.")
        page.get_by_role("link", name=re.compile(r"^attributes\[\d+\]\.values\[1\]\.fr$")).click()
        expect(page.get_by_label("Libellé en français de la valeur tense (mood)")).to_be_focused()
        page.keyboard.type("Tendue")
        page.get_by_role("button", name="Enregistrer le brouillon").click()
        expect(page.get_by_role("status")).to_have_text("Brouillon enregistré : relisez-le, puis publiez-le.")
        expect(page.get_by_role("group", name=re.compile(r"^Humeur de l'équipe"))).to_contain_text(
            "ajouté par le programme"
        )
        expect(page.get_by_label("« Humeur de l'équipe » pour « Interruption »")).to_be_checked()
        expect(
            page.get_by_label("« Humeur de l'équipe » pour « Connexion / authentification »")
        ).not_to_be_checked()
        page.screenshot(path=str(shots / "grid-attribute-1-draft.png"), full_page=True)
        page.get_by_role("button", name="Publier la version 2").click()
        expect(page.get_by_role("status")).to_contain_text("Version 2 publiée")

        engine = make_engine(demo_site.database_url)
        with Session(engine) as session:
            structure = session.exec(select(models.Structure).order_by(col(models.Structure.id))).first()
            observer = session.exec(
                select(models.Observer)
                .where(models.Observer.programme_id == 1)
                .order_by(col(models.Observer.id))
            ).first()
            assert structure is not None and observer is not None and structure.id and observer.id
            structure_id, observer_id = structure.id, observer.id
            unit_id = session.exec(
                select(models.Unit.id).where(models.Unit.structure_id == structure_id)
            ).first()
        engine.dispose()
        tablet = enrolled_on(demo_site, observer_id, structure_id)
        pulled = tablet.client.get("/api/v1/sync/pull?added_attributes=true", headers=tablet.headers).json()
        mood = next(a for a in pulled["grid"]["grid"]["attributes"] if a["code"] == "mood")
        assert (mood["applies_to"], [v["fr"] for v in mood["values"]]) == (
            ["interruption"],
            ["Calme", "Tendue"],
        )
        visit = tablet.visit(grid_version=2, unit_id=unit_id)
        tense = observation(visit["id"], grid_attributes={"mood": ["tense"]})
        results = tablet.push(
            tablet.mutation("visit", visit),
            tablet.mutation("observation", tense),
            tablet.mutation("observation", observation(visit["id"], grid_attributes={"mood": ["joyful"]})),
        ).json()["results"]
        assert [r["status"] for r in results] == ["applied", "applied", "rejected"]
        assert results[2]["details"][0]["message"] == "Code inconnu « joyful » pour « mood » (grille 2)."

        page.goto(f"{demo_site.url}/programmes/1")
        section = page.locator("#attribute-mood")
        expect(section.get_by_role("table", name="Par humeur de l'équipe")).to_be_visible()
        expect(section.get_by_role("row", name=re.compile(r"^Tendue"))).to_contain_text("1")
        section.screenshot(path=str(shots / "grid-attribute-2-dashboard.png"))
        page.goto(f"{demo_site.url}/observations/{tense['id']}")
        expect(page.locator("dd[data-attribute='mood']")).to_have_text("Tendue")
        page.screenshot(path=str(shots / "grid-attribute-3-observation.png"), full_page=True)
