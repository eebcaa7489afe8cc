"""A visit's timeline and figures: lanes, multitasking time and interruptions on a visit built by hand; the
page and its JSON on the demo data, within the reader's scope."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from backend import models
from backend.admin.demo_data import DEMO_VIEWER_STRUCTURE
from backend.review.timeline import TimedEvent, lay_out
from tests.factories import FACILITATOR, VIEWER, DemoWeb

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def _event(category: str, start: float, end: float | None = None) -> TimedEvent:
    return TimedEvent(uuid.uuid4(), category, _at(start), None if end is None else _at(end))


def test_overlapping_tasks_take_separate_lanes_and_count_as_multitasking() -> None:
    search = _event("information_search", 10, 30)
    login = _event("login", 20, 25)
    later = _event("double_entry", 40, 50)
    interruption = _event("interruption", 22)
    alone = _event("interruption", 35)
    alert = _event("alert", 45)
    events = sorted([search, login, later, interruption, alone, alert], key=lambda e: e.start)
    timeline = lay_out(START, _at(60), events)
    lanes = {bar.observation_id: bar.lane for bar in timeline.bars}
    assert lanes == {search.observation_id: 0, login.observation_id: 1, later.observation_id: 0}
    figures = timeline.figures
    assert figures.observed_seconds == 3600
    assert figures.events == 6 and figures.events_per_hour == pytest.approx(6.0)
    assert figures.timed_seconds == pytest.approx(30 * 60)  # 10–30 and 40–50; 20–25 lies within
    assert figures.timed_share == pytest.approx(0.5)
    assert figures.multitasking_seconds == pytest.approx(5 * 60)
    assert figures.timed_share_by_category == pytest.approx(
        {"information_search": 1 / 3, "login": 5 / 60, "double_entry": 1 / 6}
    )
    assert figures.interruptions == 2 and figures.interruptions_per_hour == pytest.approx(2.0)
    # With their exact (Garwood) 95 % intervals, as published tables give them for 6 and 2 events in an hour.
    assert figures.events_rate is not None and figures.interruptions_rate is not None
    assert (figures.events_rate.low, figures.events_rate.high) == pytest.approx((2.2019, 13.0594), abs=1e-4)
    assert (figures.interruptions_rate.low, figures.interruptions_rate.high) == pytest.approx(
        (0.2422, 7.2247), abs=1e-4
    )
    # At 22 min: into the login (started last of the two going on); at 35: into none.
    interrupts = {mark.observation_id: mark.interrupts for mark in timeline.marks}
    assert interrupts[interruption.observation_id] == login.observation_id
    assert interrupts[alone.observation_id] is None and interrupts[alert.observation_id] is None
    assert figures.interruptions_during_a_task == 1 and len(timeline.links) == 1
    assert timeline.bars[0].x == pytest.approx(timeline.width * 10 / 60)


def test_the_share_of_tasks_resumed_counts_the_interruptions_the_observer_answered() -> None:
    task = _event("documentation", 0, 30)
    answered = [
        TimedEvent(uuid.uuid4(), "interruption", _at(5), None, True),
        TimedEvent(uuid.uuid4(), "interruption", _at(10), None, False),
        TimedEvent(uuid.uuid4(), "interruption", _at(12), None, True),
    ]
    figures = lay_out(START, _at(60), [task, *answered, _event("interruption", 20)]).figures
    assert (figures.interruptions, figures.resumption_known, figures.resumed) == (4, 3, 2)
    assert figures.resumed_share == pytest.approx(2 / 3)
    silent = lay_out(START, _at(60), [task, _event("interruption", 20)]).figures
    assert (silent.resumption_known, silent.resumed_share) == (0, None)


def test_open_visit_has_no_observed_time_and_no_rates() -> None:
    timeline = lay_out(START, None, [_event("alert", 5), _event("login", 6, 9)])
    assert timeline.figures.observed_seconds is None
    assert timeline.figures.events_per_hour is None and timeline.figures.timed_share is None
    assert timeline.figures.events_rate is None and timeline.figures.interruptions_rate is None
    assert timeline.figures.timed_seconds == pytest.approx(180)


def test_empty_visit_lays_out_nothing() -> None:
    timeline = lay_out(START, _at(30), [])
    assert timeline.bars == [] and timeline.marks == [] and timeline.figures.events == 0
    assert timeline.figures.multitasking_seconds == 0 and timeline.figures.timed_share == 0


def _busiest_visit(demo: DemoWeb, structure_id: int) -> models.Visit:
    with demo.session() as session:
        visits = session.exec(
            select(models.Visit).where(
                models.Visit.structure_id == structure_id,
                col(models.Visit.ended_at).is_not(None),
            )
        ).all()
        counts = {
            v.id: len(
                session.exec(select(models.Observation).where(models.Observation.visit_id == v.id)).all()
            )
            for v in visits
        }
    return max(visits, key=lambda v: counts[v.id])


def test_visit_page_draws_every_observation_and_links_back(demo: DemoWeb) -> None:
    structure_id = demo.structure_id(DEMO_VIEWER_STRUCTURE)
    visit = _busiest_visit(demo, structure_id)
    with demo.session() as session:
        observations = session.exec(
            select(models.Observation).where(
                models.Observation.visit_id == visit.id,
                models.Observation.deleted == False,  # noqa: E712
            )
        ).all()
    timed = [o for o in observations if o.ended_at is not None]
    browser = demo.browser(VIEWER)
    page = browser.get(f"/visits/{visit.id}")
    assert page.status_code == 200, page.text
    assert len(re.findall(r'class="event-bar"', page.text)) == len(timed)
    assert len(re.findall(r'class="event-mark', page.text)) == len(observations) - len(timed)
    body = browser.api("GET", f"/api/v1/visits/{visit.id}").json()
    assert [e["id"] for e in body["events"]] == [
        str(o.id) for o in sorted(observations, key=lambda o: (o.occurred_at, str(o.id)))
    ]
    hours = (visit.ended_at - visit.started_at).total_seconds() / 3600 if visit.ended_at else 0
    assert body["timeline"]["figures"]["events_per_hour"] == pytest.approx(len(observations) / hours)
    interval = body["timeline"]["figures"]["events_rate"]
    assert interval["low"] < interval["per_hour"] < interval["high"]
    shown_interval = re.search(r'data-interval="events">\(IC 95 % ([\d,]+)–([\d,]+)\)', page.text)
    assert shown_interval is not None
    assert float(shown_interval.group(1).replace(",", ".")) == pytest.approx(interval["low"], abs=0.05)
    assert float(shown_interval.group(2).replace(",", ".")) == pytest.approx(interval["high"], abs=0.05)
    told = [
        o.task_resumed for o in observations if o.category == "interruption" and o.task_resumed is not None
    ]
    figures = body["timeline"]["figures"]
    assert (figures["resumption_known"], figures["resumed"]) == (len(told), sum(told))
    shown = re.search(r'<p class="small" id="resumed">(.*?)</p>', page.text, re.S)
    assert shown is not None
    if told:
        assert f"{sum(told)} sur {len(told)} renseignées" in " ".join(shown.group(1).split())
    else:
        assert "non renseigné" in shown.group(1)
    detail = browser.get(f"/observations/{observations[0].id}")
    assert f'href="/visits/{visit.id}"' in detail.text
    listing = demo.browser(FACILITATOR).get("/observations", params={"structure_id": structure_id})
    assert 'href="/visits/' in listing.text


def test_visit_of_another_structure_is_not_found(demo: DemoWeb) -> None:
    other = demo.outside_viewer(models.Visit, models.Visit.structure_id)
    browser = demo.browser(VIEWER)
    assert browser.get(f"/visits/{other.id}").status_code == 404
    assert browser.api("GET", f"/api/v1/visits/{other.id}").status_code == 404
    assert browser.api("GET", f"/api/v1/visits/{uuid.uuid4()}").status_code == 404
