"""Several tablets pushing and pulling at once against a real ``vigie serve --workers 2`` on PostgreSQL.

The scenario runs once for the module: six tablets in three teams (a team shares one observer and one
structure, so its tablets edit the same demo observations), several rounds each, released together on
threads. Each test then checks one promise of the sync protocol on what happened.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import build_demo
from backend.db import make_engine
from backend.migrate import upgrade
from backend.server_process import vigie_serve
from backend.sync.devices import create_enrolment_code
from backend.sync.records import observation_from_row
from shared.sync import (
    MAX_PULL_PAGE,
    MutationResult,
    PullResponse,
    PushResponse,
)
from tests import factories
from tests.databases import postgres_database
from tests.factories import enrolled_tablet, post_enrolment, tablet_client

pytestmark = pytest.mark.postgres

ROUNDS = 4
NEW_PER_ROUND = 3  # observations each tablet creates in its own visit, per round
SHARED_PER_TEAM = 4  # demo observations every tablet of a team edits
PULL_PAGE = 25  # small, so pulls page while others write
DIMENSIONS = ("work_content", "rhythm", "work_spaces", "colleague_relations", "patient_relations")
NOW = datetime.now(UTC).replace(microsecond=0)

# What a test compares of a record: version, tombstone, the note that names who wrote it, dimensions.
State = tuple[int, bool, str | None, tuple[str, ...]]
RecordKey = tuple[str, uuid.UUID]  # (entity, id)


@dataclass(frozen=True)
class Team:
    name: str
    observer_index: int  # into the demo's observers, by id
    structure_index: int  # into the demo's structures, by id
    tablets: int
    intrudes_on: str | None = None  # a team whose shared observations this one tries (and fails) to edit


TEAMS = (
    Team("A", observer_index=0, structure_index=0, tablets=3),
    Team("B", observer_index=1, structure_index=0, tablets=2, intrudes_on="A"),
    Team("C", observer_index=2, structure_index=1, tablets=1),
)


def state(data: dict[str, Any], note_field: str = "note") -> State:
    dimensions = tuple(sorted(data.get("dimensions", [])))
    return (int(data.get("version", 1)), bool(data.get("deleted", False)), data.get(note_field), dimensions)


@dataclass(frozen=True)
class Sent:
    tablet: str
    device_id: int
    entity: str
    data: dict[str, Any]
    result: MutationResult

    @property
    def record_id(self) -> uuid.UUID:
        return uuid.UUID(str(self.data["id"]))

    @property
    def state(self) -> State:
        return state(self.data, "note" if self.entity == "observation" else "context_note")


@dataclass
class Tablet:
    """One enrolled tablet: its HTTP client, what it sent and got back, and what it pulled."""

    name: str
    team: Team
    client: httpx.Client
    device_id: int
    observer_id: int
    structure_id: int
    unit_id: int
    next_mutation: int = 1
    sent: list[Sent] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # 5xx answers and transport errors
    replica: dict[RecordKey, tuple[int, State]] = field(default_factory=dict)  # kept up to date by pulls
    cursor: int = 0

    def push(self, planned: list[tuple[str, dict[str, Any]]]) -> None:
        mutations = []
        for entity, data in planned:
            mutations.append({"mutation_id": self.next_mutation, "entity": entity, "data": data})
            self.next_mutation += 1
        body = {"device_time": datetime.now(UTC).isoformat(), "mutations": mutations}
        for _attempt in range(3):  # as the app does: re-send the same batch, results are kept server-side
            response = self._request("POST", "/api/v1/sync/push", json=body)
            if response is not None:
                results = PushResponse.model_validate(response.json()).results
                assert [r.mutation_id for r in results] == [m["mutation_id"] for m in mutations]
                self.sent += [
                    Sent(self.name, self.device_id, entity, data, result)
                    for (entity, data), result in zip(planned, results, strict=True)
                ]
                return
        raise AssertionError(f"{self.name}: push kept failing: {self.failures}")

    def pull(self, cursor: int) -> tuple[list[tuple[RecordKey, int, State]], int]:
        """Every change after ``cursor``, following pages; and the cursor to continue from."""
        changes: list[tuple[RecordKey, int, State]] = []
        while True:
            response = self._request(
                "GET", "/api/v1/sync/pull", params={"cursor": cursor, "limit": PULL_PAGE}
            )
            if response is None:
                continue
            page = PullResponse.model_validate(response.json())
            changes += [
                (("visit", v.id), v.server_seq, state(v.model_dump(), "context_note")) for v in page.visits
            ]
            changes += [
                (("observation", o.id), o.server_seq, state(o.model_dump())) for o in page.observations
            ]
            assert page.cursor >= cursor
            cursor = page.cursor
            if not page.has_more:
                return changes, cursor

    def catch_up(self) -> None:
        changes, self.cursor = self.pull(self.cursor)
        for key, seq, record_state in changes:
            self.replica[key] = (seq, record_state)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self.failures.append(f"{self.name} {method} {path}: {exc!r}")
            if len(self.failures) > 5:
                raise
            return None
        if response.status_code >= 500:
            self.failures.append(f"{self.name} {method} {path}: {response.status_code} {response.text[:300]}")
            if len(self.failures) > 5:
                raise AssertionError(self.failures)
            return None
        assert response.status_code == 200, f"{self.name} {method} {path}: {response.text}"
        return response


@dataclass
class Script:
    """What one tablet does, round by round: its own visit, edits of its team's shared observations."""

    tablet: Tablet
    index: int  # within its team
    shared: list[dict[str, Any]]  # the demo states of the team's shared observations
    intrusion_targets: list[dict[str, Any]]
    visit: dict[str, Any] = field(default_factory=dict)
    created: list[list[dict[str, Any]]] = field(default_factory=list)  # own observations, per round
    deleted_shared: set[int] = field(default_factory=set)

    def own_work(self, round_: int) -> list[tuple[str, dict[str, Any]]]:
        name = self.tablet.name
        planned: list[tuple[str, dict[str, Any]]] = []
        if round_ == 0:
            self.visit = {
                "id": str(uuid.uuid4()),
                "structure_id": self.tablet.structure_id,
                "unit_id": self.tablet.unit_id,
                "observer_id": self.tablet.observer_id,
                "started_at": (NOW - timedelta(hours=1)).isoformat(),
                "observed_roles": ["ide"],
                "context_note": f"{name} visit",
                "created_at": NOW.isoformat(),
                "updated_at": NOW.isoformat(),
            }
            planned.append(("visit", self.visit))
        new = [self._new_observation(round_, n) for n in range(NEW_PER_ROUND)]
        planned += [("observation", o) for o in new]
        if round_ >= 1:  # enriched afterwards, as observers do once the rush is over
            edited = self.created[round_ - 1][0]
            planned.append(("observation", self._revise(edited, version=2, note=f"{name} edited r{round_}")))
        if round_ == 2:
            dropped = self.created[0][1]
            planned.append(
                ("observation", self._revise(dropped, version=2, note=f"{name} dropped", deleted=True))
            )
        if round_ == ROUNDS - 1:
            closed = {**self.visit, "version": 2, "context_note": f"{name} visit closed"}
            planned.append(("visit", {**closed, "ended_at": _now(), "updated_at": _now()}))
        self.created.append(new)
        return planned

    def shared_work(self, round_: int) -> list[tuple[str, dict[str, Any]]]:
        name = self.tablet.name
        planned: list[tuple[str, dict[str, Any]]] = []
        # The first tablet deletes shared #0 early; the others all delete shared #1 at the same moment.
        deleting = {0} if (self.index, round_) == (0, 1) else {1} if self.index > 0 and round_ == 2 else set()
        for number, base in enumerate(self.shared):
            if number in self.deleted_shared:
                continue
            gone = number in deleting
            note = f"{name} {'deleted' if gone else 'edited'} shared {number} r{round_}"
            dimensions = [DIMENSIONS[(self.index + round_ + number) % len(DIMENSIONS)]]
            revised = self._revise(base, 2 + round_, note, deleted=gone, dimensions=dimensions)
            planned.append(("observation", revised))
            if gone:
                self.deleted_shared.add(number)
        if round_ == 1:
            planned += [
                ("observation", self._revise(target, 9, f"{name} intrusion"))
                for target in self.intrusion_targets
            ]
        return planned

    def _new_observation(self, round_: int, number: int) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "visit_id": self.visit["id"],
            "occurred_at": (NOW - timedelta(minutes=50 - 10 * round_ - number)).isoformat(),
            "category": "interruption",
            "interruption_source": "phone",
            "dimensions": [DIMENSIONS[(round_ + number) % len(DIMENSIONS)]],
            "note": f"{self.tablet.name} new r{round_} #{number}",
            "created_at": NOW.isoformat(),
            "updated_at": NOW.isoformat(),
        }

    @staticmethod
    def _revise(
        data: dict[str, Any],
        version: int,
        note: str,
        deleted: bool = False,
        dimensions: list[str] | None = None,
    ) -> dict[str, Any]:
        revised = {**data, "version": version, "note": note, "deleted": deleted, "updated_at": _now()}
        if dimensions is not None:
            revised["dimensions"] = dimensions
        return revised


def _now() -> str:
    return datetime.now(UTC).isoformat()


def run_tablets(scripts: list[Script]) -> None:
    """All tablets at once: each round starts together, then each pushes twice and pulls."""
    start = threading.Barrier(len(scripts), timeout=30)

    def work(script: Script) -> None:
        try:
            for round_ in range(ROUNDS):
                start.wait()
                script.tablet.push(script.own_work(round_))
                script.tablet.push(script.shared_work(round_))
                script.tablet.catch_up()
        except BaseException:
            start.abort()  # release the others at once rather than after the barrier's timeout
            raise

    with ThreadPoolExecutor(max_workers=len(scripts)) as pool:
        for future in [pool.submit(work, script) for script in scripts]:
            future.result()


# --- What the server holds, read straight from the database ----------------------------------------


@dataclass(frozen=True)
class Stored:
    observer_id: int
    structure_id: int
    state: State


@dataclass(frozen=True)
class Revision:
    record_id: uuid.UUID
    device_id: int | None
    reason: str
    state: State


@dataclass
class Database:
    visits: dict[uuid.UUID, Stored]
    observations: dict[uuid.UUID, Stored]
    revisions: list[Revision]
    sequence_numbers: list[int]  # of every visit, observation, structure and unit


def read_database(session: Session) -> Database:
    values: dict[uuid.UUID, list[models.ObservationAttributeValue]] = {}
    for value in session.exec(select(models.ObservationAttributeValue)):
        values.setdefault(value.observation_id, []).append(value)
    observations = {
        o.id: Stored(
            o.observer_id, o.structure_id, state(observation_from_row(o, values.get(o.id, [])).model_dump())
        )
        for o in session.exec(select(models.Observation))
    }
    visits = {
        v.id: Stored(v.observer_id, v.structure_id, state(v.model_dump(), "context_note"))
        for v in session.exec(select(models.Visit))
    }
    revisions = [
        Revision(r.record_id, r.device_id, r.reason, state(r.data))
        for r in session.exec(
            select(models.RecordRevision).where(models.RecordRevision.entity == "observation")
        )
    ]
    sequence_numbers = [
        *session.exec(select(models.Visit.server_seq)),
        *session.exec(select(models.Observation.server_seq)),
        *session.exec(select(models.Structure.server_seq)),
        *session.exec(select(models.Unit.server_seq)),
    ]
    return Database(visits, observations, revisions, sequence_numbers)


# --- The scenario, run once ------------------------------------------------------------------------


@dataclass
class Outcome:
    scripts: list[Script]
    demo: Database  # before any tablet pushed
    after: Database
    from_zero: dict[str, list[tuple[RecordKey, int, State]]]  # each tablet's full pull at the end
    server_log: Path

    @property
    def tablets(self) -> list[Tablet]:
        return [s.tablet for s in self.scripts]

    def sent(self) -> list[Sent]:
        return [s for t in self.tablets for s in t.sent]

    def shared_ids(self) -> set[uuid.UUID]:
        return {uuid.UUID(str(o["id"])) for s in self.scripts for o in s.shared}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """A migrated PostgreSQL database with the demo programme, served by two worker processes."""
    workdir = tmp_path_factory.mktemp("concurrent-sync")
    with postgres_database() as url:
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            build_demo(session)
        engine.dispose()
        # The races below refuse hundreds of codes from 127.0.0.1 on purpose; the lockout that would stop
        # them has its own tests (test_rate_limits.py).
        settings = {"VIGIE_ENROLMENT_MAX_FAILURES_PER_IP": "100000"}
        log_path = workdir / "server.log"
        with vigie_serve(url, log_path, workers=2, settings=settings) as base_url:
            yield url, base_url, log_path


def enrol_tablets(session: Session, base_url: str) -> list[Tablet]:
    observers = session.exec(select(models.Observer).order_by(col(models.Observer.id))).all()
    structures = session.exec(select(models.Structure).order_by(col(models.Structure.id))).all()
    tablets = []
    for team in TEAMS:
        observer, structure = observers[team.observer_index], structures[team.structure_index]
        assert observer.id is not None and structure.id is not None
        unit = session.exec(
            select(models.Unit).where(models.Unit.structure_id == structure.id).order_by(col(models.Unit.id))
        ).first()
        assert unit is not None and unit.id is not None
        for number in range(team.tablets):
            name = f"{team.name}{number + 1}"
            client = tablet_client(base_url)
            enrolled = enrolled_tablet(client, session, observer.id, structure.id, unit.id, label=name)
            client.headers.update(enrolled.headers)
            tablets.append(
                Tablet(
                    name=name,
                    team=team,
                    client=client,
                    device_id=enrolled.device_id,
                    observer_id=enrolled.observer_id,
                    structure_id=enrolled.structure_id,
                    unit_id=unit.id,
                )
            )
    return tablets


def shared_observations(session: Session, tablet: Tablet) -> list[dict[str, Any]]:
    """The first demo observations of the tablet's observer in its structure, as a tablet would send them."""
    rows = session.exec(
        select(models.Observation)
        .where(
            models.Observation.observer_id == tablet.observer_id,
            models.Observation.structure_id == tablet.structure_id,
        )
        .order_by(col(models.Observation.id))
        .limit(SHARED_PER_TEAM)
    ).all()
    assert len(rows) == SHARED_PER_TEAM
    result = []
    for row in rows:
        values = session.exec(
            select(models.ObservationAttributeValue).where(
                models.ObservationAttributeValue.observation_id == row.id
            )
        ).all()
        result.append(observation_from_row(row, list(values)).model_dump(mode="json"))
    return result


@pytest.fixture(scope="module")
def outcome(server: tuple[str, str, Path]) -> Iterator[Outcome]:
    url, base_url, log_path = server
    engine = make_engine(url)
    with Session(engine) as session:
        tablets = enrol_tablets(session, base_url)
        shared = {t.team.name: shared_observations(session, t) for t in tablets}
        demo = read_database(session)
    scripts = []
    for tablet in tablets:
        team_mates = [t for t in tablets if t.team == tablet.team]
        intrusion = shared[tablet.team.intrudes_on][2:3] if tablet.team.intrudes_on else []
        scripts.append(Script(tablet, team_mates.index(tablet), shared[tablet.team.name], intrusion))
    try:
        run_tablets(scripts)
        with ThreadPoolExecutor(max_workers=len(tablets)) as pool:
            list(pool.map(Tablet.catch_up, tablets))
            full_pulls = list(pool.map(lambda t: t.pull(0)[0], tablets))
        with Session(engine) as session:
            after = read_database(session)
        yield Outcome(
            scripts, demo, after, {t.name: p for t, p in zip(tablets, full_pulls, strict=True)}, log_path
        )
    finally:
        for tablet in tablets:
            tablet.client.close()
        engine.dispose()


# --- The promises ----------------------------------------------------------------------------------


def test_devices_pushing_at_once_get_no_server_error(outcome: Outcome) -> None:
    assert [f for t in outcome.tablets for f in t.failures] == []
    log = outcome.server_log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert " 500 " not in log


def test_every_mutation_gets_a_final_result_and_only_intrusions_are_refused(outcome: Outcome) -> None:
    deleted_shared = {
        s.record_id for s in outcome.sent() if s.data.get("deleted") and s.record_id in outcome.shared_ids()
    }
    unexpected = []
    for sent in outcome.sent():
        result = sent.result
        intrusion = str(sent.data.get("note", "")).endswith("intrusion")
        if intrusion:
            # Its visit belongs to another observer: refused for good (a retry cannot make it this tablet's).
            expected = result.status == "rejected" and result.code == "not_found" and not result.retryable
        elif result.status == "superseded":
            # Only a state (an edit, or a second deletion: a tombstone is final) that reaches a shared
            # observation after someone deleted it.
            expected = result.code == "record_deleted" and sent.record_id in deleted_shared
        else:
            expected = result.status == "applied" and not result.retryable
        if not expected:
            unexpected.append((sent.tablet, sent.entity, sent.data.get("note"), result.model_dump()))
    assert unexpected == []
    intruders = sum(t.tablets for t in TEAMS if t.intrudes_on)  # each tries one observation, once
    assert sum(s.result.status == "rejected" for s in outcome.sent()) == intruders


def test_devices_pushing_at_once_lose_nothing(outcome: Outcome) -> None:
    created = {
        s.record_id for s in outcome.sent() if s.entity == "observation" and s.data.get("version", 1) == 1
    }
    assert len(created) == sum(t.tablets for t in TEAMS) * ROUNDS * NEW_PER_ROUND
    # Exactly the demo plus what the tablets created: no duplicate, none lost, nothing from intrusions.
    assert set(outcome.after.observations) == set(outcome.demo.observations) | created
    own_visits = {s.record_id for s in outcome.sent() if s.entity == "visit"}
    assert set(outcome.after.visits) == set(outcome.demo.visits) | own_visits
    # A record only its tablet writes ends in the last state that tablet sent.
    last_sent: dict[RecordKey, State] = {}
    for sent in outcome.sent():
        if sent.record_id not in outcome.shared_ids():
            last_sent[(sent.entity, sent.record_id)] = sent.state
    stored = {("visit", k): v.state for k, v in outcome.after.visits.items()} | {
        ("observation", k): v.state for k, v in outcome.after.observations.items()
    }
    assert {key: stored[key] for key in last_sent} == last_sent
    # Untouched demo records are untouched.
    untouched = set(outcome.demo.observations) - outcome.shared_ids()
    assert all(outcome.after.observations[i] == outcome.demo.observations[i] for i in untouched)


def test_concurrent_edits_keep_one_winner_and_the_losers_in_history(outcome: Outcome) -> None:
    revisions = outcome.after.revisions
    overwritten = Counter(
        (r.record_id, r.state) for r in revisions if r.reason == "overwritten_by_other_device"
    )
    # The scenario did make tablets collide (rounds start together, deletions come before later edits).
    assert {r.device_id for r in revisions if r.reason == "overwritten_by_other_device"} > {None}
    assert any(r.reason == "edit_after_delete" for r in revisions)
    # A state is overwritten once at most: no update was applied on top of a stale read.
    assert [key for key, count in overwritten.items() if count > 1] == []
    kept = {(r.record_id, r.device_id, r.state) for r in revisions}
    for record_id in outcome.shared_ids():
        attempts = [s for s in outcome.sent() if s.record_id == record_id and s.result.status != "rejected"]
        applied = [s for s in attempts if s.result.status == "applied"]
        final = outcome.after.observations[record_id].state
        # The server's order wins: the stored state is one that was applied.
        assert final in {s.state for s in applied}, record_id
        # The demo state was overwritten by a tablet: it is in the history, as the server wrote it.
        assert (record_id, None, outcome.demo.observations[record_id].state) in kept
        for sent in applied:
            later_from_same = any(
                s.device_id == sent.device_id and s.data["version"] > sent.data["version"] for s in applied
            )
            # A state overwritten by another tablet is kept; only its own tablet may replace it silently.
            if sent.state != final and not later_from_same:
                assert (record_id, sent.device_id, sent.state) in kept, sent
        for sent in attempts:
            if sent.result.status == "superseded":  # an edit after the deletion is kept, not resurrected
                assert Revision(record_id, sent.device_id, "edit_after_delete", sent.state) in revisions
    intrusions = {s.state for s in outcome.sent() if s.result.status == "rejected"}
    assert not intrusions & (
        {r.state for r in revisions} | {o.state for o in outcome.after.observations.values()}
    )


def test_deleted_observations_stay_deleted(outcome: Outcome) -> None:
    deleted = {s.record_id for s in outcome.sent() if s.data.get("deleted") and s.result.status == "applied"}
    assert len(deleted & outcome.shared_ids()) == 2 * len(TEAMS) - 1  # team C has no second tablet
    assert all(outcome.after.observations[i].state[1] for i in deleted)
    for tablet in outcome.tablets:  # and tablets get the tombstones
        pulled = {key[1]: record_state for key, _seq, record_state in outcome.from_zero[tablet.name]}
        assert all(pulled[i][1] for i in deleted if i in pulled)
        assert any(i in pulled for i in deleted)


def test_every_tablet_pulls_exactly_what_the_server_holds(outcome: Outcome) -> None:
    for tablet in outcome.tablets:
        pulled = outcome.from_zero[tablet.name]
        keys = [key for key, _seq, _state in pulled]
        assert len(keys) == len(set(keys)), tablet.name  # each record once in a pull from zero

        def mine(stored: Stored, tablet: Tablet = tablet) -> bool:
            return (stored.observer_id, stored.structure_id) == (tablet.observer_id, tablet.structure_id)

        expected = {("visit", k): v.state for k, v in outcome.after.visits.items() if mine(v)} | {
            ("observation", k): o.state for k, o in outcome.after.observations.items() if mine(o)
        }
        assert {key: record_state for key, _seq, record_state in pulled} == expected, tablet.name
        # Pulling by cursor while others wrote ends exactly where a pull from zero does: no change skipped.
        assert tablet.replica == {key: (seq, record_state) for key, seq, record_state in pulled}, tablet.name


def test_sequence_numbers_are_unique_across_visits_and_observations(outcome: Outcome) -> None:
    numbers = outcome.after.sequence_numbers
    assert len(numbers) == len(set(numbers))
    owners: dict[int, set[RecordKey]] = {}
    for pulled in outcome.from_zero.values():
        for key, seq, _state in pulled:
            owners.setdefault(seq, set()).add(key)
    assert {seq: keys for seq, keys in owners.items() if len(keys) > 1} == {}


# --- Races the scenario does not provoke: enrolment, and pulls against a busy writer -----------------
#
# These run on an observer and a structure no team uses, so they leave the scenario's data alone.

RACE_ROUNDS = 10
EDITS = 100  # of one observation, by one tablet, while two others pull (the old bug showed in ~1 pull in 10)
EDITS_DEADLINE = 15.0  # seconds: on a busy machine the writer stops there, with fewer edits

T = TypeVar("T")


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls on as many threads, released together; their results in the same order."""
    start = threading.Barrier(len(calls), timeout=30)

    def released(call: Callable[[], T]) -> T:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(released, call) for call in calls]]


@dataclass
class Bench:
    """The running server, seen from outside: enrolment codes, enrolments, requests, its log."""

    base_url: str
    engine: Engine
    log_path: Path
    observer_id: int
    structure_id: int

    def new_code(self) -> str:
        with Session(self.engine) as session:
            issued = create_enrolment_code(
                session, observer_id=self.observer_id, structure_id=self.structure_id
            )
            return issued.code

    def client(self, token: str | None = None) -> httpx.Client:
        return tablet_client(self.base_url, token)

    def enrol(self, code: str, installation_id: str, label: str = "") -> httpx.Response:
        with self.client() as client:
            response: httpx.Response = post_enrolment(client, code, uuid.UUID(installation_id), label)
            return response

    def enrolled(self, label: str) -> str:
        """A new tablet's device token."""
        response = self.enrol(self.new_code(), str(uuid.uuid4()), label)
        assert response.status_code == 201, response.text
        return str(response.json()["device_token"])

    def token_works(self, token: str) -> bool:
        with self.client(token) as client:
            response = client.get("/api/v1/sync/pull", params={"cursor": 0, "limit": 1})
        assert response.status_code in (200, 401), response.text
        return response.status_code == 200

    def devices(self, installation_ids: list[str]) -> list[models.Device]:
        with Session(self.engine) as session:
            wanted = [uuid.UUID(i) for i in installation_ids]
            return list(
                session.exec(select(models.Device).where(col(models.Device.installation_id).in_(wanted)))
            )

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


@pytest.fixture(scope="module")
def bench(server: tuple[str, str, Path]) -> Iterator[Bench]:
    url, base_url, log_path = server
    engine = make_engine(url)
    with Session(engine) as session:
        observers = session.exec(select(models.Observer).order_by(col(models.Observer.id))).all()
        structures = session.exec(select(models.Structure).order_by(col(models.Structure.id))).all()
        used = {t.observer_index for t in TEAMS}, {t.structure_index for t in TEAMS}
        observer = next(o for n, o in enumerate(observers) if n not in used[0])
        structure = next(s for n, s in enumerate(structures) if n not in used[1])
        assert observer.id is not None and structure.id is not None
        assert observer.programme_id == structure.programme_id
    try:
        yield Bench(base_url, engine, log_path, observer.id, structure.id)
    finally:
        engine.dispose()


def answers(responses: list[httpx.Response]) -> list[tuple[int, str]]:
    """Status and error code of each response, sorted; the error code is "" for a success."""
    return sorted((r.status_code, "" if r.is_success else str(r.json().get("code"))) for r in responses)


def test_enrolment_retried_concurrently_never_fails_with_a_server_error(bench: Bench) -> None:
    # A tablet whose first enrolment seems to hang retries it: the tries reach the two workers at once.
    log_start = bench.log_size()
    for round_ in range(RACE_ROUNDS):
        tries = 2 + round_ % 3
        code, installation_id = bench.new_code(), str(uuid.uuid4())
        responses = at_once([partial(bench.enrol, code, installation_id, "retried")] * tries)
        assert all(r.status_code in (201, 409) for r in responses), (round_, answers(responses))
        created = [r.json() for r in responses if r.status_code == 201]
        assert created, (round_, answers(responses))
        # One device for the installation, whichever try created it; the others were retries of it.
        devices = bench.devices([installation_id])
        assert [d.id for d in devices] == [created[0]["device_id"]], round_
        assert {c["device_id"] for c in created} == {devices[0].id}, round_
        # Every successful try gave a fresh token and cancelled the one before: only the last one works.
        assert sum(bench.token_works(c["device_token"]) for c in created) == 1, round_
    log = bench.log_since(log_start)
    assert "Traceback" not in log, log[-3000:]


def test_a_single_use_code_enrols_only_one_tablet_even_when_raced(bench: Bench) -> None:
    log_start = bench.log_size()
    for round_ in range(RACE_ROUNDS):
        tablets = 2 + round_ % 3
        code = bench.new_code()
        installation_ids = [str(uuid.uuid4()) for _ in range(tablets)]
        responses = at_once([partial(bench.enrol, code, i, "raced") for i in installation_ids])
        assert answers(responses) == [(201, "")] + [(409, "enrolment_code_used")] * (tablets - 1), round_
        winner = next(r.json() for r in responses if r.status_code == 201)
        assert [d.id for d in bench.devices(installation_ids)] == [winner["device_id"]], round_
        assert bench.token_works(winner["device_token"])
    log = bench.log_since(log_start)
    assert "Traceback" not in log, log[-3000:]


def test_pull_never_mixes_two_versions_of_an_observation(bench: Bench) -> None:
    """Each edit's note names its dimensions: a pull must return one version's note with its dimensions."""
    writer, *readers = (bench.client(bench.enrolled(label)) for label in ("writer", "reader 1", "reader 2"))
    with Session(bench.engine) as session:
        unit = session.exec(
            select(models.Unit)
            .where(models.Unit.structure_id == bench.structure_id)
            .order_by(col(models.Unit.id))
        ).first()
        assert unit is not None
    visit = factories.visit(bench.structure_id, unit.id, bench.observer_id)
    observation = factories.observation(visit["id"])  # its dimensions and update time: each edit's own
    done = threading.Event()
    deadline = time.monotonic() + EDITS_DEADLINE
    edits: list[int] = []  # versions the writer had applied

    def write() -> None:
        try:
            for version in range(1, EDITS + 2):  # created, then edited EDITS times
                if time.monotonic() > deadline:
                    break
                dimension = DIMENSIONS[version % len(DIMENSIONS)]
                data = {
                    **observation,
                    "version": version,
                    "note": f"dims={dimension}",
                    "dimensions": [dimension],
                    "updated_at": _now(),
                }
                mutations = [{"mutation_id": version + 1, "entity": "observation", "data": data}]
                if version == 1:
                    mutations.insert(0, {"mutation_id": 1, "entity": "visit", "data": visit})
                body = {"device_time": _now(), "mutations": mutations}
                response = writer.post("/api/v1/sync/push", json=body)
                assert response.status_code == 200, response.text
                results = PushResponse.model_validate(response.json()).results
                assert [r.status for r in results] == ["applied"] * len(mutations), results
                edits.append(version)
        finally:
            done.set()

    def read(reader: httpx.Client) -> tuple[int, set[int], list[tuple[int, str, list[str]]]]:
        """How many pulls, the versions of the observation seen, and any seen mixed."""
        pulls, versions, mixed = 0, set(), []
        while not done.is_set() and time.monotonic() < deadline:
            cursor, has_more = 0, True
            while has_more:
                params = {"cursor": cursor, "limit": MAX_PULL_PAGE}
                response = reader.get("/api/v1/sync/pull", params=params)
                assert response.status_code == 200, response.text
                page = PullResponse.model_validate(response.json())
                for pulled in page.observations:
                    if pulled.note is None or not pulled.note.startswith("dims="):
                        continue
                    versions.add(pulled.version)
                    if sorted(pulled.dimensions) != [pulled.note.removeprefix("dims=")]:
                        mixed.append((pulled.version, pulled.note, sorted(pulled.dimensions)))
                cursor, has_more = page.cursor, page.has_more
            pulls += 1
        return pulls, versions, mixed

    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            writing = pool.submit(write)
            reading = [pool.submit(read, reader) for reader in readers]
            writing.result()
            seen = [r.result() for r in reading]
    finally:
        for client in (writer, *readers):
            client.close()
    assert [mixed for _pulls, _versions, mixed in seen] == [[], []]
    # The pulls did overlap the edits: the writer made enough of them in time, each reader pulled often
    # and saw the observation change.
    assert len(edits) >= 30, edits
    assert all(pulls >= 20 and len(versions) >= 10 for pulls, versions, _mixed in seen), [
        (pulls, len(versions)) for pulls, versions, _mixed in seen
    ]
