"""From a dashboard's figure to the observations behind it, and back: drill-down links carry the filter, the
observation page walks the filtered list (previous/next) and « retour » keeps the filters."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

from backend.admin.demo_data import DEMO_VIEWER_STRUCTURE
from tests.factories import FACILITATOR, DemoWeb


def _links(page: str, pattern: str) -> list[str]:
    return [html.unescape(link) for link in re.findall(pattern, page)]


def test_a_category_bar_leads_to_exactly_its_observations(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    dashboard = browser.api("GET", f"/api/v1/structures/{structure_id}/dashboard").json()
    top = max(dashboard["by_category"], key=lambda c: c["count"])
    page = browser.get(f"/structures/{structure_id}").text
    drills = _links(page, r'href="(/observations\?[^"]*category=[^"]*)" data-drill="' + top["code"])
    assert len(drills) == 1
    query = parse_qs(urlsplit(drills[0]).query)
    assert query == {"structure_id": [str(structure_id)], "category": [top["code"]]}
    listed = browser.api("GET", "/api/v1/observations", params={k: v[0] for k, v in query.items()}).json()
    assert listed["total"] == top["count"]


def test_observation_page_walks_the_filtered_list_and_returns_to_it(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    filters = {"structure_id": str(structure_id), "category": "interruption"}
    listed = browser.api("GET", "/api/v1/observations", params=filters).json()
    ids = [item["id"] for item in listed["items"]]
    assert len(ids) >= 3
    listing = browser.get("/observations", params=filters).text
    first_link = _links(listing, r'href="(/observations/' + ids[0] + r'\?[^"]*)"')[0]
    page = browser.get(first_link).text
    back = _links(page, r'id="back-to-list" href="([^"]*)"') or _links(
        page, r'href="([^"]*)" id="back-to-list"'
    )
    assert parse_qs(urlsplit(back[0]).query) == {k: [v] for k, v in {**filters, "page": "1"}.items()}
    assert 'rel="prev"' not in page  # the newest has none before it
    walked = [ids[0]]
    for _ in range(2):
        following = _links(page, r'href="(/observations/[^"?]+\?[^"]*)" rel="next"')[0]
        walked.append(urlsplit(following).path.rsplit("/", 1)[1])
        page = browser.get(following).text
        assert f"{len(walked)} sur {listed['total']}" in page
    assert walked == ids[:3]
    previous = _links(page, r'href="(/observations/[^"?]+\?[^"]*)" rel="prev"')[0]
    assert urlsplit(previous).path.endswith(ids[1])


def test_weekly_points_and_comparison_counts_lead_to_their_observations(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    weeks = browser.api("GET", f"/api/v1/structures/{structure_id}/weekly").json()["weeks"]
    busiest = max(weeks, key=lambda w: w["categories"]["interruption"]["count"])
    page = browser.get(f"/structures/{structure_id}").text
    link = f"/observations?structure_id={structure_id}&date_from={busiest['start']}&date_to={busiest['end']}"
    drills = _links(page, r'href="(' + re.escape(link) + r'&category=interruption)"')
    assert len(drills) == 1
    query = {k: v[0] for k, v in parse_qs(urlsplit(drills[0]).query).items()}
    assert (
        browser.api("GET", "/api/v1/observations", params=query).json()["total"]
        == (busiest["categories"]["interruption"]["count"])
    )
    comparison_page = browser.get(
        f"/structures/{structure_id}/before-after",
        params={
            "reference_to": busiest["end"],
            "compared_from": str(date.fromisoformat(busiest["end"]) + timedelta(days=1)),
        },
    ).text
    counts = re.findall(r'href="(/observations\?[^"]*)" data-drill="category">(\d+)<', comparison_page)
    assert counts
    for drill, shown in counts:
        query = {k: v[0] for k, v in parse_qs(urlsplit(html.unescape(drill)).query).items()}
        assert browser.api("GET", "/api/v1/observations", params=query).json()["total"] == int(shown)
