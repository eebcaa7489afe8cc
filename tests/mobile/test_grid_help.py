"""The grid's help for a category, written by a facilitator in the web grid editor and published, reaches the
tablet with the next pull: its beginning under the category's button (the one-tap capture stays one tap), the
whole of it on the enrichment screen."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backend.admin.demo_data import DEMO_FACILITATOR_EMAIL
from mobile.screens.capture import HELP_CHARS
from tests.conftest import DemoSite
from tests.e2e.browser import chromium
from tests.e2e.test_web_review import _sign_in
from tests.mobile.conftest import Tablet
from tests.mobile.test_enrolment_screen import screenshot, snapshot, tap, wait_for
from tests.mobile.test_offline_sync import enrolled_tablet_in_a_visit

pytestmark = pytest.mark.browser

HELP = (
    "Toute sollicitation qui fait quitter la tâche en cours : collègue, appel, alarme ; "
    "noter la source, puis si la tâche a été reprise."
)


def publish_help_in_the_grid_editor(site: DemoSite, artifacts: Path) -> None:
    """What a facilitator does: the help of « Interruption » typed in the editor, saved, published."""
    with chromium() as browser:
        page = _sign_in(browser, site, DEMO_FACILITATOR_EMAIL)
        page.goto(f"{site.url}/admin/programmes/1/grid")
        page.get_by_label("Aide en français de interruption").fill(HELP)
        page.get_by_role("button", name="Enregistrer le brouillon").click()
        expect(page.get_by_role("status")).to_have_text("Brouillon enregistré : relisez-le, puis publiez-le.")
        page.get_by_role("button", name=re.compile(r"^Publier la version \d+$")).click()
        expect(page.get_by_role("status")).to_contain_text("publiée")
        page.screenshot(path=str(artifacts / "grid-help-published.png"), full_page=True)


def test_help_published_in_the_grid_editor_is_shown_on_the_tablet(
    tablet: Tablet, demo_site: DemoSite, artifacts: Path
) -> None:
    publish_help_in_the_grid_editor(demo_site, artifacts)
    enrolled_tablet_in_a_visit(tablet, demo_site)  # its sync pulls the new grid version; the visit uses it

    run = tablet.run(
        "grid-help",
        steps=[
            wait_for(screen="capture"),
            snapshot("capture"),
            screenshot("capture-grid-help"),
            tap("category_interruption"),  # still one tap: the help is no button of its own
            wait_for(id="counter", contains=": 1"),
            tap("recent_0_edit"),
            wait_for(screen="observation"),
            snapshot("observation"),
            screenshot("observation-grid-help"),
        ],
    )

    shown = run.widget("capture", "help_interruption")
    assert shown["text"] == textwrap.shorten(HELP, HELP_CHARS, placeholder=" …")
    assert shown["text"].startswith("Toute sollicitation qui fait quitter")
    button = run.widget("capture", "category_interruption")
    (x, y), (w, h) = shown["pos_dp"], shown["size_dp"]
    (bx, by), (bw, bh) = button["pos_dp"], button["size_dp"]
    assert w > 0 and h > 0 and bx <= x and by <= y and x + w <= bx + bw and y + h <= by + bh  # on the button
    assert run.widget("capture", "help_paper")["text"] == ""  # no help given: nothing shown
    assert run.text("observation", "category_help") == HELP
