"""The tablet's sync client against the real app: a backlog split by bytes as well as by count, and a
mutation counter that went back (data restored from an older copy) renumbered instead of refused; a visit
reopened after its end sends its corrections."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend import models
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.settings import Settings
from backend.sync.devices import create_enrolment_code
from mobile import sync_client
from mobile.capture import end_visit, log_observation, reopen_visit, start_visit
from mobile.store import Store
from mobile.sync_client import SyncClient
from shared.schema import Observation, Visit
from shared.taxonomy import current_taxonomy
from tests.factories import make_site


class Recorder(httpx.BaseTransport):
    """The real app behind a transport that notes the size of every push body."""

    def __init__(self, client: TestClient):
        self.client = client
        self.push_sizes: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if request.url.path.endswith("/push"):
            self.push_sizes.append(len(body))
        answer = self.client.send(request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Store, SyncClient, Recorder, Session, Visit]]:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session, TestClient(create_app(Settings(database_url=url))) as app_client:
        site = make_site(session)
        issued = create_enrolment_code(
            session, observer_id=site.observer_ids[0], structure_id=site.structure_id
        )
        recorder = Recorder(app_client)
        store = Store(tmp_path / "tablet.db")
        client = SyncClient(store, httpx.Client(transport=recorder, base_url="http://testserver"))
        client.enrol("http://testserver", issued.code)
        visit = start_visit(
            store,
            structure_id=site.structure_id,
            unit_id=site.unit_ids[0],
            observer_id=site.observer_ids[0],
            observed_roles=["ide"],
            context_note=None,
        )
        try:
            yield store, client, recorder, session, visit
        finally:
            store.close()
    engine.dispose()


def record(store: Store, visit: Visit, note: str | None = None) -> Observation:
    now = datetime.now(UTC)
    observation = Observation.logged(
        visit.id, now - timedelta(minutes=1), "interruption", note=note, created_at=now, updated_at=now
    )
    store.save_observation(observation)
    return observation


def stored_ids(session: Session) -> set[uuid.UUID]:
    session.expire_all()
    return {o.id for o in session.exec(select(models.Observation))}


def test_a_backlog_heavier_than_the_byte_limit_leaves_in_several_pushes(
    world: tuple[Store, SyncClient, Recorder, Session, Visit], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, client, recorder, session, visit = world
    limit = 64 * 1024
    monkeypatch.setattr(sync_client, "MAX_PUSH_BYTES", limit)
    # 40 notes of 1,500 emoji: about 6 KiB each in UTF-8, 240 KiB in all, far under 500 mutations.
    recorded = [record(store, visit, note="🩺" * 1500) for _ in range(40)]
    report = client.sync()
    assert (report.pending, report.rejected) == (0, 0)
    assert len(recorder.push_sizes) >= 4
    assert max(recorder.push_sizes) <= limit
    assert {o.id for o in recorded} <= stored_ids(session)


def test_a_counter_that_went_back_is_renumbered_and_nothing_is_refused(
    world: tuple[Store, SyncClient, Recorder, Session, Visit],
) -> None:
    store, client, _recorder, session, visit = world
    before = [record(store, visit, note=f"avant {i}") for i in range(5)]
    client.sync()
    store.set_meta(next_mutation_id="2")  # as after restoring the tablet's data from an older copy
    after = [record(store, visit, note=f"après {i}") for i in range(3)]
    report = client.sync()
    assert (report.pending, report.rejected, store.rejected()) == (0, 0, [])
    assert {o.id for o in before + after} <= stored_ids(session)
    assert int(store.get_meta("next_mutation_id") or "0") > 7  # numbered above what the server saw


def test_own_pushes_do_not_come_back_but_a_tablet_restored_from_an_older_copy_gets_them_again(
    world: tuple[Store, SyncClient, Recorder, Session, Visit], tmp_path: Path
) -> None:
    store, client, recorder, _session, visit = world
    record(store, visit, note="avant la copie")
    client.sync()
    copy = tmp_path / "copy.db"
    with sqlite3.connect(copy) as target:
        sqlite3.connect(store.path).backup(target)  # the tablet's data as a backup keeps it
    since = [record(store, visit, note=f"après la copie {i}") for i in range(3)]
    assert client.sync().pulled == 0  # what it pushed stays here, nothing comes back

    store.close()
    restored = Store(copy)  # its data restored from the older copy: the last three are missing
    assert {o.id for o in since} & {o.id for o in restored.observations(visit.id)} == set()
    again = SyncClient(restored, httpx.Client(transport=recorder, base_url="http://testserver"))
    record(restored, visit, note="après la restauration")  # the counter went back: ids are renumbered
    report = again.sync()
    assert (report.pending, report.rejected) == (0, 0)
    assert {o.id for o in since} <= {o.id for o in restored.observations(visit.id)}
    assert restored.get_meta("own_pushes_missing") == ""  # pulled whole once; skipped from now on
    assert again.sync().pulled == 0
    restored.close()


def test_an_interruption_keeps_the_task_it_interrupted_through_the_real_client_and_can_be_cleared(
    world: tuple[Store, SyncClient, Recorder, Session, Visit],
) -> None:
    """The tablet's own push: a plain timer, then an interruption of it, new in the same push (the timer's
    row has none of the resumption columns); then the tablet clears them, leaving the fields out."""
    store, client, _recorder, session, visit = world
    now = datetime.now(UTC)
    timer = Observation.logged(
        visit.id, now - timedelta(minutes=5), "system_failure", interruption_source=None
    )
    store.save_observation(timer)
    interruption = Observation.logged(
        visit.id,
        now - timedelta(minutes=4),
        "interruption",
        interruption_source="phone",
        interrupted_id=timer.id,
        task_resumed=True,
        resumed_at=now - timedelta(minutes=3),
    )
    store.save_observation(interruption)
    assert client.sync().pending == 0

    def on_server() -> tuple[object, ...]:
        session.expire_all()
        row = session.get_one(models.Observation, interruption.id)
        return (row.interrupted_id, row.task_resumed, row.resumed_at)

    assert on_server() == (timer.id, True, interruption.resumed_at)
    store.edit_observation(interruption.id, interrupted_id=None, task_resumed=None, resumed_at=None)
    assert client.sync().pending == 0
    assert on_server() == (None, None, None)


def test_a_reopened_visit_sends_its_corrections(
    world: tuple[Store, SyncClient, Recorder, Session, Visit],
) -> None:
    store, client, _recorder, session, visit = world
    first = record(store, visit)
    end_visit(store, visit.id, current_taxonomy())
    client.sync()
    reopened = reopen_visit(store, visit.id)  # ended by mistake: back to capture
    assert store.current_visit() == reopened and reopened.ended_at is None
    added = log_observation(store, visit.id, "alert")
    store.edit_observation(first.id, note="Précisé après coup")
    ended = end_visit(store, visit.id, current_taxonomy())
    report = client.sync()
    assert (report.pending, report.rejected) == (0, 0)
    session.expire_all()
    row = session.get(models.Visit, visit.id)
    assert row is not None and (row.ended_at, row.version) == (ended.ended_at, ended.version)
    assert {first.id, added.id} <= stored_ids(session)
    corrected = session.get(models.Observation, first.id)
    assert corrected is not None and corrected.note == "Précisé après coup"
