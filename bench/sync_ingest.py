"""How fast a push is ingested: observations per second through the real HTTP API, against a raw bulk insert.

Run from the repository root:
``python -m bench.sync_ingest [--count 10000] [--repeat 3] [--databases sqlite,postgresql]``.
For each database kind, a real ``vigie serve`` process on a fresh migrated demo database receives one visit
then ``--count`` observations from an enrolled tablet, in sequential batches of MAX_BATCH; the baseline
inserts the same rows with SQLAlchemy Core, one transaction per batch. Each database gets ``--repeat``
such pairs (3 by default) and the medians are reported, with each pair's ratio. It prints figures, it
asserts none.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import build_demo, demo_observation
from backend.db import make_engine
from backend.migrate import upgrade
from backend.privacy.pending import has_pending
from backend.server_process import vigie_serve
from backend.sync.devices import create_enrolment_code
from backend.sync.records import MULTI_VALUED, visit_row
from backend.sync.sequence import SequenceAllocator
from bench.databases import DEFAULT_POSTGRES_URL, throwaway_postgres
from shared import schema
from shared.schema import NOTE_MAX_LENGTH
from shared.sync import MAX_BATCH, PROTOCOL_HEADER, PROTOCOL_VERSION
from shared.taxonomy import current_taxonomy

NOTES_FILE = Path(__file__).resolve().parent.parent / "tests" / "privacy" / "corpus.jsonl"
note_share = 0.2  # of observations carrying a note (--note-share; issue 13 measures with one in five)

ROOT = Path(__file__).resolve().parent.parent
DATABASE_KINDS = ("sqlite", "postgresql")
TARGET_RATIO = 0.5
TARGET_SECONDS_PER_10K = 3.0
SEED = 2026


class BenchError(RuntimeError):
    """The run did not do what it measures (a rejected push, a missing row): its figures mean nothing."""


@dataclass(frozen=True)
class Site:
    """Where the tablet records: one structure of the demo programme, one of its units, one observer."""

    structure_id: int
    unit_id: int
    observer_id: int


@dataclass(frozen=True)
class Workload:
    visit: schema.Visit
    observations: list[schema.Observation]


@dataclass(frozen=True)
class Figures:
    """Medians over the runs: on a shared machine one raw insert alone swings by a third."""

    database: str
    count: int
    api_runs: list[float]  # seconds, one per run, each paired with the raw run that followed it
    raw_runs: list[float]
    api_batch_seconds: list[float]  # the pushes of the median API run
    screening_runs: list[float]  # seconds after the last push until every note was screened

    @property
    def screening_seconds(self) -> float:
        return statistics.median(self.screening_runs)

    @property
    def api_seconds(self) -> float:
        return statistics.median(self.api_runs)

    @property
    def raw_seconds(self) -> float:
        return statistics.median(self.raw_runs)

    @property
    def run_ratios(self) -> list[float]:
        return [raw / api for api, raw in zip(self.api_runs, self.raw_runs, strict=True)]

    @property
    def api_rate(self) -> float:
        return self.count / self.api_seconds

    @property
    def raw_rate(self) -> float:
        return self.count / self.raw_seconds

    @property
    def ratio(self) -> float:
        return self.api_rate / self.raw_rate

    @property
    def api_seconds_per_10k(self) -> float:
        return self.api_seconds * 10_000 / self.count

    @property
    def ratio_met(self) -> bool:
        return self.ratio >= TARGET_RATIO

    @property
    def seconds_met(self) -> bool:
        return self.api_seconds_per_10k < TARGET_SECONDS_PER_10K

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "count": self.count,
            "batch_size": MAX_BATCH,
            "api_seconds": self.api_seconds,
            "api_obs_per_second": self.api_rate,
            "raw_seconds": self.raw_seconds,
            "raw_obs_per_second": self.raw_rate,
            "ratio_api_raw": self.ratio,
            "api_seconds_per_10000": self.api_seconds_per_10k,
            "api_batch_seconds": self.api_batch_seconds,
            "api_runs_seconds": self.api_runs,
            "raw_runs_seconds": self.raw_runs,
            "run_ratios": self.run_ratios,
            "notes_screened_seconds_after_last_push": self.screening_seconds,
            "notes_screened_runs_seconds": self.screening_runs,
            "targets": {
                f"ratio >= {TARGET_RATIO}": self.ratio_met,
                f"10,000 pushed < {TARGET_SECONDS_PER_10K:g} s": self.seconds_met,
            },
        }


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def batches(items: Sequence[Any], size: int = MAX_BATCH) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


# --- databases ---------------------------------------------------------------------------------------


@contextmanager
def fresh_database(kind: str, postgres_url: str, directory: Path, label: str) -> Iterator[str]:
    """An empty database, gone afterwards: a SQLite file in ``directory`` or a throwaway PostgreSQL one."""
    if kind == "sqlite":
        path = directory / f"{label}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with throwaway_postgres(postgres_url) as url:
        yield url


def prepare(url: str) -> Site:
    """Migrate, fill with the demo programme, and pick the structure, unit and observer the tablet uses."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            build_demo(session, seed=SEED)
            structure = session.exec(select(models.Structure).order_by(col(models.Structure.id))).first()
            assert structure is not None and structure.id is not None
            unit = session.exec(
                select(models.Unit)
                .where(models.Unit.structure_id == structure.id)
                .order_by(col(models.Unit.id))
            ).first()
            observer = session.exec(
                select(models.Observer)
                .where(models.Observer.programme_id == structure.programme_id)
                .order_by(col(models.Observer.id))
            ).first()
            assert unit is not None and unit.id is not None
            assert observer is not None and observer.id is not None
            return Site(structure_id=structure.id, unit_id=unit.id, observer_id=observer.id)
    finally:
        engine.dispose()


def count_observations(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(models.Observation)).one()


# --- what the tablet recorded ------------------------------------------------------------------------


def make_workload(site: Site, count: int, now: datetime) -> Workload:
    """One long visit and ``count`` valid observations with realistic attributes, the same for a site."""
    rng = random.Random(SEED)
    taxonomy = current_taxonomy()

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    roles = ["ide", "aide_soignant", "medecin"]
    started = now - timedelta(hours=10)
    visit = schema.Visit.begin(
        site.structure_id,
        site.unit_id,
        site.observer_id,
        started,
        id=new_id(),
        ended_at=started + timedelta(hours=9),
        observed_roles=roles,
        context_note="Journée d'observation continue, équipe complète.",
    )
    categories = sorted(taxonomy.category_codes)
    weights = [30 if code == "interruption" else 8 for code in categories]
    # One observation in five carries a note, each different (the notes of the privacy corpus, typed as
    # observers type, half of them with identifiers): the server screens every one at push.
    lines = NOTES_FILE.read_text("utf-8").splitlines()
    notes = [json.loads(line)["text"][: NOTE_MAX_LENGTH - 10] for line in lines]
    observations = []
    for _ in range(count):
        category = rng.choices(categories, weights)[0]
        occurred = started + timedelta(seconds=rng.uniform(0, 8.5 * 3600))
        observation = demo_observation(rng, new_id(), visit, category, occurred)
        note = f"{rng.choice(notes)} ({rng.randrange(10_000)})" if rng.random() < note_share else None
        observations.append(observation.model_copy(update={"note": note}))
    return Workload(visit=visit, observations=observations)


# --- through the HTTP API ----------------------------------------------------------------------------


def push(client: httpx.Client, headers: dict[str, str], mutations: Sequence[dict[str, Any]]) -> None:
    body = {"device_time": datetime.now(UTC).isoformat(), "mutations": list(mutations)}
    response = client.post("/api/v1/sync/push", json=body, headers=headers)
    if response.status_code != 200:
        raise BenchError(f"push answered {response.status_code}: {response.text[:1000]}")
    results = response.json()["results"]
    refused = [r for r in results if r["status"] != "applied"]
    if len(results) != len(mutations) or refused:
        raise BenchError(f"{len(refused)} of {len(mutations)} mutations not applied, e.g. {refused[:2]}")


def measure_api(url: str, count: int, workdir: Path) -> tuple[float, list[float], float]:
    """Seconds to push ``count`` observations batch after batch, each batch's round trip, and the seconds
    the server then took to screen their notes."""
    site = prepare(url)
    engine = make_engine(url)
    with Session(engine) as session:
        issued = create_enrolment_code(session, observer_id=site.observer_id, structure_id=site.structure_id)
    before = count_observations(engine)
    engine.dispose()
    workload = make_workload(site, count, datetime.now(UTC))
    # Mutation 1 is the visit; the observations follow, as a tablet's outbox would number them.
    mutations = [
        {"mutation_id": number, "entity": "observation", "data": observation.model_dump(mode="json")}
        for number, observation in enumerate(workload.observations, start=2)
    ]
    protocol = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    with (
        vigie_serve(url, workdir / "server.log") as base_url,
        httpx.Client(base_url=base_url, timeout=300) as client,
    ):
        enrolment = {"code": issued.code, "installation_id": str(uuid.uuid4()), "label": "Tablette banc"}
        response = client.post("/api/v1/devices/enrol", json=enrolment, headers=protocol)
        if response.status_code != 201:
            raise BenchError(f"enrolment answered {response.status_code}: {response.text[:1000]}")
        headers = {**protocol, "Authorization": f"Bearer {response.json()['device_token']}"}
        push(
            client,
            headers,
            [{"mutation_id": 1, "entity": "visit", "data": workload.visit.model_dump(mode="json")}],
        )

        batch_seconds = []
        start = time.perf_counter()
        for batch in batches(mutations):
            sent = time.perf_counter()
            push(client, headers, batch)
            batch_seconds.append(time.perf_counter() - sent)
        elapsed = time.perf_counter() - start
        screened_after = wait_for_screening(url)

    engine = make_engine(url)
    try:
        added = count_observations(engine) - before
    finally:
        engine.dispose()
    if added != count:
        raise BenchError(f"the database holds {added} new observations, not {count}")
    return elapsed, batch_seconds, screened_after


def wait_for_screening(url: str, limit: float = 600) -> float:
    """Seconds from the last push's answer until the server's worker has screened every note it brought
    (backend/privacy/pending.py): the part of the work the pushes no longer wait for."""
    engine = make_engine(url)
    start = time.perf_counter()
    try:
        while True:
            with Session(engine) as session:
                if not has_pending(session):
                    return time.perf_counter() - start
            if time.perf_counter() - start > limit:
                raise BenchError(f"notes still waiting to be screened {limit:g} s after the last push")
            time.sleep(0.05)
    finally:
        engine.dispose()


# --- raw baseline ------------------------------------------------------------------------------------


def measure_raw(url: str, count: int) -> float:
    """Seconds to insert the same rows with SQLAlchemy Core, one transaction per batch as a push has."""
    site = prepare(url)
    workload = make_workload(site, count, datetime.now(UTC))
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            sequence = SequenceAllocator(session)
            last_seq = sequence.next()
            session.add(visit_row(workload.visit, server_seq=last_seq))
            sequence.save()
            session.commit()
        before = count_observations(engine)

        # Rows are built beforehand: the baseline measures the database, not the Python that feeds it.
        received = datetime.now(UTC)
        planned = []
        for chunk in batches(workload.observations):
            rows: list[dict[str, Any]] = []
            values: list[dict[str, Any]] = []
            for observation in chunk:
                last_seq += 1
                fields = observation.model_dump(exclude=set(MULTI_VALUED.values()))
                rows.append(
                    {
                        **fields,
                        "structure_id": site.structure_id,
                        "observer_id": site.observer_id,
                        "device_id": None,
                        "received_at": received,
                        "review_status": schema.ReviewStatus.TO_REVIEW.value,
                        "server_seq": last_seq,
                    }
                )
                values.extend(
                    {
                        "observation_id": observation.id,
                        "attribute": attribute,
                        "code": code,
                        "structure_id": site.structure_id,
                        "occurred_at": observation.occurred_at,
                        "deleted": observation.deleted,
                    }
                    for attribute, field in MULTI_VALUED.items()
                    for code in getattr(observation, field)
                )
            planned.append((rows, values, last_seq))

        observation_table = models.metadata.tables["observation"]
        value_table = models.metadata.tables["observation_attribute_value"]
        state_table = models.metadata.tables["sync_state"]
        start = time.perf_counter()
        for rows, values, batch_last_seq in planned:
            with engine.begin() as connection:
                # Like a push, take the sequence row first and move it past the batch.
                connection.execute(
                    state_table.update().where(state_table.c.id == 1).values(last_seq=batch_last_seq)
                )
                connection.execute(observation_table.insert(), rows)
                if values:
                    connection.execute(value_table.insert(), values)
        elapsed = time.perf_counter() - start

        added = count_observations(engine) - before
        if added != count:
            raise BenchError(f"the raw insert left {added} new observations, not {count}")
        return elapsed
    finally:
        engine.dispose()


# --- report ------------------------------------------------------------------------------------------


def measure(kind: str, count: int, postgres_url: str, repeat: int) -> Figures:
    """``repeat`` runs, each an API push then a raw insert into fresh databases, one after the other so
    that both sides of a pair see the same neighbours' load."""
    api_runs: list[tuple[float, list[float], float]] = []
    raw_runs: list[float] = []
    for run in range(1, repeat + 1):
        with tempfile.TemporaryDirectory(prefix=f"vigie-bench-{kind}-") as directory:
            workdir = Path(directory)
            progress(f"[{kind}] run {run}/{repeat}: pushing {count} observations through the API…")
            with fresh_database(kind, postgres_url, workdir, "api") as url:
                api_runs.append(measure_api(url, count, workdir))
            progress(f"[{kind}] run {run}/{repeat}: raw Core insert of the same rows…")
            with fresh_database(kind, postgres_url, workdir, "raw") as url:
                raw_runs.append(measure_raw(url, count))
    median_run = sorted(api_runs)[(len(api_runs) - 1) // 2]
    return Figures(
        kind, count, [run[0] for run in api_runs], raw_runs, median_run[1], [run[2] for run in api_runs]
    )


def table(figures: list[Figures]) -> str:
    header = (
        "database",
        "API obs/s",
        "raw obs/s",
        "API/raw",
        "API s / 10,000",
        "API/raw per run",
        f"ratio >= {TARGET_RATIO:g}",
        f"10,000 pushed < {TARGET_SECONDS_PER_10K:g} s",
        "notes screened, s after",
    )
    rows = [
        (
            f.database,
            f"{f.api_rate:,.0f}",
            f"{f.raw_rate:,.0f}",
            f"{f.ratio:.2f}",
            f"{f.api_seconds_per_10k:.2f}",
            " ".join(f"{ratio:.2f}" for ratio in f.run_ratios),
            "met" if f.ratio_met else "NOT met",
            "met" if f.seconds_met else "NOT met",
            f"{f.screening_seconds:.2f}",
        )
        for f in figures
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def batch_summary(figures: Figures) -> str:
    seconds = figures.api_batch_seconds
    return (
        f"{figures.database}: {len(seconds)} pushes of {MAX_BATCH}, round trip "
        f"min {min(seconds) * 1000:.0f} ms, median {statistics.median(seconds) * 1000:.0f} ms, "
        f"max {max(seconds) * 1000:.0f} ms "
        f"(first {seconds[0] * 1000:.0f} ms, last {seconds[-1] * 1000:.0f} ms)"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="observations to push (default 10000)")
    parser.add_argument(
        "--databases",
        default=",".join(DATABASE_KINDS),
        help="comma-separated database kinds among sqlite,postgresql (default both)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="PostgreSQL server to create and drop throwaway databases on",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per database, medians reported (default 3)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON here")
    parser.add_argument(
        "--note-share", type=float, default=0.2, help="share of observations with a note (default 0.2)"
    )
    args = parser.parse_args(argv)
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    unknown = set(kinds) - set(DATABASE_KINDS)
    if unknown or not kinds:
        parser.error(f"--databases: choose among {', '.join(DATABASE_KINDS)}")
    if args.count < 1 or args.repeat < 1:
        parser.error("--count and --repeat must be at least 1")
    args.databases = kinds
    return args


def main(argv: Sequence[str] | None = None) -> int:
    global note_share  # the workload generator reads it; one run per process
    args = parse_args(argv)
    note_share = args.note_share
    try:
        figures = [measure(kind, args.count, args.postgres_url, args.repeat) for kind in args.databases]
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"Sync push ingest: {args.count:,} observations, batches of {MAX_BATCH}, sequential, loopback HTTP; "
        f"medians of {args.repeat} runs, each an API push then a raw insert"
    )
    print(table(figures))
    for f in figures:
        print(batch_summary(f))
    if args.json:
        args.json.write_text(json.dumps([f.as_json() for f in figures], indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
