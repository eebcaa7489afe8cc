"""The tablet's local store without a window: outbox, mutation ids, pulls meeting local edits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mobile.store import Store
from shared.schema import Observation, Visit
from shared.sync import Mutation, MutationResult, MutationStatus, PulledObservation, PullResponse

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "tablet.db")


def a_visit() -> Visit:
    return Visit(
        id=uuid.uuid4(),
        structure_id=1,
        unit_id=1,
        observer_id=1,
        started_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def an_observation(visit: Visit, minutes: int = 1) -> Observation:
    at = NOW + timedelta(minutes=minutes)
    return Observation(
        id=uuid.uuid4(),
        visit_id=visit.id,
        occurred_at=at,
        category="interruption",
        created_at=at,
        updated_at=at,
    )


def applied(*mutation_ids: int) -> list[MutationResult]:
    return [
        MutationResult(mutation_id=m, status=MutationStatus.APPLIED, entity="observation")
        for m in mutation_ids
    ]


def test_each_save_queues_a_mutation_with_increasing_ids(store: Store) -> None:
    visit = a_visit()
    store.save_visit(visit)
    first, second = an_observation(visit, 1), an_observation(visit, 2)
    store.save_observation(first)
    store.save_observation(second)
    assert [(e.mutation_id, e.entity, e.record_id) for e in store.pending(10)] == [
        (1, "visit", str(visit.id)),
        (2, "observation", str(first.id)),
        (3, "observation", str(second.id)),
    ]


def test_edits_waiting_to_be_sent_collapse_into_the_newest(store: Store) -> None:
    visit = a_visit()
    store.save_visit(visit)
    observation = an_observation(visit)
    store.save_observation(observation)
    store.edit_observation(observation.id, note="Téléphone pendant la préparation")
    store.edit_observation(observation.id, severity=2)
    [_, entry] = store.pending(10)
    assert entry.mutation_id == 4
    assert (entry.data["version"], entry.data["note"], entry.data["severity"]) == (
        3,
        "Téléphone pendant la préparation",
        2,
    )


def test_mutation_ids_are_never_reused_even_after_the_outbox_empties(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    visit = a_visit()
    store.save_visit(visit)
    store.apply_results(applied(1))
    assert store.pending_count() == 0
    store.close()
    reopened = Store(tmp_path / "t.db")
    reopened.save_observation(an_observation(visit))
    assert [e.mutation_id for e in reopened.pending(10)] == [2]


def test_rejected_changes_stay_visible_until_fixed_and_retryable_ones_stay_pending(store: Store) -> None:
    visit = a_visit()
    store.save_visit(visit)
    bad, early = an_observation(visit), an_observation(visit, 2)
    store.save_observation(bad)
    store.save_observation(early)
    store.apply_results(
        [
            MutationResult.rejected(
                _mutation(2), "date_in_future", "Date dans le futur : vérifiez l'heure de la tablette."
            ),
            MutationResult.rejected(_mutation(3), "visit_not_found", "Visite introuvable.", retryable=True),
        ]
    )
    assert [(r.record_id, r.code) for r in store.rejected()] == [(str(bad.id), "date_in_future")]
    assert [e.record_id for e in store.pending(10)] == [str(visit.id), str(early.id)]
    store.edit_observation(bad.id, occurred_at=NOW)  # the observer fixes it
    assert store.rejected() == []
    assert str(bad.id) in [e.record_id for e in store.pending(10)]


def _mutation(mutation_id: int) -> Mutation:
    return Mutation(mutation_id=mutation_id, entity="observation", data={})


def test_pull_keeps_a_local_edit_waiting_to_be_sent_but_takes_the_review_status(store: Store) -> None:
    visit = a_visit()
    store.save_visit(visit)
    observation = an_observation(visit)
    store.save_observation(observation)
    store.apply_results(applied(1, 2))
    store.edit_observation(observation.id, note="Complété au couloir")  # not yet sent
    from_server = PulledObservation(**observation.model_dump(), server_seq=9, review_status="validated")
    store.apply_pull(PullResponse(observations=[from_server], cursor=9, has_more=False, server_time=NOW))
    kept = store.observation(observation.id)
    assert kept is not None
    assert kept.note == "Complété au couloir"
    assert store.review_status(observation.id) == "validated"
    assert store.cursor == 9


def test_pull_updates_records_without_local_changes(store: Store) -> None:
    visit = a_visit()
    store.save_visit(visit)
    observation = an_observation(visit)
    store.save_observation(observation)
    store.apply_results(applied(1, 2))
    newer = observation.model_copy(update={"version": 2, "deleted": True})
    pulled = PulledObservation(**newer.model_dump(), server_seq=5, review_status="to_review")
    store.apply_pull(PullResponse(observations=[pulled], cursor=5, has_more=False, server_time=NOW))
    assert store.observations(visit.id) == []
    assert store.observations(visit.id, include_deleted=True)[0].deleted


def test_everything_saved_is_still_there_after_reopening(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    visit = a_visit()
    store.save_visit(visit)
    saved = [an_observation(visit, m) for m in range(5)]
    for observation in saved:
        store.save_observation(observation)
    store.close()
    reopened = Store(tmp_path / "t.db")
    assert reopened.observations(visit.id) == saved
    assert reopened.pending_count() == 6
    assert reopened.schema_version == 1
