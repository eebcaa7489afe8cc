"""Aggregates across grid versions follow the mappings a version records: a split keeps the old code's
observations as a row of their own (« non ventilé »), a merge counts old codes under the new one —
counts and timer durations alike, medians taken over the merged events."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.auth.deps import reader_filter
from backend.auth.users import UserRole, create_user
from backend.dashboards.rate_comparison import PeriodsAsked, compare_periods
from backend.dashboards.service import programme_comparison, programme_dashboard
from backend.dashboards.trends import programme_trends
from backend.grids.service import publish, save_draft
from backend.grids.validation import grid_problems
from backend.grids.versions import starting_document
from backend.models import User
from backend.review.filters import ObservationFilter
from backend.review.service import list_observations
from tests.factories import NOW, Site, Tablet, enrol, make_site, observation


def shipped() -> dict[str, Any]:
    return copy.deepcopy(starting_document())


def category(code: str, fr: str, timed: bool = False) -> dict[str, Any]:
    return {"code": code, "colour": "#455A64", "timed": timed, "fr": fr, "en": fr}


def admin(session: Session) -> User:
    return create_user(
        session, email="admin@versions.test", full_name="Admin", role=UserRole.ADMIN, password="x" * 12
    )


# Yesterday at noon (UTC): every day compared below is a whole UTC day, whatever the hour the suite runs at.
NOON = NOW.replace(hour=12, minute=0, second=0) - timedelta(days=1)


def push(tablet: Tablet, grid_version: int, *observations: dict[str, Any], days_ago: int = 0) -> None:
    """A visit of an hour with its observations, ``days_ago`` days before yesterday's noon."""
    start = NOON - timedelta(days=days_ago, hours=1)
    visit = tablet.visit(
        grid_version=grid_version,
        started_at=start.isoformat(),
        ended_at=(start + timedelta(hours=1)).isoformat(),
    )
    at = {"occurred_at": (start + timedelta(minutes=10)).isoformat()}
    mutations = [
        tablet.mutation("observation", observation(visit["id"], **{**at, **o})) for o in observations
    ]
    results = tablet.push(tablet.mutation("visit", visit), *mutations).json()["results"]
    assert {r["status"] for r in results} == {"applied"}, results


def timed(code: str, seconds: int) -> dict[str, Any]:
    start = NOON - timedelta(minutes=50)
    return {
        "category": code,
        "interruption_source": None,
        "occurred_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=seconds)).isoformat(),
    }


def test_a_split_that_keeps_its_old_code_among_the_new_ones_is_refused() -> None:
    document = shipped()
    document["categories"].append(category("printing", "Impression"))
    document["mappings"] = [{"attribute": "category", "old": ["paper"], "new": ["paper", "printing"]}]
    problems = grid_problems(document)
    assert [(p.field, p.code) for p in problems] == [("mappings[0].new", "grid_split_keeps_code")]
    assert problems[0].message.startswith("Une scission donne de nouveaux codes : « paper » ne peut pas")


def test_a_split_keeps_old_counts_apart_as_not_shared_out(
    session: Session, site: Site, tablet: Tablet
) -> None:
    paper = {"category": "paper", "interruption_source": None}
    login = {"category": "login", "interruption_source": None}
    push(tablet, 1, paper, paper, paper, login, days_ago=10)

    split = shipped()
    split["categories"] = [c for c in split["categories"] if c["code"] != "paper"]
    split["categories"] += [category("printing", "Impression"), category("paper_forms", "Formulaires papier")]
    split["mappings"] = [{"attribute": "category", "old": ["paper"], "new": ["printing", "paper_forms"]}]
    save_draft(session, site.programme_id, split, actor_user_id=None)
    assert publish(session, site.programme_id, actor_user_id=None).number == 2
    printing = {"category": "printing", "interruption_source": None}
    push(tablet, 2, printing, printing, {"category": "paper_forms", "interruption_source": None}, login)

    reader = admin(session)
    dashboard = programme_dashboard(session, reader, site.programme_id, ObservationFilter())
    counts = {c.code: (c.label, c.count) for c in dashboard.by_category if c.count}
    assert counts == {
        "paper": ("Papier / impression (avant scission, non ventilé)", 3),
        "printing": ("Impression", 2),
        "paper_forms": ("Formulaires papier", 1),
        "login": ("Connexion / authentification", 2),
    }
    assert dashboard.observations == sum(count for _label, count in counts.values())  # nothing lost
    trends = programme_trends(session, reader, site.programme_id, ObservationFilter())
    weekly = {code: sum(w.categories[code].count for w in trends.weeks) for code, _label in trends.categories}
    assert {code: count for code, count in weekly.items() if count} == {c: n for c, (_l, n) in counts.items()}
    assert dict(trends.categories)["paper"] == "Papier / impression (avant scission, non ventilé)"
    comparison = programme_comparison(session, reader, site.programme_id, ObservationFilter())
    columns = {c.code: c.count for c in comparison.categories}
    assert (columns["paper"], columns["printing"], columns["paper_forms"]) == (3, 2, 1)
    assert comparison.rows[0].category_counts["paper"] == 3

    # A period after the split has no undivided row at all.
    later = programme_dashboard(session, reader, site.programme_id, ObservationFilter(category="printing"))
    assert [c.code for c in later.by_category if c.count] == ["printing"]
    assert "paper" not in [c.code for c in later.by_category]

    # Before and after the split, the new codes are rolled up into the old one: 3 undivided, then 2 + 1.
    today, ten_days_ago = NOON.date(), (NOON - timedelta(days=10)).date()
    across = compare_periods(
        session,
        reader,
        site.structure_id,
        PeriodsAsked(
            reference_from=ten_days_ago, reference_to=ten_days_ago, compared_from=today, compared_to=today
        ),
    )
    rows = {
        (r.code, r.label): (r.reference.count, r.compared.count)
        for r in across.rows
        if r.attribute == "category"
    }
    assert rows == {
        (
            "paper",
            "Papier / impression (scindé en : Impression, Formulaires papier ; regroupés pour comparer)",
        ): (3, 3),
        ("login", "Connexion / authentification"): (1, 1),
    }
    # Both periods after it: the new codes apart, and no undivided row.
    after = compare_periods(
        session,
        reader,
        site.structure_id,
        PeriodsAsked(reference_from=today, reference_to=today, compared_from=today, compared_to=today),
    )
    codes = {r.code: r.compared.count for r in after.rows if r.attribute == "category"}
    assert codes == {"printing": 2, "paper_forms": 1, "login": 1}


@pytest.mark.parametrize("merge_in_a_later_version", [False, True])
def test_timer_durations_follow_a_merge_with_one_median_over_the_merged_events(
    session: Session, site: Site, tablet: Tablet, merge_in_a_later_version: bool
) -> None:
    push(
        tablet,
        1,
        timed("login", 60),
        timed("login", 120),
        timed("system_failure", 300),
        timed("workaround", 100),
    )
    merged = shipped()
    merged["categories"] = [c for c in merged["categories"] if c["code"] not in ("login", "system_failure")]
    merged["categories"].append(category("access_trouble", "Accès difficile au système", timed=True))
    merged["mappings"] = [
        {"attribute": "category", "old": ["login", "system_failure"], "new": ["access_trouble"]}
    ]
    if merge_in_a_later_version:
        # Recorded one version later than the split: both mappings are followed whatever their version.
        with_split = shipped()
        with_split["categories"] = [c for c in with_split["categories"] if c["code"] != "workaround"]
        with_split["categories"] += [category("workaround_paper", "Contournement papier", timed=True)]
        with_split["categories"] += [category("workaround_other", "Autre contournement", timed=True)]
        with_split["mappings"] = [
            {"attribute": "category", "old": ["workaround"], "new": ["workaround_paper", "workaround_other"]}
        ]
        save_draft(session, site.programme_id, with_split, actor_user_id=None)
        publish(session, site.programme_id, actor_user_id=None)
        merged["categories"] = [c for c in merged["categories"] if c["code"] != "workaround"]
        merged["categories"] += with_split["categories"][-2:]
    save_draft(session, site.programme_id, merged, actor_user_id=None)
    number = publish(session, site.programme_id, actor_user_id=None).number
    push(tablet, number, timed("access_trouble", 30))

    admin_user = admin(session)
    dashboard = programme_dashboard(session, admin_user, site.programme_id, ObservationFilter())
    durations = {d.category: d for d in dashboard.durations}
    access = durations["access_trouble"]
    # SQLite measures lengths through Julian days: a few microseconds off.
    assert (access.label, access.events) == ("Accès difficile au système", 4)
    assert access.total_seconds == pytest.approx(510, abs=0.01)
    assert access.median_seconds == pytest.approx(90, abs=0.01)  # of 30, 60, 120, 300, not per-code medians
    assert "login" not in durations and "system_failure" not in durations
    workaround = durations["workaround"]
    expected = (
        "Contournement du logiciel (avant scission, non ventilé)"
        if merge_in_a_later_version
        else "Contournement du logiciel"
    )
    assert (workaround.label, workaround.events) == (expected, 1)
    assert workaround.total_seconds == pytest.approx(100, abs=0.01)
    counts = {c.code: c.count for c in dashboard.by_category if c.count}
    assert counts == {"access_trouble": 4, "workaround": 1}
    # The weekly trends count the same way, in the published grid's categories.
    trends = programme_trends(session, admin_user, site.programme_id, ObservationFilter())
    weekly = {code: sum(w.categories[code].count for w in trends.weeks) for code, _label in trends.categories}
    assert {code: count for code, count in weekly.items() if count} == counts
    assert dict(trends.categories)["access_trouble"] == "Accès difficile au système"


def test_the_list_behind_a_merged_category_holds_what_its_count_counts(
    client: TestClient, session: Session, site: Site, tablet: Tablet
) -> None:
    push(tablet, 1, timed("login", 60), timed("system_failure", 300), timed("workaround", 100))
    merged = shipped()
    merged["categories"] = [c for c in merged["categories"] if c["code"] not in ("login", "system_failure")]
    merged["categories"].append(category("access_trouble", "Accès difficile au système", timed=True))
    merged["mappings"] = [
        {"attribute": "category", "old": ["login", "system_failure"], "new": ["access_trouble"]}
    ]
    save_draft(session, site.programme_id, merged, actor_user_id=None)
    push(tablet, publish(session, site.programme_id, actor_user_id=None).number, timed("access_trouble", 30))
    # Another programme never merged anything: its « login » stays a category of its own.
    other = make_site(session, name="EHPAD Autre")
    push(enrol(client, session, other), 1, timed("login", 45))

    reader = admin(session)
    counted = programme_dashboard(session, reader, site.programme_id, ObservationFilter())
    (access,) = [c for c in counted.by_category if c.code == "access_trouble"]
    assert access.count == 3
    for values in (
        {"programme_id": str(site.programme_id), "category": "access_trouble"},
        {"structure_id": str(site.structure_id), "category": "access_trouble"},
        {"category": "access_trouble"},  # every programme: the merge is the first one's only
    ):
        criteria = reader_filter(values, session, reader, None)
        listed = list_observations(session, reader, criteria, None, 1, 50)
        assert listed.total == access.count, values
        assert sorted(item.category for item in listed.items) == ["access_trouble", "login", "system_failure"]
    # Asked by its old code, a merged category lists only its own rows, in both programmes.
    old = list_observations(
        session, reader, reader_filter({"category": "login"}, session, reader, None), None, 1, 50
    )
    assert old.total == 2
