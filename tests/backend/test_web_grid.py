"""The grid editor's pages: a facilitator edits the draft through the form the page gives (categories,
values, exclusion matrix), sees problems beside their fields, publishes, and tablets get the version."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

from tests.databases import DATABASE_KINDS
from tests.factories import FACILITATOR, VIEWER, DemoWeb, demo_web, observation


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("grid")) as demo:
        yield demo


class EditorForm(HTMLParser):
    """The fields the editor's main form submits as a browser would: inputs with their values, checkboxes
    only when ticked."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._inside = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self._inside = (found.get("action") or "").endswith("/grid")
        if tag != "input" or not self._inside or not found.get("name"):
            return
        if found.get("type") == "checkbox":
            if "checked" in found:
                self.fields[str(found["name"])] = "on"
        else:
            self.fields[str(found["name"])] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def test_facilitator_adds_a_category_and_ticks_it_out_of_an_attribute_then_publishes(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    editor = f"/admin/programmes/{site.summary.programme_id}/grid"
    page = browser.get(editor)
    assert page.status_code == 200
    assert "Matrice d'exclusion" in page.text and "prépare la version 2" in page.text

    fields = EditorForm(page.text).fields
    new_row = f"category-{int(fields['category-count']) - 1}"
    fields.update(
        {f"{new_row}-code": "robot", f"{new_row}-fr": "Robot de soins", f"{new_row}-en": "Care robot"}
    )
    fields[f"{new_row}-colour"] = "#00695C"
    fields[f"{new_row}-order"] = "0"  # first on the tablet
    fields["category-1-fr"] = "Contournement"  # a label changes, its code never does
    del fields["applies-effect-login"]  # the matrix: « Effet » no longer asked for logins
    tool_row = f"value-tool-{int(fields['value-tool-count']) - 1}"
    fields.update({f"{tool_row}-code": "orbis", f"{tool_row}-fr": "Orbis", f"{tool_row}-en": "Orbis"})
    fields.pop("csrf_token", None)
    saved = browser.form(editor, fields)
    assert saved.status_code == 303, saved.text

    page = browser.get(editor)
    assert "brouillon de la version 2" in page.text
    draft = EditorForm(page.text).fields
    assert draft["category-0-code"] == "robot" and draft["category-2-fr"] == "Contournement"
    assert "applies-effect-login" not in draft and "applies-effect-robot" in draft
    assert "Publier la version 2" in page.text

    published = browser.form(f"{editor}/publish")
    assert published.status_code == 303
    assert "Version 2 publiée" in browser.get(published.headers["location"]).text

    tablet = site.tablet()
    grid = tablet.pull().json()["grid"]
    assert grid["number"] == 2
    assert grid["grid"]["categories"][0]["code"] == "robot"
    categories = {c["code"]: c for c in grid["grid"]["categories"]}
    assert categories["robot"]["fr"] == "Robot de soins" and categories["workaround"]["fr"] == "Contournement"
    effect = next(a for a in grid["grid"]["attributes"] if a["code"] == "effect")
    assert "login" not in effect["applies_to"] and "robot" in effect["applies_to"]
    assert "orbis" in [
        v["code"] for a in grid["grid"]["attributes"] if a["code"] == "tool" for v in a["values"]
    ]
    download = browser.get(f"{editor}/versions/2")
    assert download.json()["version"] == "2"

    # Captured with version 2, the new category reads with its label in the review pages and filters.
    visit = tablet.visit(grid_version=2)
    robot = observation(visit["id"], category="robot", interruption_source=None, effect="negative")
    results = tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", robot)).json()
    assert [r["status"] for r in results["results"]] == ["applied", "applied"]
    listing = browser.get("/observations?category=robot").text
    assert '<option value="robot" selected>Robot de soins</option>' in listing
    row = listing[listing.find("swatch") :][:400]
    assert "#00695C" in row and "Robot de soins<br>" in row, row


def test_problems_are_shown_beside_their_fields_and_nothing_is_saved(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    editor = f"/admin/programmes/{site.summary.programme_id}/grid"
    fields = EditorForm(browser.get(editor).text).fields
    new_row = f"category-{int(fields['category-count']) - 1}"
    fields.update(
        {f"{new_row}-code": "paper", f"{new_row}-fr": "Papier encore", f"{new_row}-colour": "#455A64"}
    )
    fields["value-role-0-fr"] = ""
    fields.pop("csrf_token", None)
    refused = browser.form(editor, fields)
    assert refused.status_code == 422
    assert "Grille refusée : 2 problème(s) à corriger." in refused.text
    assert f'<a href="#{new_row}-code">' in refused.text
    assert 'id="value-role-0-fr-problem"' in refused.text and "Libellé en français manquant." in refused.text
    assert "Papier encore" in refused.text  # what was typed is kept to be corrected
    assert "prépare la version 3" in browser.get(editor).text  # no draft was saved


def test_the_editor_is_for_the_programme_s_facilitators_and_admins_only(site: DemoWeb) -> None:
    viewer = site.browser(VIEWER)
    editor = f"/admin/programmes/{site.summary.programme_id}/grid"
    assert viewer.get(editor).status_code == 403
    assert viewer.form(f"{editor}/publish").status_code == 403
    assert site.browser(FACILITATOR).get("/admin/programmes/999/grid").status_code == 404


def test_a_merge_typed_in_the_editor_lets_old_codes_go_and_the_dashboard_counts_them_under_the_new_one(
    site: DemoWeb,
) -> None:
    browser = site.browser(FACILITATOR)
    programme = site.summary.programme_id
    editor = f"/admin/programmes/{programme}/grid"
    before = browser.api("GET", f"/api/v1/programmes/{programme}/dashboard").json()["by_category"]
    counted = {c["code"]: c["count"] for c in before}
    assert counted["paper"] and counted["equipment"]

    fields = EditorForm(browser.get(editor).text).fields
    rows = int(fields["category-count"])
    for index in range(rows - 1):  # the two merged categories leave the grid: their rows are emptied
        if fields[f"category-{index}-code"] in ("paper", "equipment"):
            fields[f"category-{index}-code"] = fields[f"category-{index}-fr"] = ""
    new_row = f"category-{rows - 1}"
    fields.update(
        {f"{new_row}-code": "material", f"{new_row}-fr": "Matériel et papier", f"{new_row}-colour": "#6D4C41"}
    )
    fields.update(
        {"mapping-0-attribute": "category", "mapping-0-old": "paper, equipment", "mapping-0-new": "material"}
    )
    fields.pop("csrf_token", None)
    assert browser.form(editor, fields).status_code == 303
    assert browser.form(f"{editor}/publish").status_code == 303

    after = browser.api("GET", f"/api/v1/programmes/{programme}/dashboard").json()["by_category"]
    merged = {c["code"]: (c["label"], c["count"]) for c in after}
    assert merged["material"] == ("Matériel et papier", counted["paper"] + counted["equipment"])
    assert "paper" not in merged and "equipment" not in merged
