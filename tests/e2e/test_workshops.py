"""A workshop in a real browser against a real server on the demo data: prepared from the review list, a
dashboard figure attached to its theme, presented full screen (keyboard navigation, the figure beside the
cards, screenshots at 1920×1080), voted on from two phones while the screen counts live, an action
recorded, marked done, and the before/after comparison opened on the milestone it created in one click."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from backend.admin.demo_data import DEMO_FACILITATOR_EMAIL, DEMO_PASSWORD
from tests.conftest import DemoSite
from tests.e2e.browser import chromium, fill_sign_in

pytestmark = pytest.mark.browser
STRUCTURE = "EHPAD Les Tilleuls"


def _sign_in(browser: Browser, site: DemoSite) -> Page:
    page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="fr-FR").new_page()
    page.goto(f"{site.url}/login")
    return fill_sign_in(page, DEMO_FACILITATOR_EMAIL, DEMO_PASSWORD)


def _vote_from_a_phone(browser: Browser, site: DemoSite, code: str) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{site.url}/vote")
    page.get_by_label("Code affiché à l'écran").fill(code.lower())
    page.get_by_role("button", name="Ouvrir le vote").click()
    page.get_by_role("button", name="Voter : Logiciel de soins").click()
    expect(page.get_by_role("status")).to_have_text("Vote enregistré, merci.")
    expect(page.get_by_text("voté ✓")).to_be_visible()
    phone.close()


def test_prepare_present_vote_and_follow_an_action(demo_site: DemoSite, artifacts: Path) -> None:
    shots = artifacts / "workshops"
    shots.mkdir(exist_ok=True)
    with chromium() as browser:
        page = _sign_in(browser, demo_site)
        page.get_by_role("link", name="Ateliers").click()
        page.get_by_label("Titre").fill("Atelier relève et logiciel")
        page.get_by_label(STRUCTURE).check()
        page.get_by_label("Date", exact=True).fill("2026-12-03")
        page.get_by_label("Lieu").fill("Salle du conseil")
        page.get_by_label("Participants, par rôle").fill("Infirmier·e : 4\nCadre de santé : 1")
        page.get_by_role("button", name="Créer l'atelier").click()
        expect(page.get_by_role("heading", name="Atelier : Atelier relève et logiciel")).to_be_visible()
        workshop_url = page.url.split("?")[0]
        code = page.locator(".vote-code").inner_text()

        # From the review list: filter, tick three observations, add them to the workshop.
        page.get_by_role("link", name="Observations", exact=True).click()
        page.get_by_label("Structure").select_option(label=STRUCTURE)
        page.get_by_role("button", name="Filtrer").click()
        boxes = page.locator("input[name=ids]")
        for index in range(3):
            boxes.nth(index).check()
        page.locator("select[name=workshop_id]").select_option(
            label="Atelier relève et logiciel (03/12/2026)"
        )
        page.get_by_role("button", name="Ajouter à l'atelier").click()
        expect(page.get_by_role("status")).to_have_text("3 observation(s) ajoutée(s) à l'atelier.")

        page.get_by_label("Nouveau thème").fill("Logiciel de soins")
        page.get_by_role("button", name="Ajouter le thème").click()
        for _ in range(3):
            page.locator("select[name=theme_id]").last.select_option(label="Logiciel de soins")
            page.get_by_role("button", name="Classer").last.click()
            expect(page.get_by_role("status")).to_have_text("Carte classée.")
        page.get_by_label("Gommettes en salle").fill("3")
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        page.screenshot(path=str(shots / "01-preparation.png"), full_page=True)

        # A figure from the structure's dashboard, attached to the theme.
        page.goto(f"{demo_site.url}/")
        page.get_by_role("link", name=STRUCTURE).first.click()
        page.get_by_label("Joindre les catégories par heure observée au thème").select_option(
            label="Atelier relève et logiciel (03/12/2026) — Logiciel de soins"
        )
        page.get_by_role("button", name="Joindre à l'atelier").click()
        expect(page.get_by_role("status")).to_have_text("Figure jointe au thème.")
        expect(page.locator(".workshop-figure")).to_contain_text(
            "Événements par heure observée, par catégorie"
        )
        page.screenshot(path=str(shots / "01b-figure-on-the-theme.png"), full_page=True)

        # Presenter mode: one slide at a time, arrows to move, the figure beside the cards.
        screen = page.context.new_page()
        screen.set_viewport_size({"width": 1920, "height": 1080})
        screen.goto(f"{workshop_url}/present")
        expect(screen.locator(".slide.current")).to_contain_text(code)
        screen.screenshot(path=str(shots / "02-presenter-title.png"))
        screen.keyboard.press("ArrowRight")
        expect(screen.locator(".slide.current h1")).to_have_text("Logiciel de soins")
        screen.screenshot(path=str(shots / "03-presenter-theme.png"))
        screen.keyboard.press("ArrowRight")
        expect(screen.locator(".slide.current")).to_contain_text("situation 1 sur 3")
        expect(screen.locator(".slide.current .figures svg.figure-bars").first).to_be_visible()
        screen.screenshot(path=str(shots / "04-presenter-card-and-figure.png"))
        screen.keyboard.press("ArrowLeft")
        expect(screen.locator(".slide.current h1")).to_have_text("Logiciel de soins")
        # Once loaded it needs no network: offline, navigation goes on and the count stays as it was.
        screen.context.set_offline(True)
        screen.keyboard.press("End")
        expect(screen.locator(".slide.current h1")).to_have_text("Priorités et actions")
        expect(screen.locator(".slide.current [data-theme-votes]")).to_have_text("3")
        screen.keyboard.press("Home")
        screen.keyboard.press("ArrowRight")
        screen.keyboard.press("ArrowRight")
        expect(screen.locator(".slide.current .figures svg.figure-bars").first).to_be_visible()
        screen.context.set_offline(False)
        screen.keyboard.press("Home")
        screen.keyboard.press("ArrowRight")

        # Two phones vote; the screen, still open, counts them as they come (dots 3 + 2 phones).
        _vote_from_a_phone(browser, demo_site, code)
        _vote_from_a_phone(browser, demo_site, code)
        expect(screen.locator(".slide.current [data-theme-votes]")).to_have_text("5", timeout=30_000)
        expect(screen.locator("#live")).to_have_text("votes en direct")
        screen.screenshot(path=str(shots / "05-presenter-live-votes.png"))
        screen.close()
        page.goto(workshop_url)
        expect(page.get_by_text("5 vote(s) (3 en salle, 2 par téléphone)")).to_be_visible()

        # An action, then done: it creates its milestone, and the comparison opens on it in one click.
        page.locator("form[aria-label='Nouvelle action'] input[name=title]").fill(
            "Relève au poste de soins sans écran"
        )
        page.get_by_role("group", name="Problème traité (thèmes)").get_by_label("Logiciel de soins").check()
        page.get_by_label("Porteur (rôle, sans nom)").fill("Cadre de santé")
        page.get_by_label("Jalon créé à sa mise en place").fill("Relève sans écran")
        page.get_by_label("Date prévue du jalon").fill("2026-11-02")
        page.get_by_role("button", name="Enregistrer l'action").click()
        expect(page.get_by_role("status")).to_have_text("Action enregistrée.")
        page.get_by_role("link", name="Suivi des actions du programme").click()
        page.get_by_label("Statut de « Relève au poste de soins sans écran »").select_option(label="faite")
        page.get_by_role("button", name="Changer").click()
        expect(page.get_by_text("Jalon : Relève sans écran (02/11/2026)")).to_be_visible()
        page.screenshot(path=str(shots / "06-actions.png"), full_page=True)
        page.get_by_role("link", name="Comparer avant / après").click()
        expect(page).to_have_url(re.compile(r"/structures/\d+/before-after\?milestone_id=\d+$"))
        expect(
            page.get_by_role("heading", name="Avant / après « Relève sans écran » (02/11/2026)")
        ).to_be_visible()
        expect(page.locator("[data-side='1']")).to_contain_text("Avant")
        page.screenshot(path=str(shots / "07-comparison-on-the-milestone.png"), full_page=True)
        # What changed after it goes back to the theme, for the next session.
        page.get_by_label("Joindre cette comparaison au thème").select_option(
            label="Atelier relève et logiciel (03/12/2026) — Logiciel de soins"
        )
        page.get_by_label("Lignes").select_option(label="Outil en cause")  # the tools, not the categories
        page.get_by_role("button", name="Joindre à l'atelier").click()
        expect(page.get_by_role("status")).to_have_text("Figure jointe au thème.")
        attached = page.locator(".workshop-figure").last
        expect(attached).to_contain_text("Avant / après « Relève sans écran »")
        expect(attached.locator("figcaption")).to_contain_text("— Outil en cause")
        expect(attached.locator("thead th").first).to_have_text("Outil en cause")
        page.goto(f"{demo_site.url}/")
        # The milestone is on the structure's dashboard too, among the others on its time axis.
        page.get_by_role("link", name=STRUCTURE).first.click()
        expect(page.locator("section.milestones")).to_contain_text("Relève sans écran")
