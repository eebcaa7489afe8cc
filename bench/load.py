"""Load: N tablets at once pushing and pulling against ``vigie serve --workers W`` on PostgreSQL.

Run from the repository root: ``python -m bench.load [--tablets 10,50,200] [--seconds 20] [--json PATH]``.

A throwaway PostgreSQL database gets the demo programme, then for each level N new observers and N
tablets, each enrolled with its own code through the API (not timed). Then the N tablets run at once
for ``--seconds``, each as fast as answers come (closed loop, no pause unless ``--think``): push a
batch of ``--batch`` new observations (the first push also carries its visit), then pull everything
after its cursor. Every request counts: latency from send to full answer, and an error for anything but
a 200 whose push results are all ``applied``. The load generator is one asyncio process on the same
machine as the server, so it takes part of the CPU the figures describe. It prints figures, it asserts
none; the exit status is 1 if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import build_demo, demo_observation
from backend.db import make_engine
from backend.migrate import upgrade
from backend.server_process import vigie_serve
from backend.sync.devices import create_enrolment_code
from bench.databases import DEFAULT_POSTGRES_URL, throwaway_postgres
from shared import schema
from shared.sync import PROTOCOL_HEADER, PROTOCOL_VERSION

DEFAULT_LEVELS = (10, 50, 200)
CATEGORIES = ("interruption", "workaround", "double_entry", "login", "alert", "information_search")
SEED = 2026


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the tablets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    code: str
    observer_id: int
    structure_id: int
    unit_id: int


def issue_codes(url: str, count: int, level: int) -> list[Enrolment]:
    """``count`` new observers, spread over the demo's structures, each with an enrolment code."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            structures = session.exec(select(models.Structure).order_by(col(models.Structure.id))).all()
            units = session.exec(select(models.Unit).order_by(col(models.Unit.id))).all()
            first_unit: dict[int, int | None] = {}
            for unit in units:
                first_unit.setdefault(unit.structure_id, unit.id)
            observers = [
                models.Observer(programme_id=structures[0].programme_id, display_name=f"Charge {level}-{n}")
                for n in range(count)
            ]
            session.add_all(observers)
            session.commit()
            issued = []
            for number, observer in enumerate(observers):
                structure = structures[number % len(structures)]
                assert observer.id is not None and structure.id is not None
                code = create_enrolment_code(session, observer_id=observer.id, structure_id=structure.id).code
                issued.append(Enrolment(code, observer.id, structure.id, int(first_unit[structure.id] or 0)))
            return issued
    finally:
        engine.dispose()


@dataclass
class Samples:
    push: list[float] = field(default_factory=list)  # seconds
    pull: list[float] = field(default_factory=list)
    observations: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Tablet:
    client: httpx.AsyncClient
    enrolment: Enrolment
    rng: random.Random
    visit: schema.Visit | None = None
    next_mutation: int = 1
    cursor: int = 0

    def batch(self, size: int) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        mutations = []
        if self.visit is None:
            self.visit = schema.Visit.begin(
                self.enrolment.structure_id,
                self.enrolment.unit_id,
                self.enrolment.observer_id,
                now - timedelta(hours=3),
                observed_roles=["ide", "aide_soignant"],
                created_at=now,
                updated_at=now,
            )
            mutations.append(self._mutation("visit", self.visit.model_dump(mode="json")))
        for _ in range(size):
            occurred = now - timedelta(seconds=self.rng.randint(60, 3 * 3600 - 60))
            observation = demo_observation(
                self.rng, uuid.uuid4(), self.visit, self.rng.choice(CATEGORIES), occurred
            )
            data = observation.model_dump(mode="json")
            data["updated_at"] = data["created_at"]  # never after the device's "now"
            mutations.append(self._mutation("observation", data))
        return mutations

    def _mutation(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        mutation = {"mutation_id": self.next_mutation, "entity": entity, "data": data}
        self.next_mutation += 1
        return mutation


async def enrol(base_url: str, enrolment: Enrolment, number: int) -> Tablet:
    client = httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(120, connect=30),
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    body = {"code": enrolment.code, "installation_id": str(uuid.uuid4()), "label": f"Charge {number}"}
    response = await client.post("/api/v1/devices/enrol", json=body)
    if response.status_code != 201:
        raise RuntimeError(f"enrolment refused: {response.status_code} {response.text[:200]}")
    client.headers["Authorization"] = f"Bearer {response.json()['device_token']}"
    return Tablet(client, enrolment, random.Random(SEED + number))


async def timed(
    what: str, request: Coroutine[Any, Any, httpx.Response], samples: Samples, times: list[float]
) -> Any:
    """The JSON of a 200 answer, its time added to ``times``; None, with the error noted, otherwise."""
    began = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError as exc:
        samples.errors.append(f"{what}: {exc!r}")
        return None
    times.append(time.perf_counter() - began)
    if response.status_code != 200:
        samples.errors.append(f"{what}: {response.status_code} {response.text[:200]}")
        return None
    return response.json()


async def push(tablet: Tablet, batch_size: int, samples: Samples) -> None:
    mutations = tablet.batch(batch_size)
    body = {"device_time": datetime.now(UTC).isoformat(), "mutations": mutations}
    answer = await timed("push", tablet.client.post("/api/v1/sync/push", json=body), samples, samples.push)
    if answer is None:
        return
    statuses = {r["status"] for r in answer["results"]}
    if statuses != {"applied"}:
        samples.errors.append(f"push: results {sorted(statuses)}")
        return
    samples.observations += sum(1 for m in mutations if m["entity"] == "observation")


async def pull(tablet: Tablet, samples: Samples) -> None:
    while True:
        request = tablet.client.get("/api/v1/sync/pull", params={"cursor": tablet.cursor, "limit": 500})
        page = await timed("pull", request, samples, samples.pull)
        if page is None:
            return
        tablet.cursor = page["cursor"]
        if not page["has_more"]:
            return


async def run_tablet(tablet: Tablet, deadline: float, batch: int, think: float, samples: Samples) -> None:
    while time.perf_counter() < deadline:
        await push(tablet, batch, samples)
        await pull(tablet, samples)
        if think:
            await asyncio.sleep(think * (0.5 + tablet.rng.random()))


# --- one level ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Level:
    tablets: int
    seconds: float
    pushes: int
    pulls: int
    observations: int
    errors: list[str]
    push_ms: tuple[float, float, float]  # p50, p95, p99
    pull_ms: tuple[float, float, float]
    all_ms: tuple[float, float, float]

    @property
    def requests_per_second(self) -> float:
        return (self.pushes + self.pulls) / self.seconds

    @property
    def observations_per_second(self) -> float:
        return self.observations / self.seconds

    def as_json(self) -> dict[str, Any]:
        return {
            "tablets": self.tablets,
            "seconds": round(self.seconds, 2),
            "pushes": self.pushes,
            "pulls": self.pulls,
            "observations": self.observations,
            "requests_per_second": round(self.requests_per_second, 1),
            "observations_per_second": round(self.observations_per_second, 1),
            "push_ms": dict(zip(("p50", "p95", "p99"), self.push_ms, strict=True)),
            "pull_ms": dict(zip(("p50", "p95", "p99"), self.pull_ms, strict=True)),
            "all_ms": dict(zip(("p50", "p95", "p99"), self.all_ms, strict=True)),
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
        }


def quantiles_ms(values: Sequence[float]) -> tuple[float, float, float]:
    return (
        round(percentile(values, 0.50) * 1000, 1),
        round(percentile(values, 0.95) * 1000, 1),
        round(percentile(values, 0.99) * 1000, 1),
    )


async def run_level(
    base_url: str, enrolments: list[Enrolment], seconds: float, batch: int, think: float
) -> Level:
    gate = asyncio.Semaphore(20)

    async def enrol_one(number: int, enrolment: Enrolment) -> Tablet:
        async with gate:
            return await enrol(base_url, enrolment, number)

    tablets = await asyncio.gather(*(enrol_one(n, e) for n, e in enumerate(enrolments)))
    samples = Samples()
    began = time.perf_counter()
    deadline = began + seconds
    try:
        await asyncio.gather(*(run_tablet(t, deadline, batch, think, samples) for t in tablets))
    finally:
        elapsed = time.perf_counter() - began
        await asyncio.gather(*(t.client.aclose() for t in tablets))
    return Level(
        tablets=len(tablets),
        seconds=elapsed,
        pushes=len(samples.push),
        pulls=len(samples.pull),
        observations=samples.observations,
        errors=samples.errors,
        push_ms=quantiles_ms(samples.push),
        pull_ms=quantiles_ms(samples.pull),
        all_ms=quantiles_ms(samples.push + samples.pull),
    )


# --- report ------------------------------------------------------------------------------------------


def table(levels: Sequence[Level]) -> str:
    header = (
        "tablets",
        "req/s",
        "obs/s",
        "push p50/p95/p99 ms",
        "pull p50/p95/p99 ms",
        "all p50/p95/p99 ms",
        "errors",
    )

    def trio(values: tuple[float, float, float]) -> str:
        return "/".join(f"{v:.0f}" for v in values)

    rows = [
        (
            str(level.tablets),
            f"{level.requests_per_second:,.0f}",
            f"{level.observations_per_second:,.0f}",
            trio(level.push_ms),
            trio(level.pull_ms),
            trio(level.all_ms),
            str(len(level.errors)),
        )
        for level in levels
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tablets",
        default=",".join(str(n) for n in DEFAULT_LEVELS),
        help="comma-separated numbers of concurrent tablets, one level each (default 10,50,200)",
    )
    parser.add_argument("--seconds", type=float, default=20, help="duration of each level (default 20)")
    parser.add_argument("--batch", type=int, default=20, help="observations per push (default 20)")
    parser.add_argument(
        "--think", type=float, default=0, help="mean pause between syncs, seconds (default 0)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=max(2, os.cpu_count() or 2),
        help="server processes (default: CPUs, >= 2)",
    )
    parser.add_argument(
        "--postgres-url", default=DEFAULT_POSTGRES_URL, help="where to make the throwaway database"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON here")
    parser.add_argument("--server-log", type=Path, metavar="PATH", help="keep the server's log here")
    args = parser.parse_args(argv)
    try:
        args.levels = [int(n) for n in args.tablets.split(",") if n.strip()]
    except ValueError:
        parser.error("--tablets: comma-separated whole numbers")
    if not args.levels or min(args.levels) < 1 or args.seconds <= 0 or not 1 <= args.batch <= 499:
        parser.error("--tablets >= 1, --seconds > 0, 1 <= --batch <= 499")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    levels: list[Level] = []
    with (
        tempfile.TemporaryDirectory(prefix="vigie-load-") as directory,
        throwaway_postgres(args.postgres_url, prefix="vigie_load") as url,
    ):
        progress("preparing the database (demo programme)…")
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            build_demo(session, seed=SEED)
        engine.dispose()
        with vigie_serve(url, Path(directory) / "server.log", args.workers, timeout=120) as base_url:
            for count in args.levels:
                enrolments = issue_codes(url, count, len(levels))
                progress(f"{count} tablets for {args.seconds:g} s…")
                level = asyncio.run(run_level(base_url, enrolments, args.seconds, args.batch, args.think))
                levels.append(level)
                progress(
                    f"  {level.requests_per_second:,.0f} req/s, p95 {level.all_ms[1]:.0f} ms, "
                    f"{len(level.errors)} errors"
                )
        if args.server_log:
            shutil.copyfile(Path(directory) / "server.log", args.server_log)
    print(
        f"Load: concurrent tablets, each pushing {args.batch} observations then pulling, closed loop, "
        f"{args.seconds:g} s a level; vigie serve --workers {args.workers} on PostgreSQL, "
        f"{os.cpu_count()} CPUs shared with the load generator"
    )
    print(table(levels))
    for level in levels:
        for error in level.errors[:3]:
            print(f"  {level.tablets} tablets: {error}")
    if args.json:
        report = {
            "workers": args.workers,
            "batch": args.batch,
            "think_seconds": args.think,
            "cpus": os.cpu_count(),
            "levels": [level.as_json() for level in levels],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if any(level.errors for level in levels) else 0


if __name__ == "__main__":
    raise SystemExit(main())
