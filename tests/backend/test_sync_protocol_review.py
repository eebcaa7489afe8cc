"""Regression tests for what the outside review of the sync protocol found (poison batch, silent loss).

Each test drives the HTTP API as a third-party client written from docs/sync.md would, on SQLite and
PostgreSQL; each failed on the code before the fix.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend import models
from backend.sync import records
from backend.sync import service as sync_service
from shared.messages import MESSAGES
from shared.sync import CLOCK_WARNING_SECONDS, PROTOCOL_HEADER, RESULT_CODES
from tests.factories import Site, Tablet, enrol, observation, statuses


def stored(session: Session) -> dict[uuid.UUID, models.Observation]:
    session.expire_all()
    return {o.id: o for o in session.exec(select(models.Observation))}


def revisions(session: Session, record_id: str) -> list[models.RecordRevision]:
    session.expire_all()
    return list(
        session.exec(
            select(models.RecordRevision).where(models.RecordRevision.record_id == uuid.UUID(record_id))
        )
    )


# --- 1. Poison batch ------------------------------------------------------------------------------


def test_interleaved_states_of_two_new_observations_apply_in_order(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    x, y = observation(visit["id"]), observation(visit["id"])
    mutations = [
        tablet.mutation("visit", visit),
        tablet.mutation("observation", x),
        tablet.mutation("observation", y),
        tablet.mutation("observation", {**y, "version": 2, "note": "Y deuxième"}),
        tablet.mutation("observation", {**x, "version": 2, "note": "X deuxième"}),
    ]
    response = tablet.push(*mutations)
    assert statuses(response) == ["applied"] * 5
    rows = stored(session)
    assert (rows[uuid.UUID(x["id"])].version, rows[uuid.UUID(x["id"])].note) == (2, "X deuxième")
    assert (rows[uuid.UUID(y["id"])].version, rows[uuid.UUID(y["id"])].note) == (2, "Y deuxième")
    # The same batch again (its answer lost) changes nothing and answers the same.
    assert tablet.push(*mutations).json()["results"] == response.json()["results"]


def test_interleaved_states_with_a_deletion_and_a_stale_state(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    x, y, z = (observation(visit["id"]) for _ in range(3))
    results = tablet.push(
        tablet.mutation("visit", visit),
        tablet.mutation("observation", x),
        tablet.mutation("observation", y),
        tablet.mutation("observation", z),
        tablet.mutation("observation", {**y, "version": 3, "deleted": True}),
        tablet.mutation("observation", {**x, "version": 2}),
        tablet.mutation("observation", {**y, "version": 2}),  # older than the deletion: stale
        tablet.mutation("observation", {**z, "version": 2, "severity": 2}),
    ).json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        *[("applied", None)] * 6,
        ("superseded", "stale_version"),
        ("applied", None),
    ]
    rows = stored(session)
    assert rows[uuid.UUID(y["id"])].deleted
    assert rows[uuid.UUID(z["id"])].severity == 2


def test_one_failing_item_never_fails_the_push(
    session: Session, tablet: Tablet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault injected into one item: the rest of the batch is applied, the item is sent again later."""
    real_values = records.attribute_values

    def failing_on_one_note(observation: Any, structure_id: int) -> Any:
        if observation.note == "déclenche une panne":
            raise RuntimeError("injected fault")
        return real_values(observation, structure_id)

    monkeypatch.setattr(sync_service, "attribute_values", failing_on_one_note)
    visit = tablet.visit()
    before, bad, after = (observation(visit["id"]) for _ in range(3))
    bad["note"] = "déclenche une panne"
    mutations = [
        tablet.mutation("visit", visit),
        tablet.mutation("observation", before),
        tablet.mutation("observation", bad),
        tablet.mutation("observation", after),
    ]
    results = tablet.push(*mutations).json()["results"]
    assert [(r["status"], r["code"], r["retryable"]) for r in results] == [
        ("applied", None, False),
        ("applied", None, False),
        ("rejected", "item_failed", True),
        ("applied", None, False),
    ]
    assert set(stored(session)) == {uuid.UUID(before["id"]), uuid.UUID(after["id"])}

    monkeypatch.setattr(sync_service, "attribute_values", real_values)
    again = tablet.push(*mutations).json()["results"]
    assert [r["status"] for r in again] == ["applied"] * 4  # the failed item was not remembered
    assert uuid.UUID(bad["id"]) in stored(session)


# --- 2. A mutation id is bound to its record --------------------------------------------------------


def test_reused_mutation_id_for_another_record_is_refused_not_applied(
    session: Session, tablet: Tablet
) -> None:
    visit = tablet.visit()
    a = observation(visit["id"])
    first = tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", a))
    assert statuses(first) == ["applied", "applied"]
    reused_id = first.json()["results"][1]["mutation_id"]
    b = observation(visit["id"])
    answer = tablet.push({"mutation_id": reused_id, "entity": "observation", "data": b}).json()
    result = answer["results"][0]
    assert (result["status"], result["code"], result["retryable"]) == (
        "rejected",
        "mutation_id_reused",
        False,
    )
    assert result["record_id"] == b["id"]
    assert answer["last_mutation_id"] == reused_id
    assert uuid.UUID(b["id"]) not in stored(session)
    # The first record's own retry is still answered as applied.
    assert statuses(tablet.push({"mutation_id": reused_id, "entity": "observation", "data": a})) == [
        "applied"
    ]


def test_reused_mutation_id_of_a_remembered_rejection_is_refused(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    bad = observation(visit["id"], category="inconnue")
    tablet.push(tablet.mutation("visit", visit))
    rejected = tablet.push(tablet.mutation("observation", bad)).json()["results"][0]
    assert rejected["code"] == "invalid_record"
    other = observation(visit["id"])
    result = tablet.push(
        {"mutation_id": rejected["mutation_id"], "entity": "observation", "data": other}
    ).json()["results"][0]
    assert result["code"] == "mutation_id_reused"
    assert uuid.UUID(other["id"]) not in stored(session)


def test_same_mutation_id_twice_in_one_push_for_two_records(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    a, b = observation(visit["id"]), observation(visit["id"])
    results = tablet.push(
        tablet.mutation("visit", visit),
        {"mutation_id": 50, "entity": "observation", "data": a},
        {"mutation_id": 50, "entity": "observation", "data": b},
        {"mutation_id": 50, "entity": "observation", "data": a},
    ).json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        ("applied", None),
        ("applied", None),
        ("rejected", "mutation_id_reused"),
        ("applied", None),
    ]
    assert uuid.UUID(b["id"]) not in stored(session)


# --- 3. Clocks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "device_clock",
    [timedelta(days=-3), datetime(2000, 1, 1, tzinfo=UTC)],
    ids=["3-days-behind", "reset-2000"],
)
def test_a_tablet_clock_running_behind_loses_nothing(
    session: Session, tablet: Tablet, device_clock: timedelta | datetime
) -> None:
    now = datetime.now(UTC)
    device_time = now + device_clock if isinstance(device_clock, timedelta) else device_clock
    visit = tablet.visit(started_at=(now - timedelta(hours=2)).isoformat())
    recent = observation(visit["id"], occurred_at=(now - timedelta(hours=1)).isoformat())
    answer = tablet.push(
        tablet.mutation("visit", visit), tablet.mutation("observation", recent), device_time=device_time
    ).json()
    assert [r["status"] for r in answer["results"]] == ["applied", "applied"]
    assert answer["clock_warning"]["code"] == "device_clock_off"
    assert "horloge" in answer["clock_warning"]["message"]
    assert uuid.UUID(recent["id"]) in stored(session)


def test_a_time_ahead_of_the_server_is_kept_and_flagged(session: Session, tablet: Tablet) -> None:
    ahead = datetime.now(UTC) + timedelta(days=3)
    visit = tablet.visit(started_at=(ahead - timedelta(hours=1)).isoformat())
    late = observation(visit["id"], occurred_at=ahead.isoformat())
    answer = tablet.push(
        tablet.mutation("visit", visit), tablet.mutation("observation", late), device_time=ahead
    ).json()
    assert [(r["status"], r["code"]) for r in answer["results"]] == [
        ("applied", "clock_suspect"),
        ("applied", "clock_suspect"),
    ]
    assert answer["clock_warning"]["offset_seconds"] < -CLOCK_WARNING_SECONDS
    row = stored(session)[uuid.UUID(late["id"])]
    assert row.clock_suspect
    assert row.occurred_at == ahead.replace(microsecond=ahead.microsecond)  # stored as sent


def test_a_clock_close_to_the_server_gets_no_warning(tablet: Tablet) -> None:
    answer = tablet.push(tablet.mutation("visit", tablet.visit())).json()
    assert answer["clock_warning"] is None


# --- Smaller findings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("severity", True, "int_type"),
        ("severity", "2", "int_type"),
        ("deleted", "yes", "bool_type"),
        ("deleted", 1, "bool_type"),
        ("version", 2.0, "int_type"),
    ],
)
def test_loose_types_are_refused(session: Session, tablet: Tablet, field: str, value: Any, code: str) -> None:
    visit = tablet.visit()
    bad = observation(visit["id"], **{field: value})
    result = tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", bad)).json()[
        "results"
    ][1]
    assert result["code"] == "invalid_record"
    assert [(d["field"], d["code"]) for d in result["details"]] == [(field, code)]
    assert uuid.UUID(bad["id"]) not in stored(session)


def test_visit_ids_must_be_numbers_not_strings(tablet: Tablet) -> None:
    result = tablet.push(tablet.mutation("visit", tablet.visit(unit_id=str(tablet.unit_id)))).json()[
        "results"
    ][0]
    assert [(d["field"], d["code"]) for d in result["details"]] == [("unit_id", "int_type")]


def test_a_mutation_id_given_as_a_string_is_refused(tablet: Tablet) -> None:
    response = tablet.push({"mutation_id": "7", "entity": "visit", "data": tablet.visit()})
    assert response.status_code == 422
    assert [d["code"] for d in response.json()["details"]] == ["int_type"]


@pytest.mark.parametrize("header", ["1.0", " 1", "1e0", "un"])
def test_a_protocol_header_that_is_not_a_whole_number_is_refused(tablet: Tablet, header: str) -> None:
    response = tablet.client.get("/api/v1/sync/pull", headers={**tablet.headers, PROTOCOL_HEADER: header})
    assert response.status_code == 400
    assert response.json()["code"] == "protocol_unknown"


def test_notes_are_kept_exactly_as_typed(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit(context_note="  matin, relève  ")
    typed = observation(visit["id"], note="  -> DxCare lent \n")
    tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", typed))
    assert stored(session)[uuid.UUID(typed["id"])].note == "  -> DxCare lent \n"
    assert session.get_one(models.Visit, uuid.UUID(visit["id"])).context_note == "  matin, relève  "
    assert tablet.pull().json()["observations"][0]["note"] == "  -> DxCare lent \n"


def test_a_tombstone_is_final(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    gone = observation(visit["id"], note="supprimée")
    tablet.push(
        tablet.mutation("visit", visit),
        tablet.mutation("observation", gone),
        tablet.mutation("observation", {**gone, "version": 2, "deleted": True}),
    )
    result = tablet.push(
        tablet.mutation("observation", {**gone, "version": 5, "deleted": True, "note": "autre contenu"})
    ).json()["results"][0]
    assert (result["status"], result["code"]) == ("superseded", "record_deleted")
    row = stored(session)[uuid.UUID(gone["id"])]
    assert (row.version, row.note, row.deleted) == (2, "supprimée", True)
    assert [(r.reason, r.data["note"]) for r in revisions(session, gone["id"])] == [
        ("edit_after_delete", "autre contenu")
    ]


def test_a_new_observation_on_a_deleted_visit_is_refused_and_kept(session: Session, tablet: Tablet) -> None:
    visit = tablet.visit()
    tablet.push(
        tablet.mutation("visit", visit), tablet.mutation("visit", {**visit, "version": 2, "deleted": True})
    )
    late = observation(visit["id"])
    result = tablet.push(tablet.mutation("observation", late)).json()["results"][0]
    assert (result["status"], result["code"], result["retryable"]) == ("rejected", "visit_deleted", False)
    assert uuid.UUID(late["id"]) not in stored(session)
    assert [r.reason for r in revisions(session, late["id"])] == ["visit_deleted"]


def test_an_observation_on_another_observers_visit_is_final_not_retryable(
    client: TestClient, session: Session, site: Site, tablet: Tablet
) -> None:
    colleague = enrol(client, session, site, observer_index=1)
    theirs = colleague.visit()
    colleague.push(colleague.mutation("visit", theirs))
    result = tablet.push(tablet.mutation("observation", observation(theirs["id"]))).json()["results"][0]
    assert (result["code"], result["retryable"]) == ("not_found", False)


def test_pull_limit_counts_visits_and_observations_only(tablet: Tablet) -> None:
    visit = tablet.visit()
    tablet.push(
        tablet.mutation("visit", visit),
        *(tablet.mutation("observation", observation(visit["id"])) for _ in range(3)),
    )
    page = tablet.pull(limit=2).json()
    assert len(page["visits"]) + len(page["observations"]) == 2
    assert len(page["structures"]) == 1 and len(page["units"]) == 2  # reference data rides along
    assert page["has_more"]


def test_every_result_code_has_a_message_in_french_and_english() -> None:
    for code in RESULT_CODES:
        assert set(MESSAGES[code]) == {"fr", "en"}, code


def test_a_newer_state_of_the_same_record_under_a_used_id_is_refused(
    session: Session, tablet: Tablet
) -> None:
    """A tablet whose counter went back sends version 3 of X under the id that carried version 1."""
    visit = tablet.visit()
    x = observation(visit["id"])
    first = tablet.push(tablet.mutation("visit", visit), tablet.mutation("observation", x)).json()["results"]
    reused_id = first[1]["mutation_id"]
    newer = {**x, "version": 3, "note": "complétée"}
    result = tablet.push({"mutation_id": reused_id, "entity": "observation", "data": newer}).json()[
        "results"
    ][0]
    assert result["code"] == "mutation_id_reused"
    assert stored(session)[uuid.UUID(x["id"])].version == 1
