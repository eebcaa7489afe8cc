from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, select

from backend import models
from backend.sync.records import observation_from_row, save_observation, visit_row
from shared import schema

PARIS = ZoneInfo("Europe/Paris")


def make_reference_data(session: Session) -> tuple[models.Structure, models.Unit, models.Observer]:
    programme = models.Programme(name="ACIA test", taxonomy_version="2026.1")
    session.add(programme)
    session.flush()
    assert programme.id is not None
    structure = models.Structure(programme_id=programme.id, name="EHPAD Test", kind="ehpad")
    observer = models.Observer(programme_id=programme.id, display_name="Observatrice")
    session.add_all([structure, observer])
    session.flush()
    assert structure.id is not None
    unit = models.Unit(structure_id=structure.id, name="Étage 1")
    session.add(unit)
    session.commit()
    return structure, unit, observer


def make_visit(session: Session, started: datetime) -> schema.Visit:
    structure, unit, observer = make_reference_data(session)
    assert structure.id and unit.id and observer.id
    visit = schema.Visit.begin(structure.id, unit.id, observer.id, started, observed_roles=["aide_soignant"])
    session.add(visit_row(visit))
    session.commit()
    return visit


def test_times_come_back_aware_and_equal_whatever_zone_they_were_given_in(session: Session) -> None:
    started = datetime(2026, 3, 29, 1, 30, tzinfo=PARIS)  # the night the clocks change
    visit = make_visit(session, started)
    session.expunge_all()
    row = session.get(models.Visit, visit.id)
    assert row is not None
    assert row.started_at == started
    assert row.started_at.tzinfo == UTC
    assert row.observed_roles == ["aide_soignant"]


def test_naive_times_are_refused_rather_than_guessed(session: Session) -> None:
    structure, _, _ = make_reference_data(session)
    structure.created_at = datetime(2026, 1, 1, 12, 0)  # no time zone
    session.add(structure)
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


def test_observation_round_trips_with_its_multi_valued_attributes(session: Session) -> None:
    started = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    visit = make_visit(session, started)
    observation = schema.Observation.logged(
        visit.id,
        started + timedelta(minutes=5),
        "system_failure",
        ended_at=started + timedelta(minutes=7),
        role="aide_soignant",
        tool="care_plan_software",
        dimensions=["rhythm", "work_content"],
        effect="negative",
        impacts=["qvt"],
        severity=3,
        note="Le logiciel de soins ne répond plus pendant deux minutes.",
        updated_at=started + timedelta(minutes=9),
        version=2,
    )
    save_observation(session, observation, visit)
    session.commit()
    session.expunge_all()

    row = session.get(models.Observation, observation.id)
    assert row is not None
    values = list(
        session.exec(
            select(models.ObservationAttributeValue).where(
                models.ObservationAttributeValue.observation_id == observation.id
            )
        )
    )
    read_back = observation_from_row(row, values)
    # Multi-valued attributes come back in the grid's order, whatever order they were given in.
    assert read_back == observation.model_copy(update={"dimensions": ["work_content", "rhythm"]})
    assert row.review_status == schema.ReviewStatus.TO_REVIEW


def test_saving_an_edited_observation_replaces_its_attribute_values(session: Session) -> None:
    started = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    visit = make_visit(session, started)
    first = schema.Observation.logged(
        visit.id, started, "interruption", dimensions=["rhythm", "work_spaces"], impacts=["qvt"]
    )
    save_observation(session, first, visit)
    session.commit()
    edited = first.model_copy(update={"dimensions": ["colleague_relations"], "impacts": [], "version": 2})
    save_observation(session, edited, visit)
    session.commit()

    values = session.exec(select(models.ObservationAttributeValue)).all()
    assert [(v.attribute, v.code) for v in values] == [("dimension", "colleague_relations")]
    assert len(session.exec(select(models.Observation)).all()) == 1


def test_observation_of_an_unknown_visit_is_refused_by_the_database(session: Session) -> None:
    # SQLite only enforces this because the engine turns foreign keys on.
    structure, _, observer = make_reference_data(session)
    assert structure.id is not None
    assert observer.id is not None
    now = datetime.now(UTC)
    session.add(
        models.Observation(
            id=uuid4(),
            visit_id=uuid4(),
            structure_id=structure.id,
            observer_id=observer.id,
            occurred_at=now,
            category="alert",
            created_at=now,
            updated_at=now,
        )
    )
    with pytest.raises(IntegrityError):
        session.commit()


def test_unit_names_are_unique_within_a_structure(session: Session) -> None:
    structure, unit, _ = make_reference_data(session)
    assert structure.id is not None
    session.add(models.Unit(structure_id=structure.id, name=unit.name))
    with pytest.raises(IntegrityError):
        session.commit()
