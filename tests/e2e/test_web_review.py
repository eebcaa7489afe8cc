"""The facilitator web app in a real browser against a real server on the demo data: sign in, read the
dashboards, filter the observations, review one, and see the review reach the observer's tablet."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from backend import models
from backend.admin.demo_data import (
    DEMO_ADMIN_EMAIL,
    DEMO_FACILITATOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_VIEWER_EMAIL,
)
from backend.db import make_engine
from tests.conftest import DemoSite
from tests.e2e.browser import chromium, fill_sign_in
from tests.factories import Tablet, enrolled_tablet, observation, tablet_client

pytestmark = pytest.mark.browser


def _sign_in(browser: Browser, site: DemoSite, email: str) -> Page:
    page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="fr-FR")
    page.goto(site.url)
    expect(page).to_have_url(re.compile(r"/login"))
    return fill_sign_in(page, email, DEMO_PASSWORD)


def enrolled_on(site: DemoSite, observer_id: int, structure_id: int) -> Tablet:
    """The observer's tablet, enrolled on the running demo server with a fresh code."""
    engine = make_engine(site.database_url)
    with Session(engine) as session:
        client = tablet_client(site.url)
        tablet = enrolled_tablet(client, session, observer_id, structure_id, label="Tablette e2e")
    engine.dispose()
    return tablet


def pull_by_id(tablet: Tablet) -> dict[str, dict[str, Any]]:
    """What the tablet's next pulls bring, by observation id, as the app merges it."""
    return {o["id"]: o for o in tablet.pull_new()}


def test_facilitator_reviews_an_observation_and_the_tablet_receives_it(
    demo_site: DemoSite, artifacts: Path
) -> None:
    shots = artifacts / "web"
    shots.mkdir(exist_ok=True)
    with chromium() as browser:
        login = browser.new_page(viewport={"width": 1360, "height": 900})
        login.goto(demo_site.url)
        login.screenshot(path=str(shots / "01-login.png"))
        login.get_by_label("Adresse e-mail").fill(DEMO_FACILITATOR_EMAIL)
        login.get_by_label("Mot de passe").fill("mauvais-mot-de-passe")
        login.get_by_role("button", name="Se connecter").click()
        expect(login.get_by_role("alert")).to_have_text("Adresse e-mail ou mot de passe incorrect.")
        login.close()

        page = _sign_in(browser, demo_site, DEMO_FACILITATOR_EMAIL)
        # One programme: the home page is its dashboard, with the comparison of its structures.
        expect(page.get_by_role("heading", name="Comparaison des structures")).to_be_visible()
        expect(page.locator("table.comparison tbody tr")).to_have_count(6)
        page.screenshot(path=str(shots / "02-programme-dashboard.png"), full_page=True)

        page.get_by_role("link", name="EHPAD Les Tilleuls").first.click()
        expect(page.get_by_role("heading", name="EHPAD Les Tilleuls")).to_be_visible()
        expect(page.get_by_text("Par heure de la journée (heure locale)")).to_be_visible()
        page.screenshot(path=str(shots / "03-structure-dashboard.png"), full_page=True)

        # Filter the list: logins waiting for review.
        page.get_by_role("link", name="Observations", exact=True).click()
        total = page.locator(".page-head .muted").inner_text()
        page.get_by_label("Catégorie").select_option(label="Connexion / authentification")
        page.get_by_label("Statut").select_option(label="À revoir")
        page.get_by_role("button", name="Filtrer").click()
        expect(page).to_have_url(re.compile(r"category=login.*review_status=to_review"))
        rows = page.locator("table.list tbody tr")
        assert 0 < rows.count() < 50
        assert page.locator(".page-head .muted").inner_text() != total
        for index in range(rows.count()):
            row = rows.nth(index).inner_text()
            assert "Connexion / authentification" in row and "À revoir" in row
        page.screenshot(path=str(shots / "04-observations-filtered.png"), full_page=True)

        rows.first.get_by_role("link").first.click()
        observation_id = page.url.split("?")[0].rsplit("/", 1)[-1]  # the link carries the list's filters
        engine = make_engine(demo_site.database_url)
        with Session(engine) as session:
            observation = session.get_one(models.Observation, uuid.UUID(observation_id))
        engine.dispose()
        tablet = enrolled_on(demo_site, observation.observer_id, observation.structure_id)
        assert pull_by_id(tablet)[observation_id]["review_status"] == "to_review"

        page.get_by_label("Statut").select_option(label="À discuter en atelier")
        page.get_by_role("button", name="Enregistrer le statut").click()
        expect(page.get_by_role("status")).to_have_text("Statut de revue enregistré.")
        page.get_by_label("Ajouter un commentaire").fill(
            "Exemple fort pour l'atelier du 12 : trois connexions."
        )
        page.get_by_role("button", name="Publier le commentaire").click()
        expect(page.locator("ol.comments")).to_contain_text("Exemple fort pour l'atelier du 12")
        page.get_by_label("Nouvelle étiquette").fill("atelier 12")
        page.get_by_role("button", name="Ajouter", exact=True).click()
        expect(page.locator("ul.tags")).to_contain_text("atelier 12")
        expect(page.locator("ul.history")).to_contain_text("À revoir → À discuter en atelier")
        page.screenshot(path=str(shots / "05-observation-reviewed.png"), full_page=True)

        # The tablet's next pull brings the status and the comment, with the author's name.
        changed = pull_by_id(tablet)
        assert list(changed) == [observation_id]
        pulled = changed[observation_id]
        assert pulled["review_status"] == "to_discuss"
        assert [(c["body"], c["author_name"]) for c in pulled["review_comments"]][-1] == (
            "Exemple fort pour l'atelier du 12 : trois connexions.",
            "Facilitatrice ARACT",
        )

        page.get_by_role("link", name="Accord inter-observateurs").click()
        expect(page.get_by_text("kappa de Cohen", exact=True)).to_be_visible()
        expect(page.locator("table.matrix")).to_be_visible()
        page.screenshot(path=str(shots / "06-agreement.png"), full_page=True)

        page.get_by_role("link", name="Administration").click()
        page.get_by_role("link", name=re.compile("ACIA Numérique")).click()
        # Not taken from the Host header: typed, when VIGIE_PUBLIC_URL does not say it (issue 18).
        page.get_by_label("Adresse du serveur vue par la tablette").fill(demo_site.url)
        page.get_by_role("button", name="Créer un code d'enrôlement").click()
        expect(page.get_by_test_id("enrolment-code")).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))
        expect(page.locator(".enrolment .qr svg")).to_be_visible()
        page.screenshot(path=str(shots / "07-admin-programme-enrolment.png"), full_page=True)
        page.get_by_role("link", name="Tablettes").click()
        expect(page.get_by_text("Tablette e2e")).to_be_visible()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Révoquer").first.click()
        expect(page.get_by_role("status")).to_contain_text("révoquée")
        page.screenshot(path=str(shots / "08-admin-devices.png"), full_page=True)
        assert tablet.pull().json()["code"] == "device_revoked"

        page.get_by_role("button", name="Se déconnecter").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        page.goto(f"{demo_site.url}/observations")
        expect(page).to_have_url(re.compile(r"/login\?next="))


def test_admin_pages_and_viewer_refusals_in_the_browser(demo_site: DemoSite, artifacts: Path) -> None:
    shots = artifacts / "web"
    shots.mkdir(exist_ok=True)
    with chromium() as browser:
        admin = _sign_in(browser, demo_site, DEMO_ADMIN_EMAIL)
        admin.goto(f"{demo_site.url}/admin/users")
        expect(admin.locator("table.list tbody tr")).to_have_count(3)
        admin.screenshot(path=str(shots / "09-admin-users.png"), full_page=True)
        # The programme's words never masked and its small-cell threshold, typed as a facilitator would.
        admin.goto(f"{demo_site.url}/admin/programmes/1")
        admin.get_by_label("Mots jamais masqués").fill("Octavia\nZorglub")
        admin.get_by_role("button", name="Enregistrer les mots").click()
        expect(admin.get_by_role("status")).to_have_text("Mots jamais masqués enregistrés.")
        expect(admin.get_by_label("Mots jamais masqués")).to_have_value("Octavia\nZorglub")
        admin.get_by_label("Seuil des petits effectifs").fill("7")
        admin.get_by_role("button", name="Enregistrer le seuil").click()
        expect(admin.get_by_role("status")).to_have_text("Seuil enregistré.")
        admin.screenshot(path=str(shots / "09b-admin-privacy-settings.png"), full_page=True)
        admin.goto(f"{demo_site.url}/admin/audit")
        expect(admin.get_by_text("Connexion").first).to_be_visible()
        expect(admin.get_by_text("Mots jamais masqués modifiés").first).to_be_visible()
        admin.screenshot(path=str(shots / "10-admin-audit.png"), full_page=True)

        viewer = _sign_in(browser, demo_site, DEMO_VIEWER_EMAIL)
        expect(viewer.get_by_role("heading", name="EHPAD Les Tilleuls")).to_be_visible()
        expect(viewer.get_by_role("link", name="Administration")).to_have_count(0)
        viewer.screenshot(path=str(shots / "11-viewer-dashboard.png"), full_page=True)
        viewer.get_by_role("link", name="Observations", exact=True).click()
        viewer.locator("table.list tbody tr").first.get_by_role("link").first.click()
        expect(viewer.get_by_role("button", name="Enregistrer le statut")).to_have_count(0)
        response = viewer.goto(f"{demo_site.url}/admin")
        assert response is not None and response.status == 403
        expect(viewer.get_by_role("heading", name="Accès refusé")).to_be_visible()
        viewer.screenshot(path=str(shots / "12-viewer-refused.png"))
        response = viewer.goto(f"{demo_site.url}/structures/1")
        assert response is not None and response.status == 404


def test_facilitator_corrects_a_note_and_approves_verbatims_for_the_workshop(
    demo_site: DemoSite, artifacts: Path
) -> None:
    """A note naming a patient is corrected from its page; notes are approved in bulk from the list."""
    shots = artifacts / "web"
    shots.mkdir(exist_ok=True)
    engine = make_engine(demo_site.database_url)
    with Session(engine) as session:
        unit = session.exec(select(models.Unit)).first()
        assert unit is not None and unit.id is not None
        structure = session.get_one(models.Structure, unit.structure_id)
        observer = session.exec(
            select(models.Observer).where(models.Observer.programme_id == structure.programme_id)
        ).first()
        assert observer is not None and observer.id is not None and structure.id is not None
    engine.dispose()
    tablet = enrolled_on(demo_site, observer.id, structure.id)
    tablet.unit_id = unit.id
    visit = tablet.visit()
    named = observation(visit["id"], note="mme Roussel-Kerbrat au 06 11 22 33 44 pendant la relève")
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", named))

    with chromium() as browser:
        page = _sign_in(browser, demo_site, DEMO_FACILITATOR_EMAIL)
        page.goto(f"{demo_site.url}/observations/{named['id']}")
        proposal = page.get_by_label("Note corrigée")
        expect(proposal).to_have_value("mme [nom] au [téléphone] pendant la relève")
        page.screenshot(path=str(shots / "09-note-to-correct.png"), full_page=True)
        page.get_by_role("button", name="Enregistrer la note corrigée").click()
        expect(page.get_by_role("status")).to_contain_text("Note corrigée")
        expect(page.locator("dd.note")).to_contain_text("mme [nom] au [téléphone] pendant la relève")
        expect(page.locator("#redaction")).to_have_count(0)  # nothing left to correct
        page.get_by_role("button", name="Approuver pour les ateliers").click()
        expect(page.locator("#verbatim-state")).to_contain_text("Approuvée pour les ateliers")

        page.goto(f"{demo_site.url}/observations?category=login")
        boxes = page.locator("input[name=ids]")  # one per row: any observation can be ticked
        noted = page.locator("tbody tr").evaluate_all(
            """rows => rows
                .map((row, index) => [index, Array.from(row.querySelector('td.note')?.childNodes || [])
                    .filter(node => node.nodeType === Node.TEXT_NODE)
                    .map(node => node.textContent).join('').trim()])
                .filter(([index, text]) => text).map(([index]) => index)"""
        )
        boxes.nth(noted[0]).check()  # the first two rows with a note
        boxes.nth(noted[1]).check()
        page.get_by_role("button", name="Approuver pour les ateliers").click()
        expect(page.get_by_role("status")).to_have_text("2 note(s) approuvée(s) pour les ateliers.")
        expect(page).to_have_url(re.compile(r"category=login"))  # the list's filters are kept
        assert page.locator("span.badge.ok").count() >= 2
        page.screenshot(path=str(shots / "10-verbatims-approved.png"), full_page=True)
        # To prepare a workshop: the first three rows at once, one status and one tag.
        for index in range(3):
            boxes.nth(index).check()
        page.get_by_label("Passer à").select_option(label="À discuter en atelier")
        page.get_by_role("button", name="Changer le statut").click()
        expect(page.get_by_role("status")).to_contain_text("au statut « À discuter en atelier ».")
        expect(page).to_have_url(re.compile(r"category=login"))
        for index in range(3):
            boxes.nth(index).check()
        page.get_by_label("Étiquette à ajouter").fill("relève du soir")
        page.get_by_role("button", name="Étiqueter").click()
        expect(page.get_by_role("status")).to_have_text(
            "Étiquette « relève du soir » ajoutée à 3 observation(s)."
        )
        expect(page.locator("tbody tr").nth(0)).to_contain_text("relève du soir")
        expect(page.locator("tbody tr").nth(2).locator(".status")).to_have_text("À discuter en atelier")
        page.screenshot(path=str(shots / "11-bulk-status-and-tag.png"), full_page=True)
    pulled = {o["id"]: o for o in tablet.pull_new()}  # with the rows the bulk actions changed
    assert pulled[named["id"]]["note"] == "mme [nom] au [téléphone] pendant la relève"
