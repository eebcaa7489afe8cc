"""The one filter model behind the review list, the dashboard and the exports."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import build_demo
from backend.local_time import register_sqlite
from backend.review.filters import ObservationFilter, apply_observation_filter


def _ids(session: Session, criteria: ObservationFilter, allowed: set[int] | None = None) -> set[Any]:
    statement = apply_observation_filter(select(models.Observation.id), criteria, allowed)
    return set(session.exec(statement).all())


def test_each_filter_narrows_to_exactly_the_matching_observations(session: Session) -> None:
    build_demo(session)
    rows = session.exec(select(models.Observation)).all()
    visits = {v.id: v for v in session.exec(select(models.Visit)).all()}
    tags = session.exec(select(models.ObservationTag)).all()
    sample = rows[len(rows) // 3]
    unit_id = visits[sample.visit_id].unit_id
    day = sample.occurred_at.date()
    cases: list[tuple[ObservationFilter, set[Any]]] = [
        (ObservationFilter(), {o.id for o in rows}),
        (
            ObservationFilter(structure_id=sample.structure_id),
            {o.id for o in rows if o.structure_id == sample.structure_id},
        ),
        (ObservationFilter(unit_id=unit_id), {o.id for o in rows if visits[o.visit_id].unit_id == unit_id}),
        (
            ObservationFilter(category="login", role="ide"),
            {o.id for o in rows if o.category == "login" and o.role == "ide"},
        ),
        (ObservationFilter(tool="badge"), {o.id for o in rows if o.tool == "badge"}),
        (
            ObservationFilter(review_status="validated"),
            {o.id for o in rows if o.review_status == "validated"},
        ),
        (ObservationFilter(date_from=day, date_to=day), {o.id for o in rows if o.occurred_at.date() == day}),
        (
            ObservationFilter(date_from=day - timedelta(days=10)),
            {o.id for o in rows if o.occurred_at.date() >= day - timedelta(days=10)},
        ),
        (ObservationFilter(tag="connexions"), {t.observation_id for t in tags if t.tag == "connexions"}),
        (
            ObservationFilter(text="  BADGE  reconnu "),
            {o.id for o in rows if o.note and "badge" in o.note.lower() and "reconnu" in o.note.lower()},
        ),
    ]
    for criteria, expected in cases:
        assert expected, criteria  # every case selects something: none of these checks is vacuous
        assert _ids(session, criteria) == expected, criteria
    assert _ids(session, ObservationFilter(structure_id=sample.structure_id), {-1}) == set()


def test_text_search_treats_wildcards_as_plain_characters(session: Session) -> None:
    build_demo(session)
    assert _ids(session, ObservationFilter(text="%")) == set()
    assert _ids(session, ObservationFilter(text="_")) == set()


def test_deleted_observations_are_never_listed(session: Session) -> None:
    build_demo(session)
    row = session.exec(select(models.Observation).order_by(col(models.Observation.id))).first()
    assert row is not None
    row.deleted = True
    session.add(row)
    session.commit()
    assert row.id not in _ids(session, ObservationFilter())


def test_unknown_fields_and_overlong_search_are_refused() -> None:
    with pytest.raises(ValidationError):
        ObservationFilter.model_validate({"colour": "red"})
    with pytest.raises(ValidationError):
        ObservationFilter(text="x" * 201)


def test_sqlite_local_time_functions_follow_summer_time_and_ignore_what_is_not_a_moment() -> None:
    """The functions SQLite is given (PostgreSQL converts itself): 2026-03-29 is the night Paris moves to
    summer time; Chatham is 12:45 ahead of UTC in southern winter."""
    connection = sqlite3.connect(":memory:")
    register_sqlite(connection)

    def ask(function: str, stored: str | None, zone: str | None) -> object:
        return connection.execute(f"SELECT {function}(?, ?)", (stored, zone)).fetchone()[0]

    assert ask("vigie_local_hour", "2026-03-29 00:30:00.000000", "Europe/Paris") == 1
    assert ask("vigie_local_hour", "2026-03-29 01:30:00.000000", "Europe/Paris") == 3
    assert ask("vigie_local_weekday", "2026-03-29 01:30:00.000000", "Europe/Paris") == 7
    assert ask("vigie_local_hour", "2026-07-01 10:00:00", "Pacific/Chatham") == 22
    assert ask("vigie_local_weekday", "2026-07-01 12:00:00", "Pacific/Chatham") == 4
    assert ask("vigie_local_hour", "pas une date", "Europe/Paris") is None
    assert ask("vigie_local_hour", "2026-07-01 10:00:00", "Nulle/Part") is None
    assert ask("vigie_local_hour", None, "Europe/Paris") is None
    connection.close()
