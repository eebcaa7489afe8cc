"""The analyses in a real browser on the demo data: rates with their intervals, a milestone entered and the
before/after comparison it opens, two structures compared, drill-down from a bar to the observations and
back, and a visit's timeline."""

from __future__ import annotations

import re
import statistics
from datetime import UTC
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from backend import models
from backend.admin.demo_data import DEMO_FACILITATOR_EMAIL, DEMO_PASSWORD, DEMO_VIEWER_STRUCTURE
from backend.db import make_engine
from tests.conftest import DemoSite
from tests.e2e.browser import chromium

pytestmark = pytest.mark.browser


def _sign_in(browser: Browser, site: DemoSite) -> Page:
    page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="fr-FR")
    page.goto(site.url)
    page.get_by_label("Adresse e-mail").fill(DEMO_FACILITATOR_EMAIL)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    return page


def _middle_day(site: DemoSite) -> str:
    """A day in the middle of the viewer's structure's observations: a milestone with data either side."""
    engine = make_engine(site.database_url)
    with Session(engine) as session:
        structure = session.exec(
            select(models.Structure).where(models.Structure.name == DEMO_VIEWER_STRUCTURE)
        ).one()
        days = sorted(
            o.occurred_at.astimezone(UTC).date()
            for o in session.exec(
                select(models.Observation).where(models.Observation.structure_id == structure.id)
            )
        )
    engine.dispose()
    return statistics.median_low(days).isoformat()


def test_milestone_comparison_drill_down_and_timeline(demo_site: DemoSite, artifacts: Path) -> None:
    shots = artifacts / "analyses"
    shots.mkdir(exist_ok=True)
    day = _middle_day(demo_site)
    with chromium() as browser:
        page = _sign_in(browser, demo_site)

        # A milestone, entered on the programme's administration page.
        page.get_by_role("link", name="Administration").click()
        page.get_by_role("link", name=re.compile("ACIA Numérique")).click()
        form = page.get_by_role("form", name="Nouveau jalon")
        form.get_by_label("Structure ou unité").select_option(label=DEMO_VIEWER_STRUCTURE)
        form.get_by_label("Jour").fill(day)
        form.get_by_label("Libellé").fill("DPI déployé")
        form.get_by_role("button", name="Ajouter le jalon").click()
        expect(page.get_by_role("status")).to_have_text("Jalon ajouté.")
        expect(page.locator("#milestones")).to_contain_text("DPI déployé")

        # The structure's dashboard: rates with intervals, slots as rates over their hours, the milestone.
        page.goto(f"{demo_site.url}/")
        page.get_by_role("link", name=DEMO_VIEWER_STRUCTURE).first.click()
        expect(page.get_by_role("heading", name=DEMO_VIEWER_STRUCTURE)).to_be_visible()
        expect(page.locator(".kpis")).to_contain_text("IC 95 %")
        expect(page.locator("figure.rates")).to_have_count(2)
        expect(page.locator("figure.rates").first.locator("text.hours")).to_have_count(24)
        expect(page.locator("table.weekly line.milestone").first).to_be_attached()
        page.screenshot(path=str(shots / "01-structure-rates-and-trends.png"), full_page=True)

        # Before/after the milestone.
        page.get_by_role("link", name="comparer avant / après").first.click()
        expect(page.get_by_role("heading", name=re.compile("Avant . après « DPI déployé »"))).to_be_visible()
        expect(page.locator("p.reading.overall")).to_contain_text("par heure observée")
        rows = page.locator("table.rate-comparison tbody tr[data-attribute='category']")
        assert rows.count() > 3
        expect(page.locator("table.rate-comparison")).to_contain_text("non établi")
        page.screenshot(path=str(shots / "02-before-after.png"), full_page=True)

        # Two structures compared.
        page.goto(f"{demo_site.url}/")
        page.get_by_role("link", name="Comparer deux structures").click()
        page.locator("select[name=reference_structure_id]").select_option(index=1)
        page.locator("select[name=compared_structure_id]").select_option(index=2)
        page.get_by_role("button", name="Comparer").click()
        expect(page.locator("table.rate-comparison")).to_be_visible()
        expect(page.locator(".comparison-sides [data-side]")).to_have_count(2)
        page.screenshot(path=str(shots / "03-two-structures.png"), full_page=True)

        # Drill-down: from the biggest category bar to its observations, into one, next, and back.
        page.goto(f"{demo_site.url}/")
        page.get_by_role("link", name=DEMO_VIEWER_STRUCTURE).first.click()
        bar = page.locator("table.bars a[data-drill]").first
        code = bar.get_attribute("data-drill")
        count = int(
            page.locator("table.bars tbody tr")
            .first.locator("td.num")
            .first.inner_text()
            .replace("\u202f", "")
            .replace(" ", "")
        )
        bar.click()
        expect(page).to_have_url(re.compile(rf"category={code}"))
        expect(page.locator(".page-head .muted")).to_contain_text(str(count))
        page.screenshot(path=str(shots / "04-drill-down-list.png"), full_page=True)
        page.locator("table.list tbody tr").first.get_by_role("link").first.click()
        expect(page.locator("nav.walk")).to_contain_text(f"1 sur {count}")
        page.get_by_role("link", name="Suivante ›").click()
        expect(page.locator("nav.walk")).to_contain_text(f"2 sur {count}")
        page.screenshot(path=str(shots / "05-observation-walk.png"), full_page=True)
        page.get_by_role("link", name="← Retour à la liste").click()
        expect(page).to_have_url(re.compile(rf"/observations\?.*category={code}"))

        # A visit's timeline, from an observation.
        page.locator("table.list tbody tr").first.get_by_role("link").first.click()
        page.get_by_role("link", name="voir la visite et sa chronologie").click()
        expect(page.locator("#visit-timeline")).to_be_visible()
        assert (
            page.locator("#visit-timeline .event-bar").count()
            + page.locator("#visit-timeline .event-mark").count()
            > 0
        )
        expect(page.locator(".kpis")).to_contain_text("de multitâche")
        page.screenshot(path=str(shots / "06-visit-timeline.png"), full_page=True)


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _slot_count(title: str | None) -> int:
    """The events of a column, from its tooltip (« 10 : 12 événement(s) en 3,5 h observées… »)."""
    found = re.search(r": (\d+) événement", title or "")
    assert found, title
    return int(found.group(1))


def test_an_hour_column_and_a_heatmap_cell_lead_to_their_observations(
    demo_site: DemoSite, artifacts: Path
) -> None:
    shots = artifacts / "analyses"
    shots.mkdir(exist_ok=True)
    with chromium() as browser:
        page = _sign_in(browser, demo_site)

        # The busiest hour of day on the structure's chart (rates over observed hours, local time).
        page.get_by_role("link", name=DEMO_VIEWER_STRUCTURE).first.click()
        hours = page.locator("figure.rates").first.locator("a[data-drill-slot]")
        assert hours.count() > 3
        counts = [_slot_count(hours.nth(i).locator("title").text_content()) for i in range(hours.count())]
        busiest = hours.nth(counts.index(max(counts)))
        slot, count = int(busiest.get_attribute("data-drill-slot") or ""), max(counts)
        busiest.locator("rect.hit").click()
        expect(page).to_have_url(re.compile(rf"/observations\?.*hour={slot}"))
        expect(page.locator(".page-head .muted")).to_have_text(f"{count} observation(s)")
        chip = page.locator("li.chip[data-filter=hour]")
        expect(chip).to_contain_text(f"{slot} h – {slot + 1} h (heure locale)")
        expect(page.locator("select[name=hour]")).to_have_value(str(slot))
        page.screenshot(path=str(shots / "07-hour-column-drill-down.png"), full_page=True)

        # The chip removes that filter alone: the structure's list again.
        chip.get_by_role("link").click()
        expect(page.locator("li.chip[data-filter=hour]")).to_have_count(0)
        expect(page.locator("li.chip[data-filter=structure_id]")).to_contain_text(DEMO_VIEWER_STRUCTURE)

        # A cell of the programme's structures × categories heatmap.
        page.goto(f"{demo_site.url}/")
        cell = page.locator("table.comparison td.heat a").first
        cell_count = _number((cell.locator("xpath=..").get_attribute("title") or "").split(" ")[0])
        cell.click()
        expect(page).to_have_url(re.compile(r"/observations\?structure_id=\d+&category=\w+"))
        expect(page.locator(".page-head .muted")).to_have_text(f"{cell_count} observation(s)")
        expect(page.locator("li.chip[data-filter=category]")).to_be_visible()
        page.screenshot(path=str(shots / "08-heatmap-cell-drill-down.png"), full_page=True)


def test_a_milestone_corrected_then_deleted_on_the_programme_page(
    demo_site: DemoSite, artifacts: Path
) -> None:
    shots = artifacts / "analyses"
    shots.mkdir(exist_ok=True)
    with chromium() as browser:
        page = _sign_in(browser, demo_site)
        page.get_by_role("link", name="Administration").click()
        page.get_by_role("link", name=re.compile("ACIA Numérique")).click()
        form = page.get_by_role("form", name="Nouveau jalon")
        form.get_by_label("Structure ou unité").select_option(label=DEMO_VIEWER_STRUCTURE)
        form.get_by_label("Jour").fill("2026-03-02")
        form.get_by_label("Libellé").fill("Messagerie")
        form.get_by_role("button", name="Ajouter le jalon").click()
        expect(page.get_by_role("status")).to_have_text("Jalon ajouté.")

        item = page.locator("#milestones li", has_text="Messagerie")
        item.get_by_text("Corriger ou supprimer").click()
        correction = item.get_by_role("form", name="Corriger le jalon Messagerie")
        correction.get_by_label("Jour").fill("2026-03-09")
        correction.get_by_label("Libellé").fill("Nouvelle messagerie sécurisée")
        page.screenshot(path=str(shots / "09-milestone-correction.png"), full_page=True)
        correction.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_role("status")).to_have_text("Jalon corrigé.")
        corrected = page.locator("#milestones li", has_text="Nouvelle messagerie sécurisée")
        expect(corrected).to_contain_text("09/03/2026")

        corrected.get_by_text("Corriger ou supprimer").click()
        corrected.get_by_role("button", name="Supprimer ce jalon").click()
        expect(page.get_by_role("status")).to_have_text("Jalon supprimé.")
        expect(page.locator("#milestones")).not_to_contain_text("Nouvelle messagerie sécurisée")
