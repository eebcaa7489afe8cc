"""The tablet's local store without a window: outbox, mutation ids, pulls meeting local edits."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mobile.store import _MIGRATIONS, SCHEMA_VERSION, Review, Store
from shared.schema import Observation, Visit
from shared.sync import (
    Mutation,
    MutationResult,
    MutationStatus,
    PulledObservation,
    PullResponse,
    ReviewCommentData,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "tablet.db")


def a_visit() -> Visit:
    return Visit.begin(1, 1, 1, NOW)


def an_observation(visit: Visit, minutes: int = 1) -> Observation:
    at = NOW + timedelta(minutes=minutes)
    return Observation.logged(visit.id, at, "interruption")


def saved_observation(store: Store) -> Observation:
    """An observation and its visit, both saved (and waiting to be sent)."""
    visit = a_visit()
    store.save_visit(visit)
    observation = an_observation(visit)
    store.save_observation(observation)
    return observation


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
    observation = saved_observation(store)
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
                _mutation(2), "invalid_record", "Enregistrement invalide : corrigez les champs signalés."
            ),
            MutationResult.rejected(_mutation(3), "visit_not_found", "Visite introuvable."),
        ]
    )
    assert [(r.record_id, r.code) for r in store.rejected()] == [(str(bad.id), "invalid_record")]
    assert [e.record_id for e in store.pending(10)] == [str(visit.id), str(early.id)]
    store.edit_observation(bad.id, occurred_at=NOW)  # the observer fixes it
    assert store.rejected() == []
    assert str(bad.id) in [e.record_id for e in store.pending(10)]


def _mutation(mutation_id: int) -> Mutation:
    return Mutation(mutation_id=mutation_id, entity="observation", data={})


def test_pull_keeps_a_local_edit_waiting_to_be_sent_but_takes_the_review_status(store: Store) -> None:
    observation = saved_observation(store)
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
    assert reopened.schema_version == SCHEMA_VERSION


def test_a_version_1_store_is_migrated_and_keeps_everything(tmp_path: Path) -> None:
    # A tablet still on the first app version: its schema, one visit, one observation waiting to be sent.
    path = tmp_path / "v1.db"
    visit = a_visit()
    observation = an_observation(visit)
    old = sqlite3.connect(path)
    old.executescript(_MIGRATIONS[1])
    old.execute("PRAGMA user_version = 1")
    old.execute(
        "INSERT INTO visit (id, data, started_at, deleted) VALUES (?, ?, ?, 0)",
        (str(visit.id), visit.model_dump_json(), visit.started_at.isoformat()),
    )
    old.execute(
        "INSERT INTO observation (id, visit_id, data, occurred_at, deleted, review_status) "
        "VALUES (?, ?, ?, ?, 0, 'to_review')",
        (
            str(observation.id),
            str(visit.id),
            observation.model_dump_json(),
            observation.occurred_at.isoformat(),
        ),
    )
    old.execute(
        "INSERT INTO outbox (mutation_id, entity, record_id, data) VALUES (7, 'observation', ?, ?)",
        (str(observation.id), observation.model_dump_json()),
    )
    old.execute("INSERT INTO meta (key, value) VALUES ('next_mutation_id', '8')")
    old.commit()
    old.close()

    store = Store(path)

    assert store.schema_version == SCHEMA_VERSION == 2
    assert store.observations(visit.id) == [observation]
    assert store.review_status(observation.id) == "to_review"
    assert [(e.mutation_id, e.record_id) for e in store.pending(10)] == [(7, str(observation.id))]
    assert store.review_comments(observation.id) == []
    store.edit_observation(observation.id, severity=1)
    assert [e.mutation_id for e in store.pending(10)] == [8]  # ids go on from where version 1 stopped
    store.close()
    assert Store(path).schema_version == SCHEMA_VERSION  # opening again migrates nothing twice


def test_pull_brings_review_comments_and_replaces_them_as_a_whole(store: Store) -> None:
    observation = saved_observation(store)
    store.apply_results(applied(1, 2))
    first = ReviewCommentData(id=1, body="À discuter", author_name="Inès", created_at=NOW)
    second = ReviewCommentData(
        id=2, body="Vu en atelier", author_name="Paul", created_at=NOW + timedelta(hours=1)
    )
    store.apply_pull(pulled_page(observation, "to_discuss", [second, first], cursor=4))
    assert store.review_comments(observation.id) == [first, second]
    assert store.reviews([observation.id]) == {observation.id: Review(status="to_discuss", comment_count=2)}
    assert store.commented_observations(5) == [observation]
    store.apply_pull(pulled_page(observation, "validated", [second], cursor=6))  # one comment deleted
    assert store.review_comments(observation.id) == [second]
    assert store.reviews([observation.id])[observation.id] == Review(status="validated", comment_count=1)


def test_comments_reach_an_observation_with_a_local_edit_waiting(store: Store) -> None:
    observation = saved_observation(store)
    store.edit_observation(observation.id, note="en cours d'écriture")
    comment = ReviewCommentData(id=3, body="Précisez l'outil", author_name="Inès", created_at=NOW)
    store.apply_pull(pulled_page(observation, "to_review", [comment], cursor=2))
    assert store.review_comments(observation.id) == [comment]
    kept = store.observation(observation.id)
    assert kept is not None and kept.note == "en cours d'écriture"


def pulled_page(
    observation: Observation, status: str, comments: list[ReviewCommentData], cursor: int
) -> PullResponse:
    pulled = PulledObservation(
        **observation.model_dump(), server_seq=cursor, review_status=status, review_comments=comments
    )
    return PullResponse(observations=[pulled], cursor=cursor, has_more=False, server_time=NOW)


def test_the_current_visit_survives_a_restart_and_ends_with_the_visit(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    visit = a_visit()
    store.begin_visit(visit)
    store.close()
    store = Store(tmp_path / "t.db")
    assert store.current_visit() == visit
    ended = store.edit_visit(visit.id, ended_at=NOW + timedelta(hours=2))
    assert store.current_visit() is None
    assert ended.version == 2
    [entry] = store.pending(10)  # the creation and the end collapse into one mutation
    assert entry.data["ended_at"] is not None and entry.mutation_id == 2


def test_rejection_of_one_record_is_found_by_its_id(store: Store) -> None:
    visit = a_visit()
    store.save_visit(visit)
    bad = an_observation(visit)
    store.save_observation(bad)
    store.apply_results([MutationResult.rejected(_mutation(2), "invalid_record", "Enregistrement invalide.")])
    rejection = store.rejection(bad.id)
    assert rejection is not None and (rejection.code, rejection.message) == (
        "invalid_record",
        "Enregistrement invalide.",
    )
    assert store.rejection(visit.id) is None


def test_recent_observations_are_the_newest_live_ones(store: Store) -> None:
    visit = a_visit()
    store.save_visit(visit)
    logged = [an_observation(visit, m) for m in range(6)]
    for observation in logged:
        store.save_observation(observation)
    store.delete_observation(logged[5].id)
    assert [o.id for o in store.recent_observations(visit.id, 3)] == [
        logged[4].id,
        logged[3].id,
        logged[2].id,
    ]
    assert store.count_observations(visit.id) == 5
