from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from shared.messages import MESSAGES, FieldError, field_errors, message
from shared.schema import NOTE_MAX_LENGTH, VISIT_CONTEXT_MAX_LENGTH, Observation, Visit, check_finess
from shared.taxonomy import current_taxonomy, parse_taxonomy

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def observation_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(uuid4()),
        "visit_id": str(uuid4()),
        "occurred_at": NOW.isoformat(),
        "category": "interruption",
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
    }
    data.update(overrides)
    return data


def visit_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(uuid4()),
        "structure_id": 1,
        "unit_id": 2,
        "observer_id": 3,
        "started_at": NOW.isoformat(),
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
    }
    data.update(overrides)
    return data


def errors_of(
    model: type[Observation] | type[Visit], data: dict[str, Any], **kwargs: Any
) -> list[FieldError]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data, **kwargs)
    return field_errors(caught.value)


def test_a_fully_enriched_observation_is_valid() -> None:
    observation = Observation.model_validate(
        observation_data(
            ended_at=(NOW + timedelta(minutes=3)).isoformat(),
            role="ide",
            tool="phone",
            interruption_source="patient_family",
            dimensions=["rhythm", "patient_relations"],
            effect="negative",
            impacts=["qvt", "care_quality"],
            severity=2,
            note="Appel pendant la préparation des médicaments.",
        )
    )
    assert observation.duration_seconds == 180
    assert observation.version == 1
    assert observation.deleted is False


def test_one_tap_observation_needs_only_time_and_category() -> None:
    observation = Observation.model_validate(observation_data(category="login"))
    assert observation.role is None and observation.dimensions == [] and observation.ended_at is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "coffee_break"),
        ("role", "astronaut"),
        ("tool", "fax"),
        ("effect", "neutral"),
        ("dimensions", ["rhythm", "weather"]),
        ("impacts", ["happiness"]),
        ("severity", 4),
    ],
)
def test_unknown_codes_are_refused_with_the_field_named(field: str, value: Any) -> None:
    [error] = errors_of(Observation, observation_data(**{field: value}))
    assert error.field == field
    assert error.code in {"unknown_code", "less_than_equal"}


def test_unknown_category_message_is_french_and_names_the_code() -> None:
    [error] = errors_of(Observation, observation_data(category="pause_cafe"))
    assert error.code == "unknown_code"
    assert error.message == "Code inconnu « pause_cafe » pour « category » (grille 2026.1)."


def test_observation_ending_before_it_started_is_refused() -> None:
    [error] = errors_of(Observation, observation_data(ended_at=(NOW - timedelta(seconds=1)).isoformat()))
    assert (error.field, error.code) == ("ended_at", "end_before_start")
    assert "antérieure au début" in error.message


def test_observation_ending_when_it_started_is_accepted() -> None:
    assert Observation.model_validate(observation_data(ended_at=NOW.isoformat())).duration_seconds == 0


def test_end_compared_across_time_zones() -> None:
    paris = NOW.astimezone(ZoneInfo("Europe/Paris"))
    # 10:29 in Paris is 09:29 UTC: one minute before the start, though its clock reading is later.
    earlier = (paris - timedelta(minutes=1)).isoformat()
    [error] = errors_of(Observation, observation_data(ended_at=earlier))
    assert error.code == "end_before_start"


def test_visit_ending_before_it_started_is_refused() -> None:
    [error] = errors_of(Visit, visit_data(ended_at=(NOW - timedelta(hours=1)).isoformat()))
    assert (error.field, error.code) == ("ended_at", "end_before_start")


def test_note_over_the_limit_is_refused_with_the_limit_in_the_message() -> None:
    assert (
        Observation.model_validate(observation_data(note="x" * NOTE_MAX_LENGTH)).note == "x" * NOTE_MAX_LENGTH
    )
    [error] = errors_of(Observation, observation_data(note="x" * (NOTE_MAX_LENGTH + 1)))
    assert (error.field, error.code) == ("note", "string_too_long")
    assert error.message == f"Texte trop long : {NOTE_MAX_LENGTH} caractères au maximum."


def test_visit_context_over_the_limit_is_refused() -> None:
    [error] = errors_of(Visit, visit_data(context_note="é" * (VISIT_CONTEXT_MAX_LENGTH + 1)))
    assert (error.field, error.code) == ("context_note", "string_too_long")


def test_blank_note_is_stored_as_no_note() -> None:
    assert Observation.model_validate(observation_data(note="   \n ")).note is None


def test_times_without_time_zone_are_refused() -> None:
    [error] = errors_of(Observation, observation_data(occurred_at="2026-11-23T09:30:00"))
    assert (error.field, error.code) == ("occurred_at", "timezone_aware")


def test_malformed_uuid_is_refused() -> None:
    [error] = errors_of(Observation, observation_data(id="not-a-uuid"))
    assert (error.field, error.code) == ("id", "uuid_parsing")
    assert error.message == "Identifiant (UUID) invalide."


def test_interruption_source_only_for_interruptions() -> None:
    [error] = errors_of(Observation, observation_data(category="alert", interruption_source="phone"))
    assert (error.field, error.code) == ("interruption_source", "attribute_not_applicable")


def test_an_interruption_links_the_task_it_interrupted_and_when_it_was_resumed() -> None:
    timer_id = str(uuid4())
    resumed = (NOW + timedelta(seconds=45)).isoformat()
    interruption = Observation.model_validate(
        observation_data(interrupted_id=timer_id, task_resumed=True, resumed_at=resumed)
    )
    assert str(interruption.interrupted_id) == timer_id and interruption.task_resumed is True
    assert Observation.model_validate(observation_data(task_resumed=False)).resumed_at is None


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"category": "alert", "interrupted_id": str(uuid4())}, "interrupted_id", "attribute_not_applicable"),
        ({"category": "paper", "task_resumed": True}, "task_resumed", "attribute_not_applicable"),
        (
            {"task_resumed": False, "resumed_at": NOW.isoformat()},
            "resumed_at",
            "resumed_at_without_resumption",
        ),
        ({"resumed_at": NOW.isoformat()}, "resumed_at", "resumed_at_without_resumption"),
        (
            {"task_resumed": True, "resumed_at": (NOW - timedelta(seconds=1)).isoformat()},
            "resumed_at",
            "end_before_start",
        ),
        ({"task_resumed": "yes"}, "task_resumed", "bool_type"),
    ],
)
def test_resumption_fields_are_checked(overrides: dict[str, Any], field: str, code: str) -> None:
    [error] = errors_of(Observation, observation_data(**overrides))
    assert (error.field, error.code) == (field, code)


def test_resumption_fields_are_left_out_while_unused_so_older_servers_accept_the_record() -> None:
    plain = Observation.model_validate(observation_data())
    assert not {"interrupted_id", "task_resumed", "resumed_at"} & set(json.loads(plain.model_dump_json()))
    answered = Observation.model_validate(observation_data(task_resumed=False))
    assert json.loads(answered.model_dump_json())["task_resumed"] is False
    assert Observation.model_validate_json(plain.model_dump_json()) == plain


def test_an_interruption_cannot_interrupt_itself() -> None:
    data = observation_data()
    [error] = errors_of(Observation, {**data, "interrupted_id": data["id"]})
    assert (error.field, error.code) == ("interrupted_id", "interrupts_itself")


def test_the_same_dimension_twice_is_refused() -> None:
    [error] = errors_of(Observation, observation_data(dimensions=["rhythm", "rhythm"]))
    assert error.code == "duplicate_code"


def test_visit_roles_are_checked() -> None:
    assert Visit.model_validate(visit_data(observed_roles=["ide", "aide_soignant"])).observed_roles == [
        "ide",
        "aide_soignant",
    ]
    [error] = errors_of(Visit, visit_data(observed_roles=["ide", "chef"]))
    assert (error.field, error.code) == ("observed_roles", "unknown_code")


def test_unexpected_fields_are_refused() -> None:
    [error] = errors_of(Observation, observation_data(patient_name="Dupont"))
    assert error.code == "extra_forbidden"


def test_several_problems_are_reported_together() -> None:
    errors = errors_of(Observation, observation_data(category="x", note="y" * 5000, id="z"))
    assert {e.field for e in errors} == {"category", "note", "id"}


def test_a_programme_can_validate_against_its_own_grid_version() -> None:
    raw = copy.deepcopy(current_taxonomy().as_dict())
    raw["version"] = "2027.1"
    raw["categories"].append(
        {"code": "robot", "colour": "#000000", "timed": False, "fr": "Robot", "en": "Robot"}
    )
    newer = parse_taxonomy(raw)
    data = observation_data(category="robot")
    assert Observation.model_validate(data, context={"taxonomy": newer}).category == "robot"
    [error] = errors_of(Observation, data)
    assert "grille 2026.1" in error.message


def test_every_message_exists_in_both_languages_with_the_same_placeholders() -> None:
    import string

    for code, texts in MESSAGES.items():
        fields = [{f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f} for lang in ("fr", "en")]
        assert fields[0] == fields[1], code


def test_errors_render_in_english_on_request() -> None:
    with pytest.raises(ValidationError) as caught:
        Observation.model_validate(observation_data(category="x"))
    [error] = field_errors(caught.value, "en")
    assert error.message == "Unknown code 'x' for 'category' (grid 2026.1)."
    assert message("missing", "en") == "Field required."


@pytest.mark.parametrize(("value", "expected"), [("990000017", "990000017"), ("2A 0000017", "2A0000017")])
def test_finess_numbers_are_normalised(value: str, expected: str) -> None:
    assert check_finess(value) == expected


@pytest.mark.parametrize("value", ["12345", "99000001X", "3C0000017"])
def test_bad_finess_numbers_are_refused(value: str) -> None:
    from pydantic_core import PydanticCustomError

    with pytest.raises(PydanticCustomError):
        check_finess(value)
