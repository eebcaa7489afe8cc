"""Milestones and the comparison of two periods or two structures, on the demo data: counts checked against
the rows of the JSON export, observed time against the visits read plainly; slot denominators add up."""

from __future__ import annotations

import io
import json
import re
import statistics
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from pypdf import PdfReader
from sqlmodel import select

from backend import models
from backend.admin.demo_data import DEMO_VIEWER_STRUCTURE
from backend.dashboards.rates import rate_ratio
from backend.dashboards.service import split_by_local_hour
from tests.factories import ADMIN, FACILITATOR, VIEWER, DemoWeb


def _middle_day(demo: DemoWeb, structure_id: int) -> date:
    with demo.session() as session:
        days = sorted(
            o.occurred_at.astimezone(UTC).date()
            for o in session.exec(
                select(models.Observation).where(models.Observation.structure_id == structure_id)
            ).all()
        )
    return statistics.median_low(days)


def _export_categories(demo: DemoWeb, query: dict[str, str]) -> Counter[str]:
    response = demo.browser(ADMIN).api("GET", "/api/v1/exports/observations.json", params=query)
    assert response.status_code == 200, response.text
    return Counter(row["category_code"] for row in json.loads(response.content)["observations"])


def _observed_hours(demo: DemoWeb, structure_id: int, first: date | None, last: date | None) -> float:
    with demo.session() as session:
        visits = session.exec(select(models.Visit).where(models.Visit.structure_id == structure_id)).all()
    seconds = sum(
        (v.ended_at - v.started_at).total_seconds()
        for v in visits
        if v.ended_at is not None
        and not v.deleted
        and (first is None or v.started_at.astimezone(UTC).date() >= first)
        and (last is None or v.started_at.astimezone(UTC).date() <= last)
    )
    return seconds / 3600


def _add_milestone(demo: DemoWeb, structure_id: int, day: date, label: str) -> int:
    browser = demo.browser(FACILITATOR)
    with demo.session() as session:
        programme_id = session.get_one(models.Structure, structure_id).programme_id
    response = browser.form(
        f"/admin/programmes/{programme_id}/milestones",
        {"place": str(structure_id), "day": day.isoformat(), "label": label},
    )
    assert response.status_code == 303, response.text
    with demo.session() as session:
        milestone = session.exec(select(models.Milestone).where(models.Milestone.label == label)).one()
        event = session.exec(
            select(models.AuditEvent).where(
                models.AuditEvent.action == "structure.milestone",
                models.AuditEvent.target_id == str(milestone.id),
            )
        ).one()
    assert event.actor_user_id == demo.user(FACILITATOR).id
    assert milestone.id is not None
    return milestone.id


def test_before_after_a_milestone_agrees_with_the_export_rows(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    day = _middle_day(demo, structure_id)
    milestone_id = _add_milestone(demo, structure_id, day, "DPI déployé")
    response = demo.browser(VIEWER).api(
        "GET", f"/api/v1/structures/{structure_id}/before-after", params={"milestone_id": milestone_id}
    )
    assert response.status_code == 200, response.text
    comparison = response.json()
    assert comparison["milestone"]["label"] == "DPI déployé"
    before = _export_categories(
        demo, {"structure_id": str(structure_id), "date_to": str(day - timedelta(days=1))}
    )
    after = _export_categories(demo, {"structure_id": str(structure_id), "date_from": str(day)})
    assert before and after
    hours_before = _observed_hours(demo, structure_id, None, day - timedelta(days=1))
    hours_after = _observed_hours(demo, structure_id, day, None)
    assert comparison["reference"]["observed_hours"] == pytest.approx(hours_before, abs=1e-4)
    assert comparison["compared"]["observed_hours"] == pytest.approx(hours_after, abs=1e-4)
    assert comparison["reference"]["observations"] == sum(before.values())
    assert comparison["compared"]["observations"] == sum(after.values())
    categories = {r["code"]: r for r in comparison["rows"] if r["attribute"] == "category"}
    assert categories.keys() == set(before) | set(after)
    for code, row in categories.items():
        assert (row["reference"]["count"], row["compared"]["count"]) == (before[code], after[code])
        expected = rate_ratio(after[code], hours_after, before[code], hours_before)
        assert row["ratio"]["low"] == pytest.approx(expected.low)
        assert row["ratio"]["supported"] == expected.supported
        assert ("ne permettent pas de conclure" in row["reading"]) == (not expected.supported)


def test_before_after_page_shows_rates_ratios_and_readings(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    day = _middle_day(demo, structure_id)
    page = demo.browser(FACILITATOR).get(
        f"/structures/{structure_id}/before-after",
        params={"reference_to": str(day - timedelta(days=1)), "compared_from": str(day)},
    )
    assert page.status_code == 200, page.text
    assert "Rapport des taux" in page.text and "par heure observée" in page.text
    assert "Période de référence" in page.text and "IC 95 %" in page.text


def test_two_structures_compared_over_the_same_days(demo: DemoWeb) -> None:
    with demo.session() as session:
        structures = session.exec(select(models.Structure).order_by(models.Structure.id)).all()  # type: ignore[arg-type]
    first, second = structures[0], structures[1]
    assert first.id is not None and second.id is not None
    params = {"reference_structure_id": str(first.id), "compared_structure_id": str(second.id)}
    response = demo.browser(FACILITATOR).api(
        "GET", f"/api/v1/programmes/{first.programme_id}/structures-compared", params=params
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reference"]["observations"] == sum(
        _export_categories(demo, {"structure_id": str(first.id)}).values()
    )
    assert body["compared"]["observations"] == sum(
        _export_categories(demo, {"structure_id": str(second.id)}).values()
    )
    page = demo.browser(FACILITATOR).get(
        f"/programmes/{first.programme_id}/structures-compared", params=params
    )
    assert page.status_code == 200 and second.name in page.text


def test_viewer_cannot_compare_another_structure(demo: DemoWeb) -> None:
    own = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    other = demo.outside_viewer(models.Structure, models.Structure.id)
    browser = demo.browser(VIEWER)
    assert browser.api("GET", f"/api/v1/structures/{other.id}/before-after").status_code == 404
    refused = browser.form(
        f"/admin/programmes/{other.programme_id}/milestones",
        {"place": str(own), "day": "2026-01-05", "label": "x"},
    )
    assert refused.status_code in (403, 404)


def test_reversed_period_and_bad_place_are_refused_with_a_message(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    response = demo.browser(FACILITATOR).api(
        "GET",
        f"/api/v1/structures/{structure_id}/before-after",
        params={"reference_from": "2026-03-01", "reference_to": "2026-02-01"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_period" or "invalid_period" in response.text
    with demo.session() as session:
        programme_id = session.get_one(models.Structure, structure_id).programme_id
    page = demo.browser(FACILITATOR).form(
        f"/admin/programmes/{programme_id}/milestones", {"place": "x:1", "day": "2026-01-05", "label": "DPI"}
    )
    assert page.status_code == 422 and "Choisissez une structure" in page.text
    edge = demo.browser(FACILITATOR).form(
        f"/admin/programmes/{programme_id}/milestones",
        {"place": str(structure_id), "day": "0002-01-01", "label": "DPI"},
    )
    assert edge.status_code == 422 and "Jour invalide" in edge.text
    far = demo.browser(FACILITATOR).api(
        "GET", f"/api/v1/structures/{structure_id}/before-after", params={"reference_to": "9999-12-31"}
    )
    assert far.status_code == 422


def test_slot_hours_add_up_to_the_observed_hours(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    dashboard: dict[str, Any] = (
        demo.browser(FACILITATOR).api("GET", f"/api/v1/structures/{structure_id}/dashboard").json()
    )
    for slots in (dashboard["hour_rates"], dashboard["weekday_rates"]):
        assert sum(s["hours"] for s in slots) == pytest.approx(dashboard["observed_hours"], abs=1e-3)
        assert [s["count"] for s in slots] == (
            dashboard["by_hour"] if len(slots) == 24 else dashboard["by_weekday"]
        )
    assert dashboard["rate"]["low"] < dashboard["per_hour"] < dashboard["rate"]["high"]


def test_empty_period_says_so_and_offers_no_export(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    page = demo.browser(FACILITATOR).get(
        f"/structures/{structure_id}", params={"date_from": "2001-01-01", "date_to": "2001-01-31"}
    )
    assert page.status_code == 200
    assert "Aucune visite sur cette période" in page.text
    assert "data-export" not in page.text
    # Nor the list of observations, nor the comparisons, when there is nothing in them.
    browser = demo.browser(FACILITATOR)
    empty = {"structure_id": str(structure_id), "date_from": "2001-01-01", "date_to": "2001-01-31"}
    listing = browser.get("/observations", params=empty).text
    assert "Aucune observation ne correspond à ces filtres" in listing and "data-export" not in listing
    assert "data-export" in browser.get("/observations", params={"structure_id": str(structure_id)}).text
    periods = browser.get(
        f"/structures/{structure_id}/before-after",
        params={"reference_to": "2001-01-15", "compared_from": "2001-01-16", "compared_to": "2001-01-31"},
    ).text
    assert "Aucune visite sur ces périodes" in periods and "data-export" not in periods


def test_weekly_trends_add_up_to_the_dashboard_and_mark_milestones(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    browser = demo.browser(FACILITATOR)
    day = _middle_day(demo, structure_id)
    _add_milestone(demo, structure_id, day, "Nouvelle messagerie")
    dashboard = browser.api("GET", f"/api/v1/structures/{structure_id}/dashboard").json()
    trends = browser.api("GET", f"/api/v1/structures/{structure_id}/weekly").json()
    weeks = trends["weeks"]
    assert all(date.fromisoformat(w["start"]).weekday() == 0 for w in weeks)
    starts = [date.fromisoformat(w["start"]) for w in weeks]
    assert starts == [starts[0] + timedelta(weeks=i) for i in range(len(starts))]  # no week left out
    assert sum(w["rate"]["count"] for w in weeks) == dashboard["observations"]
    assert sum(w["observed_hours"] for w in weeks) == pytest.approx(dashboard["observed_hours"], abs=1e-3)
    for category in dashboard["by_category"]:
        if category["code"]:
            assert sum(w["categories"][category["code"]]["count"] for w in weeks) == category["count"]
    marked = [w for w in weeks if any(m["label"] == "Nouvelle messagerie" for m in w["milestones"])]
    assert len(marked) == 1
    assert 0 <= (day - date.fromisoformat(marked[0]["start"])).days < 7
    page = browser.get(f"/structures/{structure_id}").text
    assert "Tendances hebdomadaires" in page and 'class="milestone"' in page


def test_slot_hours_match_a_second_by_second_walk_in_local_time(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    dashboard = demo.browser(FACILITATOR).api("GET", f"/api/v1/structures/{structure_id}/dashboard").json()
    by_hour, by_weekday = [0.0] * 24, [0.0] * 7
    with demo.session() as session:
        zone = ZoneInfo(session.get_one(models.Structure, structure_id).timezone)
        visits = session.exec(select(models.Visit).where(models.Visit.structure_id == structure_id)).all()
    for visit in visits:
        if visit.deleted or visit.ended_at is None:
            continue
        seconds = int((visit.ended_at - visit.started_at).total_seconds())
        for second in range(seconds):
            local = (visit.started_at + timedelta(seconds=second)).astimezone(zone)
            by_hour[local.hour] += 1
            by_weekday[local.weekday()] += 1
    assert [s["hours"] for s in dashboard["hour_rates"]] == pytest.approx(
        [s / 3600 for s in by_hour], abs=1e-3
    )
    assert [s["hours"] for s in dashboard["weekday_rates"]] == pytest.approx(
        [s / 3600 for s in by_weekday], abs=1e-3
    )


def test_a_visit_across_the_change_to_summer_time_is_cut_at_local_hours() -> None:
    by_hour, by_weekday = [0.0] * 24, [0.0] * 7
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 in Paris; at 01:00 UTC, 02:00 becomes 03:00
    split_by_local_hour(start, start + timedelta(hours=2), ZoneInfo("Europe/Paris"), by_hour, by_weekday)
    assert {hour: seconds for hour, seconds in enumerate(by_hour) if seconds} == {1: 1800, 3: 3600, 4: 1800}
    assert by_weekday[6] == 7200  # a Sunday


def test_comparison_workbook_holds_the_same_figures_and_is_audited(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    day = _middle_day(demo, structure_id)
    params = {"reference_to": str(day - timedelta(days=1)), "compared_from": str(day)}
    browser = demo.browser(FACILITATOR)
    comparison = browser.api("GET", f"/api/v1/structures/{structure_id}/before-after", params=params).json()
    response = browser.api(
        "GET", f"/api/v1/exports/structures/{structure_id}/before-after.xlsx", params=params
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith('attachment; filename="vigie-comparaison-')
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(workbook["Comparaison"].iter_rows(values_only=True))
    assert len(rows) == 1 + 1 + len(comparison["rows"])  # headers, everything, then each value
    by_value = {(r[0], r[1]): r for r in rows[2:]}
    for row in comparison["rows"]:
        cells = by_value[(row["attribute_label"], row["label"])]
        assert (cells[2], cells[6]) == (row["reference"]["count"], row["compared"]["count"])
        assert cells[11] == pytest.approx(row["ratio"]["low"])
        assert cells[13] == ("oui" if row["ratio"]["supported"] else "non") and cells[14] == row["reading"]
    with demo.session() as session:
        event = session.exec(
            select(models.AuditEvent)
            .where(models.AuditEvent.action == "export.xlsx")
            .order_by(models.AuditEvent.id.desc())  # type: ignore[union-attr]
        ).first()
    assert event is not None and event.details["comparison"] == "periods"
    assert event.details["filters"] == params


def test_structure_exports_carry_the_before_after_of_its_milestones(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    day = _middle_day(demo, structure_id)
    _add_milestone(demo, structure_id, day, "Badges au vestiaire")
    browser = demo.browser(FACILITATOR)
    params = {"structure_id": str(structure_id)}
    workbook = openpyxl.load_workbook(
        io.BytesIO(browser.api("GET", "/api/v1/exports/observations.xlsx", params=params).content),
        read_only=True,
    )
    sheets = [name for name in workbook.sheetnames if name.startswith("Avant-après")]
    assert sheets
    comparison = browser.api(
        "GET",
        f"/api/v1/structures/{structure_id}/before-after",
        params={"reference_to": str(day - timedelta(days=1)), "compared_from": str(day)},
    ).json()
    first = list(workbook[sheets[0]].iter_rows(values_only=True))[1]
    assert (first[2], first[6]) == (
        comparison["reference"]["observations"],
        comparison["compared"]["observations"],
    )
    pdf = PdfReader(io.BytesIO(browser.api("GET", "/api/v1/exports/observations.pdf", params=params).content))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Avant et après les changements numériques" in text and "Badges au vestiaire" in text
    # An export of the whole programme has no structure to compare before and after.
    with demo.session() as session:
        programme_id = session.get_one(models.Structure, structure_id).programme_id
    whole = openpyxl.load_workbook(
        io.BytesIO(
            browser.api(
                "GET", "/api/v1/exports/observations.xlsx", params={"programme_id": programme_id}
            ).content
        ),
        read_only=True,
    )
    assert not [name for name in whole.sheetnames if name.startswith("Avant-après")]


def test_workbook_hours_are_rates_over_the_hours_observed_in_each_slot(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    browser = demo.browser(FACILITATOR)
    dashboard = browser.api("GET", f"/api/v1/structures/{structure_id}/dashboard").json()
    content = browser.api(
        "GET", "/api/v1/exports/observations.xlsx", params={"structure_id": structure_id}
    ).content
    rows = list(
        openpyxl.load_workbook(io.BytesIO(content), read_only=True)["Par heure"].iter_rows(values_only=True)
    )
    assert rows[0][2:4] == ("Heures observées", "Par heure observée")
    for row, slot in zip(rows[1:25], dashboard["hour_rates"], strict=True):
        assert row[1] == slot["count"]
        assert row[2] == pytest.approx(slot["hours"])
        assert row[3] == (pytest.approx(slot["per_hour"]) if slot["per_hour"] is not None else None)
        assert row[6] == slot["fragile"]
    days = list(
        openpyxl.load_workbook(io.BytesIO(content), read_only=True)["Par jour"].iter_rows(values_only=True)
    )
    assert [row[0] for row in days[1:8]] == [
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
    ]
    for row, slot in zip(days[1:8], dashboard["weekday_rates"], strict=True):
        assert (row[1], row[6]) == (slot["count"], slot["fragile"])
        assert row[2] == pytest.approx(slot["hours"])
        if slot["per_hour"] is not None:
            expected = [slot["per_hour"], slot["per_hour"] - slot["low"], slot["high"] - slot["per_hour"]]
            assert [row[3], row[7], row[8]] == pytest.approx(expected)
    # The charts draw the rates (column D) with their intervals as error bars, fragile slots in grey.
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        charts = [
            package.read(name).decode()
            for name in package.namelist()
            if name.startswith("xl/charts/chart") and name.endswith(".xml")
        ]
    for sheet, slots in (("Par heure", dashboard["hour_rates"]), ("Par jour", dashboard["weekday_rates"])):
        last = len(slots) + 1
        (chart,) = [c for c in charts if f"<c:f>'{sheet}'!$D$2:$D${last}</c:f>" in c]
        assert f"'{sheet}'!$I$2:$I${last}" in chart and f"'{sheet}'!$H$2:$H${last}" in chart
        assert "<c:errBars>" in chart and '<c:errValType val="cust"/>' in chart
        grey = re.findall(r'<c:dPt><c:idx val="(\d+)"/>.*?B8BEC6', chart)
        assert {int(i) for i in grey} == {i for i, slot in enumerate(slots) if slot["fragile"]}


def test_workshop_pack_draws_slot_rates_with_hours_observed(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    browser = demo.browser(FACILITATOR)
    content = browser.api(
        "GET", "/api/v1/exports/observations.pdf", params={"structure_id": structure_id}
    ).content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "Événements par heure observée, selon l'heure de la journée (heure locale)" in text
    assert "Événements par heure observée, selon le jour de la semaine (heure locale)" in text
    assert text.count("h obs.") == 2
    assert "sous l'axe : heures observées dans le créneau" in text
    assert "Observations par heure de la journée" not in text  # raw counts no longer


def test_slots_watched_a_few_minutes_do_not_flatten_the_rate_charts(demo: DemoWeb) -> None:
    browser = demo.browser(FACILITATOR)
    programme_id = demo.summary.programme_id
    dashboard = browser.api("GET", f"/api/v1/programmes/{programme_id}/dashboard").json()
    page = browser.get(f"/programmes/{programme_id}").text
    hours_chart = page[page.index('<figure class="columns rates">') :]
    hours_chart = hours_chart[: hours_chart.index("</figure>")]
    slots = re.findall(r'<g class="(fragile)?" data-slot="(\d+)">(.*?)</g>', hours_chart, re.S)
    assert len(slots) == 24
    solid = [s["high"] for s in dashboard["hour_rates"] if s["high"] is not None and not s["fragile"]]
    top = max(solid)
    for fragile, index, body in slots:
        slot = dashboard["hour_rates"][int(index)]
        assert bool(fragile) == bool(slot["fragile"])
        heights = [
            float(h) for h in re.findall(r'<rect x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)"', body)
        ]
        assert all(0 <= h <= 150 + 1e-9 for h in heights)  # never taller than the plot
        clipped = slot["per_hour"] is not None and slot["per_hour"] > top
        assert ('class="value clipped"' in body) == clipped


def test_programme_comparison_rates_carry_their_intervals_everywhere(demo: DemoWeb) -> None:
    """The programme's structures table (API and page), the workbook's sheets and the pack's table give each
    rate per observed hour with its exact interval, as the dashboard does."""
    browser = demo.browser(FACILITATOR)
    programme_id = demo.summary.programme_id
    comparison = browser.api("GET", f"/api/v1/programmes/{programme_id}/comparison").json()
    for row in comparison["rows"]:
        assert row["rate"]["count"] == row["observations"]
        if row["per_hour"] is not None:
            assert row["rate"]["low"] <= row["per_hour"] <= row["rate"]["high"]
        for code, interval in row["category_intervals"].items():
            assert interval["count"] == row["category_counts"][code]
            assert interval["per_hour"] == pytest.approx(row["category_rates"][code])
    assert all(c["high"] is not None for c in comparison["categories"])
    page = browser.get(f"/programmes/{programme_id}").text
    assert re.search(
        r'<td class="num heat[^"]*"[^>]*title="\d+ observation\(s\), IC 95 % [\d,]+–[\d,]+', page
    )
    workbook = openpyxl.load_workbook(
        io.BytesIO(
            browser.api(
                "GET", "/api/v1/exports/observations.xlsx", params={"programme_id": programme_id}
            ).content
        ),
        read_only=True,
    )
    dashboard = browser.api("GET", f"/api/v1/programmes/{programme_id}/dashboard").json()
    categories = list(workbook["Par catégorie"].iter_rows(values_only=True))
    assert categories[0][3:7] == ("Par heure observée", "IC 95 % bas", "IC 95 % haut", "Taux fragile")
    by_code = {c["code"]: c for c in dashboard["by_category"]}
    for row in categories[1:]:
        if row[2]:
            assert [row[4], row[5]] == pytest.approx([by_code[row[0]]["low"], by_code[row[0]]["high"]])
    rates = list(workbook["Taux par heure observée"].iter_rows(values_only=True))
    assert rates[0][4:8] == ("Par heure observée", "IC 95 % bas", "IC 95 % haut", "Taux fragile")
    assert rates[-1][0] == "Ensemble"
    assert [rates[-1][5], rates[-1][6]] == pytest.approx(
        [dashboard["rate"]["low"], dashboard["rate"]["high"]]
    )
    for row in rates[1:-1]:
        low, per_hour, high = (float(str(value)) for value in (row[5], row[4], row[6]))
        assert low <= per_hour <= high
    pdf = browser.api(
        "GET", "/api/v1/exports/observations.pdf", params={"programme_id": programme_id}
    ).content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Par heure (IC 95 %)" in text
