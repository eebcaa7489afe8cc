from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from backend import models
from backend.admin.demo_data import DEMO_PASSWORD, DEMO_VIEWER_EMAIL, build_demo, demo_present
from backend.auth.users import verify_password
from backend.db import make_engine
from backend.migrate import upgrade
from backend.sync.records import observation_from_row
from shared.schema import ReviewStatus, StructureType


def test_demo_is_a_realistic_programme(session: Session) -> None:
    assert not demo_present(session)
    summary = build_demo(session)
    assert demo_present(session)

    structures = session.exec(select(models.Structure)).all()
    assert 4 <= len(structures) <= 8
    assert {s.kind for s in structures} == {t.value for t in StructureType}
    units = session.exec(select(models.Unit)).all()
    assert {u.structure_id for u in units} == {s.id for s in structures}

    observations = session.exec(select(models.Observation)).all()
    assert 200 <= len(observations) <= 1000  # "a few hundred"
    assert len(observations) == summary.observations
    assert {o.structure_id for o in observations} == {s.id for s in structures}
    # Every category of the grid appears, with interruptions the most frequent, as on real wards.
    categories = Counter(o.category for o in observations)
    assert categories.most_common(1)[0][0] == "interruption"
    assert len(categories) == 10


def test_demo_observations_are_valid_and_inside_their_visit(session: Session) -> None:
    build_demo(session)
    visits = {v.id: v for v in session.exec(select(models.Visit)).all()}
    values = session.exec(select(models.ObservationAttributeValue)).all()
    by_observation: dict[object, list[models.ObservationAttributeValue]] = {}
    for value in values:
        by_observation.setdefault(value.observation_id, []).append(value)
    for row in session.exec(select(models.Observation)).all():
        observation = observation_from_row(row, by_observation.get(row.id, []))  # validates against the grid
        visit = visits[observation.visit_id]
        assert visit.ended_at is not None
        assert visit.started_at <= observation.occurred_at <= visit.ended_at
        assert row.structure_id == visit.structure_id
        if observation.ended_at is not None:
            assert observation.ended_at - observation.occurred_at <= timedelta(minutes=10)


def test_demo_interruptions_name_the_task_they_interrupted_and_whether_it_was_resumed(
    session: Session,
) -> None:
    build_demo(session)
    rows = {o.id: o for o in session.exec(select(models.Observation)).all()}
    linked = [o for o in rows.values() if o.interrupted_id is not None]
    assert len(linked) >= 10
    for interruption in linked:
        assert interruption.interrupted_id is not None
        task = rows[interruption.interrupted_id]
        assert interruption.category == "interruption" and task.visit_id == interruption.visit_id
        assert task.ended_at is not None and task.occurred_at <= interruption.occurred_at < task.ended_at
        assert interruption.task_resumed is not None
        assert (interruption.resumed_at is not None) == interruption.task_resumed
    assert {o.task_resumed for o in linked} == {True, False}
    assert all(o.role is not None and o.tool is not None for o in rows.values())  # no « Non renseigné »


def test_demo_is_the_same_for_the_same_seed(tmp_path: Path, session: Session) -> None:
    first = build_demo(session, seed=7)
    ids = sorted(str(o.id) for o in session.exec(select(models.Observation)).all())
    assert first.observations == len(ids)
    url = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as other:
        build_demo(other, seed=7)
        assert sorted(str(o.id) for o in other.exec(select(models.Observation)).all()) == ids
    engine.dispose()


def test_demo_accounts_can_sign_in_and_facilitator_follows_the_programme(session: Session) -> None:
    summary = build_demo(session)
    users = {u.email: u for u in session.exec(select(models.User)).all()}
    assert {u.role for u in users.values()} == {"admin", "facilitator", "viewer"}
    viewer = users[DEMO_VIEWER_EMAIL]
    assert viewer.structure_id is not None
    for user in users.values():
        assert verify_password(DEMO_PASSWORD, user.password_hash)
        assert DEMO_PASSWORD not in user.password_hash
    links = session.exec(select(models.UserProgramme)).all()
    assert [(link.programme_id) for link in links] == [summary.programme_id]


def test_demo_has_review_work_and_a_paired_visit(session: Session) -> None:
    summary = build_demo(session)
    observations = session.exec(select(models.Observation)).all()
    assert {o.review_status for o in observations} == {s.value for s in ReviewStatus}
    assert len(session.exec(select(models.ReviewComment)).all()) == 12
    assert len({t.observation_id for t in session.exec(select(models.ObservationTag)).all()}) == 30
    visits = session.exec(select(models.Visit)).all()
    assert len(visits) == summary.visits
    pairs = [
        (a, b)
        for a in visits
        for b in visits
        if a.unit_id == b.unit_id
        and a.observer_id < b.observer_id
        and a.ended_at is not None
        and b.ended_at is not None
        and a.started_at < b.ended_at
        and b.started_at < a.ended_at
    ]
    assert len(pairs) == 1
