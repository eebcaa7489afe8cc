"""The grid editor in a real browser, with the keyboard: add a category, take an attribute off a category in
the exclusion matrix, see a problem beside its field, save the draft, publish, and a tablet gets it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from backend import models
from backend.admin.demo_data import DEMO_FACILITATOR_EMAIL
from backend.db import make_engine
from tests.conftest import DemoSite
from tests.e2e.browser import chromium
from tests.e2e.test_web_review import _sign_in, enrolled_on

pytestmark = pytest.mark.browser


def test_facilitator_edits_the_grid_with_the_keyboard_and_publishes_it(
    demo_site: DemoSite, artifacts: Path
) -> None:
    with chromium() as browser:
        page = _sign_in(browser, demo_site, DEMO_FACILITATOR_EMAIL)

        page.goto(f"{demo_site.url}/admin/programmes/1")
        page.get_by_role("link", name="grille d'observation").click()
        expect(page).to_have_url(re.compile(r"/admin/programmes/1/grid$"))
        expect(
            page.get_by_role("heading", name="Matrice d'exclusion : quels attributs pour quelles catégories")
        ).to_be_visible()
        page.screenshot(path=str(artifacts / "grid-editor-0-editor.png"), full_page=True)

        # A new category, typed field after field with Tab as a keyboard user does.
        page.get_by_label("Code de la nouvelle catégorie").focus()
        page.keyboard.type("robot")
        page.keyboard.press("Tab")
        page.keyboard.type("Robot de soins")
        page.keyboard.press("Tab")
        page.keyboard.type("Care robot")
        # The exclusion matrix: « Effet constaté » is no longer asked for logins (Space unticks the box).
        effect_for_login = page.get_by_label(
            re.compile(r"^« Effet.* » pour « Connexion / authentification »$")
        )
        effect_for_login.focus()
        page.keyboard.press("Space")
        expect(effect_for_login).not_to_be_checked()
        # A first try with a French label erased: refused, the problem beside its field.
        page.get_by_label("Libellé en français de la catégorie interruption").fill("")
        page.get_by_role("button", name="Enregistrer le brouillon").click()
        expect(page.get_by_role("alert")).to_contain_text("Grille refusée : 1 problème(s) à corriger.")
        expect(page.locator("#category-0-fr-problem")).to_have_text("Libellé en français manquant.")
        page.screenshot(path=str(artifacts / "grid-editor-1-editor-problem.png"), full_page=True)

        page.get_by_role("link", name="categories[0].fr").click()
        expect(page.get_by_label("Libellé en français de la catégorie interruption")).to_be_focused()
        page.keyboard.type("Interruption")
        page.get_by_role("button", name="Enregistrer le brouillon").click()
        expect(page.get_by_role("status")).to_have_text("Brouillon enregistré : relisez-le, puis publiez-le.")
        expect(page.get_by_label("Code de la catégorie Robot de soins")).to_have_value("robot")
        expect(
            page.get_by_label(re.compile(r"^« Effet.* » pour « Connexion / authentification »$"))
        ).not_to_be_checked()
        expect(page.get_by_label(re.compile(r"^« Effet.* » pour « Robot de soins »$"))).to_be_checked()
        page.screenshot(path=str(artifacts / "grid-editor-2-editor-draft.png"), full_page=True)

        page.get_by_role("button", name="Publier la version 2").click()
        expect(page.get_by_role("status")).to_contain_text("Version 2 publiée")
        expect(page.get_by_role("link", name="télécharger (JSON)")).to_have_count(2)
        page.screenshot(path=str(artifacts / "grid-editor-3-published.png"), full_page=True)

    engine = make_engine(demo_site.database_url)
    with Session(engine) as session:
        structure = session.exec(select(models.Structure).order_by(models.Structure.id)).first()  # type: ignore[arg-type]
        observer = session.exec(select(models.Observer).order_by(models.Observer.id)).first()  # type: ignore[arg-type]
        assert structure is not None and observer is not None and structure.id and observer.id
        structure_id, observer_id = structure.id, observer.id
    engine.dispose()
    grid = enrolled_on(demo_site, observer_id, structure_id).pull().json()["grid"]
    assert grid["number"] == 2 and "robot" in [c["code"] for c in grid["grid"]["categories"]]
