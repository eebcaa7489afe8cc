"""Dashboard figures checked against an independent computation in Python over the same rows."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend import models
from backend.dashboards.service import (
    Count,
    Dashboard,
    compute_dashboard,
    programme_comparison,
    programme_dashboard,
    structure_dashboard,
)
from backend.review.filters import ObservationFilter
from backend.sync.records import save_observation, visit_row
from shared import schema
from shared.taxonomy import current_taxonomy
from tests import factories
from tests.databases import DATABASE_KINDS
from tests.factories import ADMIN, FACILITATOR, DemoWeb, demo_web


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("aggregates")) as demo:
        yield demo


@dataclass
class Rows:
    """Everything, read back plainly: the independent side of the comparison."""

    structures: dict[int, models.Structure]
    visits: dict[uuid.UUID, models.Visit]
    observations: list[models.Observation]
    values: dict[uuid.UUID, list[models.ObservationAttributeValue]]


def _rows(session: Session) -> Rows:
    values: dict[uuid.UUID, list[models.ObservationAttributeValue]] = {}
    for value in session.exec(select(models.ObservationAttributeValue)).all():
        values.setdefault(value.observation_id, []).append(value)
    return Rows(
        structures={s.id or 0: s for s in session.exec(select(models.Structure)).all()},
        visits={v.id: v for v in session.exec(select(models.Visit)).all() if not v.deleted},
        observations=[o for o in session.exec(select(models.Observation)).all() if not o.deleted],
        values=values,
    )


def _expected(
    rows: Rows,
    structure_ids: set[int],
    unit_id: int | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
    category: str | None = None,
) -> dict[str, Any]:
    def in_days(moment: datetime) -> bool:
        day = moment.astimezone(UTC).date()
        return (first_day is None or day >= first_day) and (last_day is None or day <= last_day)

    visits = [
        v
        for v in rows.visits.values()
        if v.structure_id in structure_ids
        and (unit_id is None or v.unit_id == unit_id)
        and in_days(v.started_at)
    ]
    seconds = sum((v.ended_at - v.started_at).total_seconds() for v in visits if v.ended_at)
    observations = [
        o
        for o in rows.observations
        if o.structure_id in structure_ids
        and (unit_id is None or rows.visits[o.visit_id].unit_id == unit_id)
        and in_days(o.occurred_at)
        and (category is None or o.category == category)
    ]
    hours = [0] * 24
    weekdays = [0] * 7
    for o in observations:
        local = o.occurred_at.astimezone(ZoneInfo(rows.structures[o.structure_id].timezone))
        hours[local.hour] += 1
        weekdays[local.weekday()] += 1
    durations: dict[str, list[float]] = {}
    for o in observations:
        if o.ended_at is not None:
            durations.setdefault(o.category, []).append((o.ended_at - o.occurred_at).total_seconds())

    def attribute(name: str) -> Counter[str]:
        return Counter(v.code for o in observations for v in rows.values.get(o.id, []) if v.attribute == name)

    return {
        "visits": len(visits),
        "seconds": seconds,
        "observations": len(observations),
        "category": Counter(o.category for o in observations),
        "role": Counter(o.role or "" for o in observations),
        "tool": Counter(o.tool or "" for o in observations),
        "effect": Counter(o.effect or "" for o in observations),
        "dimension": attribute("dimension"),
        "impact": attribute("impact"),
        "hours": hours,
        "weekdays": weekdays,
        "durations": {c: (len(d), statistics.median(d), sum(d)) for c, d in durations.items()},
    }


def _nonzero(counts: list[Count]) -> dict[str, int]:
    return {c.code: c.count for c in counts if c.count}


def _check(dashboard: Dashboard, expected: dict[str, Any]) -> None:
    hours = expected["seconds"] / 3600
    assert dashboard.visits == expected["visits"]
    assert dashboard.observed_hours == pytest.approx(hours, abs=1e-4)
    assert dashboard.observations == expected["observations"]
    for name, counts in (
        ("category", dashboard.by_category),
        ("role", dashboard.by_role),
        ("tool", dashboard.by_tool),
        ("effect", dashboard.by_effect),
        ("dimension", dashboard.by_dimension),
        ("impact", dashboard.by_impact),
    ):
        assert _nonzero(counts) == {k: v for k, v in expected[name].items() if v}, name
        for count in counts:
            assert count.per_hour == pytest.approx(count.count / hours), name
    assert dashboard.by_hour == expected["hours"]
    assert dashboard.by_weekday == expected["weekdays"]
    got = {d.category: (d.events, d.median_seconds, d.total_seconds) for d in dashboard.durations}
    assert got.keys() == expected["durations"].keys()
    for category, (events, median, total) in expected["durations"].items():
        assert got[category][0] == events
        assert got[category][1] == pytest.approx(median, abs=1e-3)
        assert got[category][2] == pytest.approx(total, abs=1e-3)
    for stat in dashboard.durations:
        assert stat.share_of_observed_time == pytest.approx(stat.total_seconds / expected["seconds"])


def unlimited_dashboard(
    session: Session,
    criteria: ObservationFilter,
    scope: Literal["structure", "programme"],
    scope_id: int,
    name: str,
) -> Dashboard:
    """The dashboard as a reader seeing every structure computes it, on the current grid."""
    return compute_dashboard(
        session, criteria, None, scope=scope, scope_id=scope_id, name=name, taxonomy=current_taxonomy()
    )


def test_structure_dashboards_match_an_independent_count(site: DemoWeb) -> None:
    admin = site.user(ADMIN)
    with site.session() as session:
        rows = _rows(session)
        for structure_id in rows.structures:
            dashboard = structure_dashboard(session, admin, structure_id, ObservationFilter())
            expected = _expected(rows, {structure_id})
            assert (
                expected["observations"] > 0 and expected["durations"] and sum(expected["dimension"].values())
            )
            _check(dashboard, expected)


def test_programme_dashboard_and_filters_match_an_independent_count(site: DemoWeb) -> None:
    facilitator = site.user(FACILITATOR)
    with site.session() as session:
        rows = _rows(session)
        everything = set(rows.structures)
        _check(
            programme_dashboard(session, facilitator, site.summary.programme_id, ObservationFilter()),
            _expected(rows, everything),
        )
        # Narrowed to one unit and a fortnight, then to one category: time stays, events narrow.
        visit = sorted(rows.visits.values(), key=lambda v: v.started_at)[len(rows.visits) // 2]
        first, last = visit.started_at.date() - timedelta(days=7), visit.started_at.date() + timedelta(days=7)
        criteria = ObservationFilter(unit_id=visit.unit_id, date_from=first, date_to=last)
        narrowed = structure_dashboard(session, facilitator, visit.structure_id, criteria)
        expected = _expected(rows, {visit.structure_id}, visit.unit_id, first, last)
        assert (
            0
            < expected["observations"]
            < len([o for o in rows.observations if o.structure_id == visit.structure_id])
        )
        _check(narrowed, expected)
        # Dates alone: work dimensions and impacts are then counted from their own copies of the dates.
        fortnight = ObservationFilter(date_from=first, date_to=last)
        _check(
            structure_dashboard(session, facilitator, visit.structure_id, fortnight),
            _expected(rows, {visit.structure_id}, None, first, last),
        )
        logins = programme_dashboard(
            session, facilitator, site.summary.programme_id, ObservationFilter(category="login")
        )
        _check(logins, _expected(rows, everything, category="login"))


def test_comparison_rates_are_events_per_observed_hour(site: DemoWeb) -> None:
    facilitator = site.user(FACILITATOR)
    with site.session() as session:
        rows = _rows(session)
        comparison = programme_comparison(
            session, facilitator, site.summary.programme_id, ObservationFilter()
        )
    assert len(comparison.rows) == len(rows.structures)
    for row in comparison.rows:
        expected = _expected(rows, {row.structure_id})
        hours = expected["seconds"] / 3600
        assert row.visits == expected["visits"] and row.observations == expected["observations"]
        assert row.per_hour == pytest.approx(expected["observations"] / hours)
        for code, count in row.category_counts.items():
            assert count == expected["category"].get(code, 0)
            assert row.category_rates[code] == pytest.approx(count / hours)
        negative = sum(
            1 for o in rows.observations if o.structure_id == row.structure_id and o.effect == "negative"
        )
        assert row.negative_share == pytest.approx(negative / expected["observations"])
    assert sum(c.count for c in comparison.categories) == len(rows.observations)


def test_api_serves_the_same_figures_as_the_service(site: DemoWeb) -> None:
    browser = site.browser(FACILITATOR)
    structure_id = site.structure_id("EHPAD Résidence du Parc")
    body = browser.get(f"/api/v1/structures/{structure_id}/dashboard?date_from=2000-01-01").json()
    with site.session() as session:
        expected = structure_dashboard(
            session, site.user(FACILITATOR), structure_id, ObservationFilter(date_from=date(2000, 1, 1))
        )
    assert Dashboard.model_validate(body) == expected
    page = browser.get(f"/structures/{structure_id}").text
    assert f">{expected.visits}</span><span>visites" in page
    assert "Comparaison des structures" in browser.get(f"/programmes/{site.summary.programme_id}").text


@pytest.mark.parametrize("zone", ["America/Montreal", "Asia/Kolkata"])
def test_hours_and_weekdays_are_read_in_the_structures_time_zone(session: Session, zone: str) -> None:
    """Across a daylight-saving change, and in a zone half an hour off UTC."""
    site = factories.make_site(session, "Loin", timezone=zone)
    start = datetime(2026, 3, 7, 0, 0, tzinfo=UTC)  # Montreal moves to summer time on 8 March 2026
    ended = start + timedelta(days=3)
    visit = schema.Visit.begin(
        site.structure_id, site.unit_ids[0], site.observer_ids[0], start, ended_at=ended
    )
    session.add(visit_row(visit))
    session.flush()
    moments = [start + timedelta(hours=h, minutes=m) for h in (3, 9, 27, 33, 51, 57) for m in (10, 45)]
    for moment in moments:
        observation = schema.Observation.logged(visit.id, moment, "alert")
        save_observation(session, observation, visit)
    session.commit()
    dashboard = unlimited_dashboard(
        session, ObservationFilter(structure_id=site.structure_id), "structure", site.structure_id, "Loin"
    )
    local = [m.astimezone(ZoneInfo(zone)) for m in moments]
    assert dashboard.by_hour == [sum(1 for t in local if t.hour == h) for h in range(24)]
    assert dashboard.by_weekday == [sum(1 for t in local if t.weekday() == d) for d in range(7)]
    assert dashboard.observed_hours == pytest.approx(72)


def _values_by_code(dashboard: Dashboard) -> dict[str, dict[str, int]]:
    return {"dimension": _nonzero(dashboard.by_dimension), "impact": _nonzero(dashboard.by_impact)}


def test_work_dimensions_follow_edited_and_deleted_observations(client: TestClient, session: Session) -> None:
    """Values are counted from copies of their observation's structure, time and deletion: a pushed edit
    moves them to another day, a deletion takes them out, whichever way the dashboard counts them."""
    site = factories.make_site(session)
    tablet = factories.enrol(client, session, site)
    day = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    visit = tablet.visit(started_at=day.isoformat(), ended_at=(day + timedelta(hours=3)).isoformat())

    def at(minutes: int) -> str:
        return (day + timedelta(minutes=minutes)).isoformat()

    kept = factories.observation(
        visit["id"], occurred_at=at(10), dimensions=["rhythm", "work_content"], impacts=["qvt"]
    )
    moved = factories.observation(visit["id"], occurred_at=at(20), dimensions=["rhythm"])
    removed = factories.observation(
        visit["id"], occurred_at=at(30), dimensions=["work_spaces"], impacts=["care_quality"]
    )
    records = [("visit", visit), ("observation", kept), ("observation", moved), ("observation", removed)]
    created = tablet.push(*(tablet.mutation(entity, data) for entity, data in records))
    assert factories.statuses(created) == ["applied"] * 4
    day_before = (day - timedelta(days=1)).isoformat()
    edits = [{**moved, "occurred_at": day_before, "version": 2}, {**removed, "deleted": True, "version": 2}]
    edited = tablet.push(*(tablet.mutation("observation", data) for data in edits))
    assert factories.statuses(edited) == ["applied"] * 2

    for value in session.exec(select(models.ObservationAttributeValue)).all():
        row = session.get_one(models.Observation, value.observation_id)
        assert (value.structure_id, value.occurred_at, value.deleted) == (
            row.structure_id,
            row.occurred_at,
            row.deleted,
        )
    everything = {"dimension": {"rhythm": 2, "work_content": 1}, "impact": {"qvt": 1}}
    on_the_day = {"dimension": {"rhythm": 1, "work_content": 1}, "impact": {"qvt": 1}}
    for criteria, expected in (
        (ObservationFilter(), everything),
        (ObservationFilter(date_from=day.date(), date_to=day.date()), on_the_day),
        # Any filter on other columns of the observation counts through a join with it: same figures.
        (ObservationFilter(review_status=schema.ReviewStatus.TO_REVIEW), everything),
        (ObservationFilter(unit_id=tablet.unit_id, date_from=day.date()), on_the_day),
    ):
        dashboard = unlimited_dashboard(
            session,
            criteria.model_copy(update={"structure_id": site.structure_id}),
            "structure",
            site.structure_id,
            "CH Test",
        )
        assert _values_by_code(dashboard) == expected, criteria


def test_a_programme_across_time_zones_reads_each_structure_in_its_own(session: Session) -> None:
    programme = models.Programme(name="Outre-mer", taxonomy_version="2026.1")
    session.add(programme)
    session.flush()
    assert programme.id is not None
    moments = [datetime(2026, 3, 28, 22, 30, tzinfo=UTC) + timedelta(hours=h) for h in range(0, 30, 5)]
    expected_hours = [0] * 24
    expected_weekdays = [0] * 7
    for zone in ("Europe/Paris", "America/Cayenne", "Indian/Reunion"):
        structure = models.Structure(programme_id=programme.id, name=zone, kind="hospital", timezone=zone)
        session.add(structure)
        session.flush()
        assert structure.id is not None
        unit = models.Unit(structure_id=structure.id, name="U")
        observer = models.Observer(programme_id=programme.id, display_name="O")
        session.add_all([unit, observer])
        session.flush()
        assert unit.id is not None and observer.id is not None
        visit = schema.Visit.begin(structure.id, unit.id, observer.id, moments[0], ended_at=moments[-1])
        session.add(visit_row(visit))
        session.flush()
        for moment in moments:
            observation = schema.Observation.logged(visit.id, moment, "paper")
            save_observation(session, observation, visit)
            local = moment.astimezone(ZoneInfo(zone))
            expected_hours[local.hour] += 1
            expected_weekdays[local.weekday()] += 1
    session.commit()
    dashboard = unlimited_dashboard(
        session, ObservationFilter(programme_id=programme.id), "programme", programme.id, "Outre-mer"
    )
    assert dashboard.by_hour == expected_hours
    assert dashboard.by_weekday == expected_weekdays
