"""Benchmark (not a test): the structure dashboard's aggregate queries over 1,000,000 observations.

Builds a throwaway PostgreSQL database, fills it in SQL (``generate_series``: 8 structures, 62,500
two-hour visits, 16 observations each, with work dimensions and impacts), then times
``structure_dashboard`` for one structure (all its queries together, warm cache) and prints the EXPLAIN
ANALYZE of every query with the indexes it used. Target: under 150 ms. Then times the analyses of issue 16
on the same data: the before/after comparison at a milestone in the middle of the data, the comparison of
two structures, the weekly trends and one visit's timeline (target: median under 300 ms each), and the
observation list drilled down to one local hour of day.

On a busy machine wall times swing with the neighbours' load; the CPU time the PostgreSQL backend spent
(read from /proc when the server runs on this machine) moves much less: compare that, with ``--serial``
so that no parallel worker does part of the work out of sight.

Run from the repository root: ``python -m bench.dashboard [--observations 1000000] [--runs 7] [--serial]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, func
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from backend import models
from backend.auth.users import UserRole
from backend.dashboards.rate_comparison import (
    PeriodsAsked,
    StructuresAsked,
    compare_periods,
    compare_structures,
)
from backend.dashboards.service import structure_dashboard
from backend.dashboards.trends import structure_trends
from backend.db import make_engine
from backend.migrate import upgrade
from backend.review.filters import ObservationFilter
from backend.review.service import list_observations
from backend.review.visits import visit_view
from bench.databases import DEFAULT_POSTGRES_URL, throwaway_postgres

STRUCTURES = 8
PER_VISIT = 16
CATEGORIES = (
    "interruption", "interruption", "interruption", "workaround", "double_entry", "system_failure",
    "login", "alert", "information_search", "paper", "equipment", "positive_use",
)  # fmt: skip
TIMED = ("workaround", "double_entry", "system_failure", "login", "information_search")


def _sql_array(values: tuple[str, ...]) -> str:
    return "(ARRAY[" + ",".join(f"'{v}'" for v in values) + "])"


def _pick(values: tuple[str, ...]) -> str:
    """A random element, drawn again for every row."""
    return f"{_sql_array(values)}[1 + floor(random() * {len(values)})::int]"


def fill(url: str, observations: int) -> None:
    """Everything in SQL: a million rows in seconds rather than minutes of ORM inserts."""
    visits = observations // PER_VISIT
    roles = _pick(("ide", "aide_soignant", "medecin", "cadre_sante", "secretaire_medicale", "ash"))
    tools = _pick(("patient_record", "care_plan_software", "messaging", "phone", "badge", "tablet"))
    effects = _pick(("negative", "negative", "negative", "ambivalent", "positive"))
    dimensions = _pick(("work_content", "rhythm", "work_spaces", "colleague_relations", "patient_relations"))
    impacts = _pick(("qvt", "work_quality", "care_quality"))
    n_structures = STRUCTURES
    statements = [
        "SELECT setseed(0.2026)",
        "INSERT INTO programme (id, name, taxonomy_version, created_at) VALUES (1, 'Banc', '2026.1', now())",
        f"""INSERT INTO structure (id, programme_id, name, kind, timezone, created_at, server_seq)
            SELECT s, 1, 'Structure ' || s, 'hospital', 'Europe/Paris', now(), 0
            FROM generate_series(1, {n_structures}) s""",
        f"""INSERT INTO unit (id, structure_id, name, server_seq)
            SELECT (s - 1) * 3 + u, s, 'Unité ' || u, 0
            FROM generate_series(1, {n_structures}) s, generate_series(1, 3) u""",
        "INSERT INTO observer (id, programme_id, display_name, created_at) "
        "SELECT o, 1, 'Observateur ' || o, now() FROM generate_series(1, 16) o",
        # Visits of two hours, one every 163 minutes in each structure, in rotating units.
        f"""INSERT INTO visit (id, structure_id, unit_id, observer_id, started_at, ended_at, observed_roles,
                created_at, updated_at, version, deleted, received_at, server_seq)
            SELECT md5('visit' || n)::uuid, n % {n_structures} + 1,
                (n % {n_structures}) * 3 + (n / {n_structures}) % 3 + 1,
                n % 16 + 1, t, t + interval '2 hours', '[]', t, t, 1, false, t, n
            FROM (SELECT n, timestamptz '2024-01-01 05:00+00'
                            + (n / {n_structures}) * interval '163 minutes' AS t
                  FROM generate_series(1, {visits}) n) v""",
        f"""INSERT INTO observation (id, visit_id, structure_id, observer_id, occurred_at, ended_at, category,
                role, tool, effect, created_at, updated_at, version, deleted, received_at, review_status,
                server_seq, privacy_flagged)
            SELECT md5('obs' || v.server_seq || '-' || k)::uuid, v.id, v.structure_id, v.observer_id, o.at,
                CASE WHEN o.category = ANY({_sql_array(TIMED)})
                     THEN o.at + (20 + floor(random() * 520)) * interval '1 second' END,
                o.category, {roles}, {tools}, {effects}, o.at, o.at, 1, false, o.at, 'to_review',
                {visits} + v.server_seq * {PER_VISIT} + k, false
            FROM visit v, generate_series(1, {PER_VISIT}) k,
                LATERAL (SELECT v.started_at + (random() + 0 * k) * interval '110 minutes' AS at,
                                {_pick(CATEGORIES)} AS category) o""",
        f"""INSERT INTO observation_attribute_value (observation_id, attribute, code, structure_id,
                occurred_at, deleted)
            SELECT id, 'dimension', {dimensions}, structure_id, occurred_at, deleted
            FROM observation WHERE random() < 0.7""",
        f"""INSERT INTO observation_attribute_value (observation_id, attribute, code, structure_id,
                occurred_at, deleted)
            SELECT id, 'impact', {impacts}, structure_id, occurred_at, deleted
            FROM observation WHERE random() < 0.6""",
    ]
    with psycopg.connect(_libpq(url)) as connection:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _backend_cpu_ms(pid: int) -> float | None:
    """CPU time a PostgreSQL backend has used so far, when it runs on this machine (Linux)."""
    path = Path(f"/proc/{pid}/schedstat")
    return int(path.read_text().split()[0]) / 1e6 if path.exists() else None


def _bench_reader() -> models.User:
    return models.User(email="bench@vigie", full_name="Banc", role=UserRole.ADMIN.value, password_hash="-")  # noqa: S106  (never stored)


def measure(url: str, runs: int, serial: bool = False) -> None:
    engine = make_engine(url)
    reader = _bench_reader()
    captured: list[tuple[str, Any]] = []
    timings: dict[int, list[float]] = {}
    started: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        captured.append((statement, parameters))
        started.append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(
        _conn: Any, _cursor: Any, _statement: str, _parameters: Any, _context: Any, _many: bool
    ) -> None:
        timings.setdefault(len(captured) - 1, []).append((time.perf_counter() - started[-1]) * 1000)

    totals = []
    server_cpu = []
    with Session(engine) as session:
        connection = session.connection()
        if serial:
            connection.exec_driver_sql("SET max_parallel_workers_per_gather = 0")
        backend = int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        timings.clear()
        for run in range(runs + 1):  # the first run warms the cache and is not counted
            captured.clear()
            cpu_before = _backend_cpu_ms(backend)
            began = time.perf_counter()
            dashboard = structure_dashboard(session, reader, 1, ObservationFilter())
            elapsed = (time.perf_counter() - began) * 1000
            cpu_after = _backend_cpu_ms(backend)
            if run:
                totals.append(elapsed)
                if cpu_before is not None and cpu_after is not None:
                    server_cpu.append(cpu_after - cpu_before)
    print(
        f"structure 1: {dashboard.observations:,} observations, {dashboard.visits:,} visits, "
        f"{dashboard.observed_hours:,.0f} observed hours; {len(captured)} statements per dashboard"
    )
    print(
        f"structure dashboard, all aggregate queries together: median {statistics.median(totals):.1f} ms, "
        f"min {min(totals):.1f} ms over {runs} runs (target < 150 ms)"
    )
    if server_cpu:
        workers = "no parallel workers" if serial else "parallel workers not counted"
        cpu = statistics.median(server_cpu)
        print(f"  PostgreSQL backend CPU per dashboard: median {cpu:.1f} ms ({workers})")
    for index, (statement, _parameters) in enumerate(captured):
        per_query = timings.get(index, [])[1:]
        if per_query:
            summary = " ".join(statement.split())[:110]
            print(f"  query {index + 1}: median {statistics.median(per_query):6.1f} ms  {summary}…")
    print("\nEXPLAIN ANALYZE of each statement:")
    event.remove(engine, "before_cursor_execute", _before)
    event.remove(engine, "after_cursor_execute", _after)
    used: set[str] = set()
    with engine.connect() as connection:
        if serial:
            connection.exec_driver_sql("SET max_parallel_workers_per_gather = 0")
        for index, (statement, parameters) in enumerate(list(captured)):
            plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            lines = [row[0] for row in plan]
            used |= {
                m.group(2)
                for line in lines
                for m in [re.search(r"Index (Only )?Scan using (\w+)", line)]
                if m
            }
            print(f"\n-- query {index + 1}\n" + "\n".join(lines))
    print("\nindexes used:", ", ".join(sorted(used)) or "none")
    engine.dispose()


def _median_ms(
    call: Callable[[], object], runs: int, backend: int | None = None
) -> tuple[float, float, float | None]:
    """Median wall time, median CPU time of this process (the Python side: building rows, intervals,
    layouts) and, when the server runs here, median CPU time of the PostgreSQL backend per call, in ms.
    On a loaded machine the wall time swings; the CPU times much less."""
    call()  # warms the cache; not counted
    walls, cpus, servers = [], [], []
    for _ in range(runs):
        server = _backend_cpu_ms(backend) if backend is not None else None
        began, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append((time.perf_counter() - began) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        after = _backend_cpu_ms(backend) if backend is not None else None
        if server is not None and after is not None:
            servers.append(after - server)
    return statistics.median(walls), statistics.median(cpus), statistics.median(servers) if servers else None


def measure_analyses(url: str, runs: int, serial: bool = False) -> None:
    """The comparison views, the weekly trends and a visit's timeline, each on structure 1."""
    engine = make_engine(url)
    reader = _bench_reader()
    with Session(engine) as session:
        first, last = session.exec(
            select(func.min(models.Visit.started_at), func.max(models.Visit.started_at)).where(
                models.Visit.structure_id == 1
            )
        ).one()
        milestone = models.Milestone(
            structure_id=1, day=(first + (last - first) / 2).date(), label="DPI déployé"
        )
        session.add(milestone)
        session.commit()
        assert milestone.id is not None
        # After the commit: the connection the cases below run on (the same until the session ends).
        connection = session.connection()
        if serial:
            connection.exec_driver_sql("SET max_parallel_workers_per_gather = 0")
        backend = int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        visit_id = session.exec(select(models.Visit.id).where(models.Visit.structure_id == 1).limit(1)).one()
        asked = PeriodsAsked(milestone_id=milestone.id)
        two = StructuresAsked(reference_structure_id=1, compared_structure_id=2)
        cases: list[tuple[str, Callable[[], object]]] = [
            ("before/after a milestone", lambda: compare_periods(session, reader, 1, asked)),
            ("two structures compared", lambda: compare_structures(session, reader, 1, two)),
            ("weekly trends", lambda: structure_trends(session, reader, 1, ObservationFilter())),
            ("visit timeline", lambda: visit_view(session, reader, visit_id)),
            # A drill-down from an hour column: the list's first page and its count, local hour per row.
            (
                "list drilled to one local hour",
                lambda: list_observations(session, reader, ObservationFilter(structure_id=1, hour=10), None),
            ),
        ]
        for label, call in cases:
            wall, cpu, server = _median_ms(call, runs, backend)
            server_cpu = f"; PostgreSQL backend CPU {server:.1f} ms" if server is not None else ""
            print(
                f"{label}: median {wall:.1f} ms over {runs} runs (target < 300 ms); "
                f"Python CPU {cpu:.1f} ms{server_cpu}"
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--serial", action="store_true", help="no parallel workers: steadier CPU figures")
    parser.add_argument("--database", help="the URL a run with --keep printed: measure it again, unfilled")
    args = parser.parse_args()
    if args.database:  # filled by an earlier run with --keep: measure again without filling
        measure(args.database, args.runs, args.serial)
        measure_analyses(args.database, args.runs, args.serial)
        return
    admin_url = os.environ.get("VIGIE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    with throwaway_postgres(admin_url, keep=args.keep) as url:
        upgrade(url)
        began = time.perf_counter()
        fill(url, args.observations)
        name = make_url(url).database
        print(f"filled {args.observations:,} observations in {time.perf_counter() - began:.0f} s ({name})")
        measure(url, args.runs, args.serial)
        measure_analyses(url, args.runs, args.serial)


if __name__ == "__main__":
    main()
