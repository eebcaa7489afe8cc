"""Crashes with real processes: a ``vigie serve --workers 2`` on PostgreSQL and a tablet made of the app's
own store and sync client.

- The server is killed with SIGKILL inside a push's transaction (its rows written, not committed), and
  again just after a push committed but before the tablet read the answer; it is restarted each time.
- The database drops every connection of the server in the middle of pushes (``pg_terminate_backend``,
  what a database restart does to its clients), and drops them again while they sit idle in the pool.
- The PostgreSQL server itself is stopped in the middle of a push (``pg_ctlcluster … stop -m fast``),
  stays down while the tablet retries, and is started again under the running ``vigie serve``.

Each fault is placed deterministically: the test holds a lock on the tablet's device row, which a push
updates last, just before commit, so the push is certainly under way when the fault strikes. Afterwards
the tablet's errors were all retryable, and the server holds exactly what the tablets hold: nothing lost,
nothing applied twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from backend import models
from backend.db import make_engine
from backend.migrate import upgrade
from backend.server_process import free_port, vigie_command, wait_until_up
from backend.sync.devices import create_enrolment_code
from backend.sync.records import observation_from_row
from mobile.capture import log_observation, start_visit, stop_timer, undo
from mobile.store import Store
from mobile.sync_client import SyncClient, SyncError
from shared.schema import Observation, Visit
from shared.sync import MutationStatus, PushResponse
from shared.taxonomy import current_taxonomy
from tests.databases import postgres_database
from tests.factories import Site, make_site

pytestmark = [pytest.mark.postgres, pytest.mark.exclusive]

BATCH = 100  # small batches, so one sync is several pushes and a fault can land in the middle
TAXONOMY = current_taxonomy()
CATEGORIES = [c.code for c in TAXONOMY.categories]
TIMED = {c.code for c in TAXONOMY.categories if c.timed}
PUSH_PATH = "/api/v1/sync/push"


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Server:
    """``vigie serve``, in its own process group so that a kill takes its workers too."""

    database_url: str
    workdir: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log_path = self.workdir / f"server-{self.starts}.log"
        env = {k: v for k, v in os.environ.items() if k != "VIGIE_DATABASE_URL"}
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                vigie_command("serve", "--workers", str(self.workers), "--port", str(self.port)),
                cwd=self.workdir,
                env=env | {"DATABASE_URL": self.database_url},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until_up(self.base_url, self.process, log_path=log_path)

    def kill(self) -> None:
        """SIGKILL to the whole server: no shutdown, no cleanup, as a crash or the OOM killer does it."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None


class DeviceRowLock:
    """Holds the tablet's device row, so its next push waits on it just before commit."""

    def __init__(self, database_url: str, device_id: int):
        self.connection = psycopg.connect(libpq(database_url))
        self.connection.execute("SELECT 1 FROM device WHERE id = %s FOR UPDATE", (device_id,))
        self.pid = self.connection.info.backend_pid

    def release(self) -> None:
        self.connection.rollback()
        self.connection.close()


def wait_for_blocked_push(database_url: str, database: str) -> None:
    """Until a server connection waits on a lock: the push is inside its transaction."""
    deadline = time.monotonic() + 30
    with psycopg.connect(libpq(database_url), autocommit=True) as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                (database,),
            ).fetchone()
            if waiting and waiting[0] > 0:
                return
            time.sleep(0.02)
    raise AssertionError("no push ever waited on the device row")


def terminate_server_connections(database_url: str, database: str, spare: set[int]) -> int:
    """What a database restart does to its clients: every connection of the server, cut."""
    with psycopg.connect(libpq(database_url), autocommit=True) as connection:
        spare = spare | {connection.info.backend_pid}
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> ALL(%s)",
            (database, list(spare)),
        ).fetchall()
    return len(rows)


def postgres_cluster(action: str) -> None:
    """Stop or start the local PostgreSQL server, as its administrator would (needs root, as CI has)."""
    pg_ctlcluster = shutil.which("pg_ctlcluster")
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if pg_ctlcluster is None or not versions:
        pytest.fail("restarting PostgreSQL needs Debian's pg_ctlcluster and a cluster in /etc/postgresql")
    command = [pg_ctlcluster, "--skip-systemctl-redirect", versions[-1], "main", action]
    if action == "stop":
        command += ["-m", "fast"]  # what a restart does: open transactions rolled back, clients cut
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    if action == "start":
        deadline = time.monotonic() + 30
        while subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode != 0:
            assert time.monotonic() < deadline, "PostgreSQL did not come back"
            time.sleep(0.2)


@dataclass
class AppTablet:
    """The app's store and sync client, with a hook that can make one chosen push go wrong."""

    name: str
    store: Store
    client: SyncClient
    device_id: int = 0
    pushes_sent: int = 0
    results: list[tuple[int, MutationStatus]] = field(default_factory=list)  # every answered result
    failures: list[SyncError] = field(default_factory=list)
    error_answers: list[tuple[int, str]] = field(default_factory=list)  # status, body of 5xx answers
    on_request: dict[int, Callable[[], None]] = field(default_factory=dict)  # push number -> action
    on_response: dict[int, Callable[[], None]] = field(default_factory=dict)

    def request_hook(self, request: httpx.Request) -> None:
        if request.url.path == PUSH_PATH:
            self.pushes_sent += 1
            action = self.on_request.pop(self.pushes_sent, None)
            if action is not None:
                action()

    def response_hook(self, response: httpx.Response) -> None:
        if response.status_code >= 500:
            response.read()
            self.error_answers.append((response.status_code, response.text))
        if response.request.url.path != PUSH_PATH:
            return
        action = self.on_response.pop(self.pushes_sent, None)
        if action is not None:
            action()
            raise httpx.ReadError("answer lost: the server died as it sent it", request=response.request)
        if response.status_code == 200:
            response.read()
            answered = PushResponse.model_validate_json(response.content)
            self.results += [(r.mutation_id, r.status) for r in answered.results]

    def sync(self) -> None:
        """Sync once; a failure must be retryable, and is kept."""
        try:
            self.client.sync()
        except SyncError as exc:
            self.failures.append(exc)
            if not exc.retryable:
                raise AssertionError(f"{self.name}: {exc.code} {exc.message}") from exc
            raise

    def sync_until_done(self, attempts: int = 30) -> None:
        """As the app's scheduler does: retry after a pause until a sync goes through."""
        for _attempt in range(attempts):
            try:
                self.sync()
            except SyncError:
                time.sleep(0.3)
                continue
            if self.store.pending_count() == 0:
                return
        raise AssertionError(f"{self.name}: still {self.store.pending_count()} to send: {self.failures}")

    def sync_expecting_failure(self) -> SyncError:
        try:
            self.sync()
        except SyncError as exc:
            return exc
        raise AssertionError(f"{self.name}: the sync went through the fault")


@dataclass
class CrashSite:
    database_url: str
    database: str
    site: Site
    server: Server
    engine: Engine
    workdir: Path

    def tablet(self, name: str, observer_index: int = 0) -> AppTablet:
        with Session(self.engine) as session:
            code = create_enrolment_code(
                session,
                observer_id=self.site.observer_ids[observer_index],
                structure_id=self.site.structure_id,
            ).code
        store = Store(self.workdir / f"{name}.db")
        tablet = AppTablet(name, store, SyncClient(store, batch_size=BATCH))
        http = httpx.Client(
            base_url=self.server.base_url,
            timeout=httpx.Timeout(30, connect=5),
            event_hooks={"request": [tablet.request_hook], "response": [tablet.response_hook]},
        )
        tablet.client = SyncClient(store, http, batch_size=BATCH)
        enrolled = tablet.client.enrol(self.server.base_url, code, label=name)
        tablet.device_id = enrolled.device_id
        tablet.sync_until_done()  # the structure and its units arrive with the first pull
        return tablet


@pytest.fixture
def crash_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CrashSite]:
    """A site on a fresh PostgreSQL database, served by ``vigie serve --workers N`` (N: the test's param)."""
    workers = int(getattr(request, "param", 1))
    with postgres_database() as url:
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            site = make_site(session, "CH Crash", observers=2)
        server = Server(url, tmp_path, workers=workers)
        server.start()
        try:
            yield CrashSite(url, str(make_url(url).database), site, server, engine, tmp_path)
        finally:
            server.stop()
            engine.dispose()


def hold_push_in_its_transaction(
    site: CrashSite, tablet: AppTablet, nth: int
) -> tuple[list[DeviceRowLock], ThreadResult]:
    """Start a sync whose ``nth`` push from now waits inside its transaction (on the device row, held
    here), and return once it does: the fault can strike then. Release the lock afterwards."""
    lock: list[DeviceRowLock] = []
    tablet.on_request[tablet.pushes_sent + nth] = lambda: lock.append(
        DeviceRowLock(site.database_url, tablet.device_id)
    )
    syncing = ThreadResult(tablet.sync_expecting_failure)
    wait_for_blocked_push(site.database_url, site.database)
    return lock, syncing


# --- What observers do, with the app's own capture functions ---------------------------------------


def begin(tablet: AppTablet) -> Visit:
    structure_id = int(tablet.store.get_meta("structure_id") or 0)
    observer_id = int(tablet.store.get_meta("observer_id") or 0)
    units = tablet.store.units(structure_id)
    assert units, "no unit pulled"
    return start_visit(
        tablet.store,
        structure_id=structure_id,
        unit_id=units[0][0],
        observer_id=observer_id,
        observed_roles=["ide"],
        context_note=f"{tablet.name} crash test",
        now=datetime.now(UTC) - timedelta(hours=2),
    )


def observe(tablet: AppTablet, visit: Visit, count: int) -> None:
    """Taps, timers stopped, a few notes added and a few taps undone: creations, edits and deletions."""
    start = datetime.now(UTC) - timedelta(minutes=90)
    for number in range(count):
        at = start + timedelta(seconds=10 * number)
        observation = log_observation(tablet.store, visit.id, CATEGORIES[number % len(CATEGORIES)], now=at)
        if observation.category in TIMED:
            stop_timer(tablet.store, observation.id, now=at + timedelta(seconds=5))
        if number % 5 == 0:
            tablet.store.edit_observation(observation.id, note=f"{tablet.name} note {number}")
        if number % 11 == 0:
            undo(tablet.store, observation.id)


def revise_earlier(tablet: AppTablet, every: int) -> None:
    """Edits of observations already on the server: notes rewritten, some deleted."""
    for number, observation in enumerate(tablet.store.observations()):
        if number % every == 0:
            tablet.store.edit_observation(observation.id, note=f"{tablet.name} revised {number}")
        elif number % every == 1:
            undo(tablet.store, observation.id)


# --- Comparing the two sides -----------------------------------------------------------------------


def normalised(record: Visit | Observation) -> dict[str, Any]:
    data = record.model_dump()
    for key in ("dimensions", "impacts", "observed_roles"):
        if key in data:
            data[key] = sorted(data[key])
    return data


def tablet_records(tablet: AppTablet) -> dict[uuid.UUID, dict[str, Any]]:
    records: list[Visit | Observation] = [
        *tablet.store.visits(),
        *tablet.store.observations(include_deleted=True),
    ]
    return {r.id: normalised(r) for r in records}


def server_records(engine: Engine, observer_id: int) -> dict[uuid.UUID, dict[str, Any]]:
    with Session(engine) as session:
        visits = session.exec(select(models.Visit).where(models.Visit.observer_id == observer_id)).all()
        rows = session.exec(
            select(models.Observation).where(models.Observation.observer_id == observer_id)
        ).all()
        values: dict[uuid.UUID, list[models.ObservationAttributeValue]] = {}
        for value in session.exec(select(models.ObservationAttributeValue)):
            values.setdefault(value.observation_id, []).append(value)
        records: list[Visit | Observation] = [
            Visit.model_validate(v.model_dump(include=set(Visit.model_fields))) for v in visits
        ]
        records += [observation_from_row(o, values.get(o.id, [])) for o in rows]
    return {r.id: normalised(r) for r in records}


def pending_ids(tablet: AppTablet) -> set[uuid.UUID]:
    return {uuid.UUID(e.record_id) for e in tablet.store.pending(10_000)}


def assert_server_holds_exactly_the_tablet(site: CrashSite, tablet: AppTablet) -> None:
    assert tablet.store.pending_count() == 0
    assert tablet.store.rejected() == []
    observer_id = int(tablet.store.get_meta("observer_id") or 0)
    on_server, on_tablet = server_records(site.engine, observer_id), tablet_records(tablet)
    assert on_server.keys() == on_tablet.keys()  # nothing lost, nothing extra
    assert [i for i in on_tablet if on_server[i] != on_tablet[i]] == []  # every record in its last state
    # Applied exactly once: a mutation applied twice would have come back "superseded" the second time.
    assert {status for _mutation, status in tablet.results} == {MutationStatus.APPLIED}


# --- The tests -------------------------------------------------------------------------------------


def test_server_killed_during_pushes_then_restarted_loses_and_duplicates_nothing(
    crash_site: CrashSite,
) -> None:
    site, server = crash_site, crash_site.server
    tablet = site.tablet("T1")
    visit = begin(tablet)
    observe(tablet, visit, 300)  # four pushes of 100

    # 1. Killed inside the third push's transaction: its rows are written but not committed.
    lock, syncing = hold_push_in_its_transaction(site, tablet, 3)
    server.kill()
    lock[0].release()
    assert syncing.value().code == "network"
    # The two pushes answered are on the server; the third was rolled back with the process.
    settled = set(tablet_records(tablet)) - pending_ids(tablet)
    assert set(server_records(site.engine, visit.observer_id)) == settled
    assert 0 < tablet.store.pending_count() < 300

    server.start()
    tablet.sync_until_done()
    assert_server_holds_exactly_the_tablet(site, tablet)

    # 2. Killed just after a push committed, before the tablet read the answer.
    observe(tablet, visit, 200)
    revise_earlier(tablet, every=9)
    tablet.on_response[tablet.pushes_sent + 2] = server.kill
    assert tablet.sync_expecting_failure().code == "network"
    # The second push is on the server while the tablet still has it to send: the answer was lost.
    still_to_send = pending_ids(tablet)
    assert still_to_send & set(server_records(site.engine, visit.observer_id))

    server.start()
    tablet.sync_until_done()  # sends that push again: the server answers from its memory of results
    assert_server_holds_exactly_the_tablet(site, tablet)
    assert server.starts == 3


@pytest.mark.parametrize("crash_site", [2], indirect=True)  # two workers, each with its pool
def test_database_dropping_the_servers_connections_gives_retryable_errors_and_an_exact_state(
    crash_site: CrashSite,
) -> None:
    site = crash_site
    tablets = [site.tablet("A", observer_index=0), site.tablet("B", observer_index=1)]
    visits = [begin(t) for t in tablets]
    first, second = tablets
    cut: list[int] = []

    def cut_connections_mid_push() -> None:
        """From inside the tablet's push hook: hold its device row, cut everything once the push waits."""
        lock = DeviceRowLock(site.database_url, first.device_id)

        def cut_when_blocked() -> None:
            wait_for_blocked_push(site.database_url, site.database)
            cut.append(terminate_server_connections(site.database_url, site.database, {lock.pid}))
            lock.release()

        threading.Thread(target=cut_when_blocked, daemon=True).start()

    for round_ in range(3):
        for tablet, visit in zip(tablets, visits, strict=True):
            observe(tablet, visit, 80)
            if round_:
                revise_earlier(tablet, every=13)
        if round_ < 2:
            first.on_request[first.pushes_sent + 2] = cut_connections_mid_push
        else:  # the last round: connections cut while idle in the pool, between two syncs
            cut.append(terminate_server_connections(site.database_url, site.database, set()))
        workers = [ThreadResult(t.sync_until_done) for t in tablets]
        for worker in workers:
            worker.value()

    assert len(cut) == 3 and all(cut), cut  # every fault found server connections to cut
    # The pushes under way failed with retryable errors: the server answered 503 database_unavailable.
    assert len(first.failures) >= 2, first.failures
    assert first.error_answers, "no error answer from the server"
    for status, body in first.error_answers + second.error_answers:
        assert (status, json.loads(body)["code"]) == (503, "database_unavailable"), body
    assert httpx.get(f"{site.server.base_url}/health", timeout=5).json()["database"] == "ok"
    for tablet in tablets:
        assert_server_holds_exactly_the_tablet(site, tablet)


def test_database_restarted_under_the_server_during_a_push_loses_and_duplicates_nothing(
    crash_site: CrashSite,
) -> None:
    site = crash_site
    tablet = site.tablet("R")
    visit = begin(tablet)
    observe(tablet, visit, 300)  # three pushes of 100

    # Stopped while the second push is inside its transaction, then kept down while the tablet retries.
    lock, syncing = hold_push_in_its_transaction(site, tablet, 2)
    try:
        postgres_cluster("stop")
        failure = syncing.value()
        assert failure.retryable, failure
        assert tablet.sync_expecting_failure().retryable  # still down: the server says so, it does not hang
        answered_while_down = httpx.get(f"{site.server.base_url}/health", timeout=10)
        assert answered_while_down.status_code == 503, answered_while_down.text
    finally:
        postgres_cluster("start")
        with contextlib.suppress(psycopg.Error):  # cut by the stop: nothing left to release
            lock[0].connection.close()

    # The server has been running all along; its pool reconnects and the backlog goes through once.
    assert site.server.process is not None and site.server.process.poll() is None
    tablet.sync_until_done()
    assert httpx.get(f"{site.server.base_url}/health", timeout=5).json()["database"] == "ok"
    assert_server_holds_exactly_the_tablet(site, tablet)
    for status, body in tablet.error_answers:
        assert (status, json.loads(body)["code"]) == (503, "database_unavailable"), body
    assert site.server.starts == 1


class ThreadResult:
    """Runs a function on a thread; ``value()`` joins and returns its result or raises its error."""

    def __init__(self, function: Callable[[], Any]):
        self._result: list[Any] = []
        self._error: list[BaseException] = []

        def run() -> None:
            try:
                self._result.append(function())
            except BaseException as exc:
                self._error.append(exc)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def value(self, timeout: float = 120) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "still running"
        if self._error:
            raise self._error[0]
        return self._result[0]
