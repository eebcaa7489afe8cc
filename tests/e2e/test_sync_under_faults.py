"""Several tablets, the real API and random faults: nothing lost, nothing duplicated, nothing resurrected.

Each simulated tablet is the app's own local store and sync client; requests go through a transport
that can lose a request before the server, lose the answer after the server committed, deliver a
request twice, or replay an old request late; the server can restart between calls. One tablet runs an
outbox that never collapses edits (as a simpler third-party client would), so its pushes interleave
several records' states; a tablet's mutation counter can go back (data restored from an older copy),
reusing ids the server has seen; and tablet clocks can be set days off, or reset to 2000.
"""

from __future__ import annotations

import os
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import Session, select

from backend import models
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.settings import Settings
from backend.sync.devices import create_enrolment_code
from backend.sync.records import observation_from_row
from mobile.store import Store
from mobile.sync_client import SyncClient, SyncError
from shared.schema import Observation, Visit
from shared.taxonomy import current_taxonomy
from tests.databases import DATABASE_KINDS, empty_database
from tests.factories import make_site

EXAMPLES = int(os.environ.get("VIGIE_SYNC_EXAMPLES", "20"))
FAULTS = ("none", "none", "drop_request", "drop_response", "duplicate")
CLOCK_ERRORS = (timedelta(0), timedelta(days=-3), timedelta(days=3), "reset")
TAXONOMY = current_taxonomy()
CATEGORIES = sorted(TAXONOMY.category_codes)
DIMENSIONS = [v.code for v in TAXONOMY.attribute("dimension").values]
notes = st.one_of(st.none(), st.text(alphabet="abcdeéèàçôû ,.'-ABCÉ0123456789", min_size=1, max_size=80))


class Server:
    """The real app on one database; restartable, as a process would be."""

    def __init__(self, url: str):
        self.url = url
        self.client: TestClient | None = None
        self.start()

    def start(self) -> None:
        self.client = TestClient(create_app(Settings(database_url=self.url)), raise_server_exceptions=True)
        self.client.__enter__()

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.client is not None:
            self.client.__exit__(None, None, None)
            self.client = None

    def send(self, request: httpx.Request) -> httpx.Response:
        assert self.client is not None
        response = self.client.send(request)
        assert response.status_code < 500, response.text
        return httpx.Response(response.status_code, headers=response.headers, content=response.content)


class FaultyTransport(httpx.BaseTransport):
    def __init__(self, server: Server):
        self.server = server
        self.fault = "none"  # applies to the next request only
        self.sent_pushes: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault, self.fault = self.fault, "none"
        request.read()
        if request.url.path.endswith("/push"):
            self.sent_pushes.append(request)
        if fault == "drop_request":
            raise httpx.ConnectError("lost before the server", request=request)
        response = self.server.send(request)
        if fault == "duplicate":
            response = self.server.send(request)
        if fault == "drop_response":
            raise httpx.ReadError("answer lost after the server committed", request=request)
        return response


class NeverCollapsingStore(Store):
    """An outbox that keeps every state of a record (only a fixed rejection is replaced): a push then
    carries interleaved states such as [X v1, Y v1, Y v2, X v2]."""

    REPLACED_STATES = ("rejected",)


@dataclass
class Tablet:
    name: str
    store: Store
    transport: FaultyTransport
    sync: SyncClient
    structure_id: int
    unit_id: int
    observer_id: int


def normalised(record: Observation | Visit) -> dict[str, Any]:
    data = record.model_dump()
    for key in ("dimensions", "impacts", "observed_roles"):
        if key in data:
            data[key] = sorted(data[key])
    return data


class SyncUnderFaults(RuleBasedStateMachine):
    database_kind = "sqlite"
    workdir: Path

    visits = Bundle("visits")
    observations = Bundle("observations")

    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        directory = self.workdir / uuid.uuid4().hex
        directory.mkdir()
        url = self.stack.enter_context(empty_database(self.database_kind, directory))
        upgrade(url)
        self.engine = make_engine(url)
        with Session(self.engine) as session:
            here, there = (
                make_site(session, "CH Ici", observers=2),
                make_site(session, "EHPAD Là-bas", observers=1),
            )
            plans = [(here, 0), (here, 1), (there, 0)]
            codes = [
                create_enrolment_code(
                    session, observer_id=s.observer_ids[i], structure_id=s.structure_id
                ).code
                for s, i in plans
            ]
        self.server = Server(url)
        self.tablets: list[Tablet] = []
        for number, ((site, index), code) in enumerate(zip(plans, codes, strict=True)):
            transport = FaultyTransport(self.server)
            store = (NeverCollapsingStore if number == 1 else Store)(directory / f"tablet-{number}.db")
            client = SyncClient(
                store, httpx.Client(transport=transport, base_url="http://testserver"), batch_size=7
            )
            client.enrol("http://testserver", code)
            self.tablets.append(
                Tablet(
                    f"T{number}",
                    store,
                    transport,
                    client,
                    site.structure_id,
                    site.unit_ids[0],
                    site.observer_ids[index],
                )
            )
        self.deleted_on_server: set[uuid.UUID] = set()
        self.server_versions: dict[uuid.UUID, int] = {}

    # --- what observers do ----------------------------------------------------------------------

    @rule(target=visits, tablet=st.integers(0, 2))
    def start_visit(self, tablet: int) -> tuple[int, uuid.UUID]:
        t = self.tablets[tablet]
        now = t.sync.clock()
        visit = Visit(
            id=uuid.uuid4(),
            structure_id=t.structure_id,
            unit_id=t.unit_id,
            observer_id=t.observer_id,
            started_at=now - timedelta(hours=1),
            observed_roles=["ide"],
            created_at=now,
            updated_at=now,
        )
        t.store.save_visit(visit)
        return tablet, visit.id

    @rule(
        target=observations,
        visit=visits,
        category=st.sampled_from(CATEGORIES),
        note=notes,
        dimensions=st.lists(st.sampled_from(DIMENSIONS), unique=True, max_size=3),
    )
    def log_observation(
        self, visit: tuple[int, uuid.UUID], category: str, note: str | None, dimensions: list[str]
    ) -> tuple[int, uuid.UUID]:
        tablet, visit_id = visit
        now = self.tablets[tablet].sync.clock()
        observation = Observation(
            id=uuid.uuid4(),
            visit_id=visit_id,
            occurred_at=now - timedelta(minutes=5),
            category=category,
            dimensions=dimensions,
            note=note,
            created_at=now,
            updated_at=now,
        )
        self.tablets[tablet].store.save_observation(observation)
        return tablet, observation.id

    @rule(observation=observations, note=notes, severity=st.sampled_from([None, 1, 2, 3]))
    def enrich(self, observation: tuple[int, uuid.UUID], note: str | None, severity: int | None) -> None:
        tablet, observation_id = observation
        store = self.tablets[tablet].store
        current = store.observation(observation_id)
        assert current is not None
        if not current.deleted:
            store.edit_observation(observation_id, note=note, severity=severity)

    @rule(observation=observations)
    def undo(self, observation: tuple[int, uuid.UUID]) -> None:
        tablet, observation_id = observation
        store = self.tablets[tablet].store
        current = store.observation(observation_id)
        assert current is not None
        if not current.deleted:
            store.delete_observation(observation_id)

    @rule(tablet=st.integers(0, 2), error=st.sampled_from(CLOCK_ERRORS))
    def set_tablet_clock(self, tablet: int, error: timedelta | str) -> None:
        """The tablet's clock goes wrong (or right again): it stamps records and ``device_time`` with it."""
        if error == "reset":
            start = datetime.now(UTC)
            self.tablets[tablet].sync.clock = lambda: (
                datetime(2000, 1, 1, tzinfo=UTC) + (datetime.now(UTC) - start)
            )
        else:
            assert isinstance(error, timedelta)
            self.tablets[tablet].sync.clock = lambda: datetime.now(UTC) + error

    @rule(tablet=st.integers(0, 2), back=st.integers(1, 30))
    def counter_goes_back(self, tablet: int, back: int) -> None:
        """The tablet's mutation counter goes back (its data restored from an older copy), so it reuses
        ids the server has already seen; never below what its own outbox still holds."""
        store = self.tablets[tablet].store
        counter = int(store.get_meta("next_mutation_id", "1") or "1")
        in_outbox = max((e.mutation_id for e in store.pending(10_000)), default=0)
        in_outbox = max([in_outbox, *(r.mutation_id for r in store.rejected())])
        store.set_meta(next_mutation_id=str(max(in_outbox + 1, counter - back, 1)))

    @rule(visit=visits, back=st.integers(1, 30), category=st.sampled_from(CATEGORIES))
    def restored_tablet_records_and_syncs(
        self, visit: tuple[int, uuid.UUID], back: int, category: str
    ) -> None:
        """The counter goes back, the observer records at once and the tablet syncs: the new record
        travels under an id the server has seen, which must never be answered "applied" unstored."""
        tablet, _visit_id = visit
        self.counter_goes_back(tablet, back)
        self.log_observation(visit, category, None, [])
        self.sync(tablet, "none")

    # --- the network and the server -------------------------------------------------------------

    @rule(tablet=st.integers(0, 2), fault=st.sampled_from(FAULTS))
    def sync(self, tablet: int, fault: str) -> None:
        t = self.tablets[tablet]
        t.transport.fault = fault
        failure: SyncError | None = None
        try:
            t.sync.sync()
        except SyncError as error:
            failure = error
        if failure is not None:
            # Only a lost request or answer may fail a sync, and the app must be told to retry.
            assert fault in ("drop_request", "drop_response"), failure.message
            assert failure.retryable

    @precondition(lambda self: any(t.transport.sent_pushes for t in self.tablets))
    @rule(tablet=st.integers(0, 2), pick=st.integers(0, 10_000))
    def late_duplicate_delivery(self, tablet: int, pick: int) -> None:
        """An old push arrives again, after newer ones (out-of-order retry)."""
        sent = self.tablets[tablet].transport.sent_pushes
        if sent:
            response = self.server.send(sent[pick % len(sent)])
            assert response.status_code == 200

    @rule()
    def restart_server(self) -> None:
        self.server.restart()

    # --- what must always hold ------------------------------------------------------------------

    def server_state(self) -> dict[uuid.UUID, Observation]:
        with Session(self.engine) as session:
            values: dict[uuid.UUID, list[models.ObservationAttributeValue]] = {}
            for value in session.exec(select(models.ObservationAttributeValue)):
                values.setdefault(value.observation_id, []).append(value)
            return {
                o.id: observation_from_row(o, values.get(o.id, []))
                for o in session.exec(select(models.Observation))
            }

    def intentions(self) -> dict[uuid.UUID, tuple[Tablet, Observation]]:
        return {o.id: (t, o) for t in self.tablets for o in t.store.observations(include_deleted=True)}

    @invariant()
    def server_holds_only_what_tablets_intended_and_never_goes_back(self) -> None:
        intended = self.intentions()
        for observation_id, stored in self.server_state().items():
            assert observation_id in intended, "the server holds an observation no tablet made"
            _, latest = intended[observation_id]
            assert stored.version <= latest.version
            assert stored.version >= self.server_versions.get(observation_id, 0), "a version went backwards"
            self.server_versions[observation_id] = stored.version
            if observation_id in self.deleted_on_server:
                assert stored.deleted, "a deleted observation came back"
            if stored.deleted:
                assert latest.deleted
                self.deleted_on_server.add(observation_id)

    @invariant()
    def what_a_tablet_considers_sent_is_on_the_server_as_sent(self) -> None:
        server = self.server_state()
        for observation_id, (tablet, latest) in self.intentions().items():
            if not tablet.store.has_unsent_changes(observation_id):
                assert observation_id in server, "an observation the tablet thinks is synced is missing"
                assert normalised(server[observation_id]) == normalised(latest)

    def teardown(self) -> None:
        try:
            # Network back for good: every tablet drains its outbox; then the server is exactly the union.
            for _ in range(3):
                for tablet in self.tablets:
                    tablet.sync.sync()
            for tablet in self.tablets:
                assert tablet.store.pending_count() == 0
                assert tablet.store.rejected() == []
            server = self.server_state()
            intended = self.intentions()
            assert set(server) == set(intended)
            for observation_id, (_, latest) in intended.items():
                assert normalised(server[observation_id]) == normalised(latest)
        finally:
            self.server.stop()
            for tablet in self.tablets:
                tablet.store.close()
            self.engine.dispose()
            self.stack.close()


@pytest.mark.parametrize("database_kind", DATABASE_KINDS)
def test_sync_under_faults_loses_duplicates_and_resurrects_nothing(
    database_kind: str, tmp_path: Path
) -> None:
    machine = type("Machine", (SyncUnderFaults,), {"database_kind": database_kind, "workdir": tmp_path})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            # Shrinking a stateful failure can take many minutes: keep CI inside its budget, shrink locally.
            phases=[p for p in Phase if not (os.environ.get("CI") and p is Phase.shrink)],
        ),
    )
