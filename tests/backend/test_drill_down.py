"""From a dashboard's figure to the observations behind it, and back: drill-down links carry the filter, the
observation page walks the filtered list (previous/next) and « retour » keeps the filters."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from backend import models
from backend.admin.demo_data import DEMO_VIEWER_STRUCTURE
from tests.factories import FACILITATOR, Browser, DemoWeb


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
    counts = re.findall(r'href="(/observations\?[^"]*)" data-drill="(\w+)">(\d+)<', comparison_page)
    # Every attribute compared leads to its observations, work dimensions and impacts included.
    assert {attribute for _, attribute, _ in counts} == {
        "category", "role", "tool", "effect", "dimension", "impact"
    }  # fmt: skip
    for drill, _, shown in counts:
        query = {k: v[0] for k, v in parse_qs(urlsplit(html.unescape(drill)).query).items()}
        assert browser.api("GET", "/api/v1/observations", params=query).json()["total"] == int(shown)


def _total(browser: Browser, link: str) -> int:
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    response = browser.api("GET", "/api/v1/observations", params=query)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def test_effect_dimension_and_impact_bars_lead_to_exactly_their_observations(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    dashboard = browser.api("GET", f"/api/v1/structures/{structure_id}/dashboard").json()
    page = browser.get(f"/structures/{structure_id}").text
    for attribute in ("effect", "dimension", "impact"):
        counted = [row for row in dashboard[f"by_{attribute}"] if row["count"] and row["code"]]
        assert counted, attribute
        for row in counted:
            pattern = r'href="(/observations\?[^"]*&amp;' + attribute + "=" + row["code"] + r')" data-drill="'
            drills = _links(page, pattern + row["code"] + '"')
            assert len(drills) == 1, (attribute, row["code"])
            assert parse_qs(urlsplit(drills[0]).query) == {
                "structure_id": [str(structure_id)],
                attribute: [row["code"]],
            }
            assert _total(browser, drills[0]) == row["count"], (attribute, row["code"])


def _slot_links(page: str, name: str) -> dict[int, str]:
    """The chart's columns that lead to the list, by slot number as the link gives it."""
    found = _links(page, r'<a href="(/observations\?[^"]*&amp;' + name + r'=\d+)" data-drill-slot=')
    return {int(parse_qs(urlsplit(link).query)[name][0]): link for link in found}


def _check_slots(browser: Browser, page: str, dashboard: dict[str, Any]) -> None:
    hours, weekdays = _slot_links(page, "hour"), _slot_links(page, "weekday")
    assert set(hours) == {h for h, r in enumerate(dashboard["hour_rates"]) if r["count"]}
    assert set(weekdays) == {d + 1 for d, r in enumerate(dashboard["weekday_rates"]) if r["count"]}
    for hour, link in hours.items():
        assert _total(browser, link) == dashboard["hour_rates"][hour]["count"] == dashboard["by_hour"][hour]
    for day, link in weekdays.items():
        assert _total(browser, link) == dashboard["weekday_rates"][day - 1]["count"]


def test_hour_and_weekday_columns_lead_to_exactly_their_observations(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    dashboard = browser.api("GET", f"/api/v1/structures/{structure_id}/dashboard").json()
    _check_slots(browser, browser.get(f"/structures/{structure_id}").text, dashboard)
    # Both at once: one hour of one day, which is what a cell of an hour × weekday table would ask.
    weekday, hour, count = _busiest_slot(demo, structure_id)
    both = browser.api(
        "GET", "/api/v1/observations", params={"structure_id": structure_id, "weekday": weekday, "hour": hour}
    ).json()["total"]
    assert both == count
    # Narrowed to a unit (its structure's zone found through it), or to nothing else (each row's own).
    with demo.session() as session:
        rows = session.exec(
            select(models.Observation.occurred_at, models.Visit.unit_id)
            .join(models.Visit, col(models.Visit.id) == col(models.Observation.visit_id))
            .where(models.Observation.structure_id == structure_id, models.Observation.deleted == False)  # noqa: E712
        ).all()
    unit_id = Counter(unit for _, unit in rows).most_common(1)[0][0]
    in_unit = sum(
        1
        for moment, unit in rows
        if unit == unit_id and moment.astimezone(ZoneInfo("Europe/Paris")).hour == hour
    )
    listed = browser.api("GET", "/api/v1/observations", params={"unit_id": unit_id, "hour": hour}).json()
    assert listed["total"] == in_unit


def _busiest_slot(demo: DemoWeb, structure_id: int) -> tuple[int, int, int]:
    """The (ISO weekday, hour) observed most often in the structure, Paris time, and how often: from the
    raw rows, converted here."""
    with demo.session() as session:
        rows = session.exec(
            select(models.Observation.occurred_at).where(
                models.Observation.structure_id == structure_id,
                models.Observation.deleted == False,  # noqa: E712
            )
        ).all()
    local = [moment.astimezone(ZoneInfo("Europe/Paris")) for moment in rows]
    (slot, count), *_ = Counter((m.isoweekday(), m.hour) for m in local).most_common(1)
    return slot[0], slot[1], count


def test_heatmap_cells_of_the_programme_lead_to_their_counts(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    programme_id = demo.summary.programme_id
    comparison = browser.api("GET", f"/api/v1/programmes/{programme_id}/comparison").json()
    page = browser.get(f"/programmes/{programme_id}").text
    cells = _links(page, r'<td class="num heat[^"]*"[^>]*><a href="(/observations\?[^"]*)"')
    assert len(cells) == sum(
        1 for row in comparison["rows"] for count in row["category_counts"].values() if count
    )
    rows = {row["structure_id"]: row for row in comparison["rows"]}
    for link in cells:
        query = parse_qs(urlsplit(link).query)
        row = rows[int(query["structure_id"][0])]
        assert _total(browser, link) == row["category_counts"][query["category"][0]]


def test_the_list_shows_each_filter_as_a_chip_that_removes_it_alone(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    filters = {"structure_id": str(structure_id), "effect": "negative", "weekday": "2", "hour": "10"}
    page = browser.get("/observations", params=filters).text
    chips = dict(re.findall(r'<li class="chip" data-filter="(\w+)">(.*?)<a', page))
    assert set(chips) == set(filters)
    assert "mardi" in chips["weekday"] and "10 h – 11 h" in chips["hour"]
    assert "Effet : " in chips["effect"] and "negative" not in chips["effect"]  # the label, not the code
    removals = dict(re.findall(r'<li class="chip" data-filter="(\w+)">.*?<a href="([^"]*)"', page))
    for key, link in removals.items():
        kept = {k: v[0] for k, v in parse_qs(urlsplit(html.unescape(link)).query).items()}
        assert kept == {k: v for k, v in filters.items() if k != key}


def test_the_observation_page_keeps_hour_and_weekday_in_its_walk_and_its_return(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    weekday, hour, count = _busiest_slot(demo, structure_id)
    filters = {"structure_id": str(structure_id), "weekday": str(weekday), "hour": str(hour)}
    listed = browser.api("GET", "/api/v1/observations", params=filters).json()
    assert listed["total"] == count >= 2
    first = listed["items"][0]["id"]
    page = browser.get(f"/observations/{first}", params={**filters, "page": "1"}).text
    back = _links(page, r'href="([^"]*)" id="back-to-list"') or _links(
        page, r'id="back-to-list" href="([^"]*)"'
    )
    assert parse_qs(urlsplit(back[0]).query) == {k: [v] for k, v in {**filters, "page": "1"}.items()}
    following = _links(page, r'href="(/observations/[^"?]+\?[^"]*)" rel="next"')[0]
    assert urlsplit(following).path.endswith(listed["items"][1]["id"])
    assert {k: v[0] for k, v in parse_qs(urlsplit(following).query).items() if k != "page"} == filters
    assert f"1 sur {listed['total']}" in page


def test_a_slot_out_of_range_is_refused_with_a_field_error(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    for field, value in (("hour", "24"), ("weekday", "0"), ("weekday", "8")):
        response = browser.api("GET", "/api/v1/observations", params={field: value})
        assert response.status_code == 422
        assert field in response.text


def test_hours_are_counted_and_drilled_in_each_structure_s_own_time_zone(demo: DemoWeb) -> None:
    """Last in the module: it moves two structures to other time zones (a half-hour and a quarter-hour
    offset), so that a programme's chart adds hours from three zones; each column and the list agree, and
    both agree with the raw rows converted here."""
    browser = demo.browser(FACILITATOR)
    programme_id = demo.summary.programme_id
    zones = {"Europe/Paris": ZoneInfo("Europe/Paris")}
    with demo.session() as session:
        structures = session.exec(
            select(models.Structure).where(models.Structure.programme_id == programme_id)
        ).all()
        for structure, zone in zip(structures[:2], ("Asia/Kolkata", "Pacific/Chatham"), strict=True):
            structure.timezone = zone
            zones[zone] = ZoneInfo(zone)
            session.add(structure)
        session.commit()
        zone_of = {s.id: s.timezone for s in structures}
        rows = session.exec(
            select(models.Observation.occurred_at, models.Observation.structure_id).where(
                models.Observation.deleted == False  # noqa: E712
            )
        ).all()
    local = [
        moment.astimezone(zones[zone_of[structure_id]])
        for moment, structure_id in rows
        if structure_id in zone_of
    ]
    dashboard = browser.api("GET", f"/api/v1/programmes/{programme_id}/dashboard").json()
    assert dashboard["by_hour"] == [sum(1 for m in local if m.hour == h) for h in range(24)]
    assert dashboard["by_weekday"] == [sum(1 for m in local if m.weekday() == d) for d in range(7)]
    _check_slots(browser, browser.get(f"/programmes/{programme_id}").text, dashboard)


def test_the_unset_rows_of_role_tool_and_effect_lead_to_the_observations_with_none(demo: DemoWeb) -> None:
    # « Non renseigné » is a count like the others: its link lists exactly the observations where the
    # observer recorded no value (filter « - »), and the list names the filter in words. The demo's
    # taps all carry them, so a few are emptied here (and put back: the demo is shared by the module).
    browser = demo.browser(FACILITATOR)
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    emptied = {"effect": 3, "role": 2, "tool": 1}
    with demo.session() as session:
        rows = session.exec(
            select(models.Observation)
            .where(
                models.Observation.structure_id == structure_id, col(models.Observation.effect).is_not(None)
            )
            .where(col(models.Observation.role).is_not(None), col(models.Observation.tool).is_not(None))
            .order_by(col(models.Observation.occurred_at))
            .limit(3)
        ).all()
        assert len(rows) == 3
        before = {row.id: (row.effect, row.role, row.tool) for row in rows}
        for index, row in enumerate(rows):
            for attribute, count in emptied.items():
                if index < count:
                    setattr(row, attribute, None)
            session.add(row)
        session.commit()
    try:
        dashboard = browser.api("GET", f"/api/v1/structures/{structure_id}/dashboard").json()
        page = browser.get(f"/structures/{structure_id}").text
        for attribute, count in emptied.items():
            unset = [row for row in dashboard[f"by_{attribute}"] if row["code"] == ""]
            assert unset and unset[0]["count"] >= count, attribute
            drills = _links(page, r'href="(/observations\?[^"]*' + attribute + r'=-)" data-drill="-"')
            assert len(drills) == 1, attribute
            query = {k: v[0] for k, v in parse_qs(urlsplit(drills[0]).query).items()}
            listed = browser.api("GET", "/api/v1/observations", params=query).json()
            assert listed["total"] == unset[0]["count"], attribute
            assert all(item[attribute] is None for item in listed["items"])
            listing = browser.get("/observations", params=query).text
            assert "Non renseigné" in listing
    finally:
        with demo.session() as session:
            for observation_id, (effect, role, tool) in before.items():
                row = session.get_one(models.Observation, observation_id)
                row.effect, row.role, row.tool = effect, role, tool
                session.add(row)
            session.commit()
