"""How fast the XLSX export is, and whether the CSV export's memory stays flat as rows grow.

Builds a SQLite database with the demo programme and then N generated observations (inserted with one
INSERT … SELECT over a recursive counter, so a million rows take seconds), and measures, each in a
fresh process so one measurement does not inflate the other:

- the XLSX export of 100,000 observations (target: under 10 s);
- the CSV export streamed to a file: resident memory after 100,000 rows and at the end of 1,000,000,
  and the peak (VmHWM).

    .venv/bin/python -m bench.exports                 # 100,000 for XLSX, 1,000,000 for CSV
    .venv/bin/python -m bench.exports --csv-rows 200000 --xlsx-rows 20000
    .venv/bin/python -m bench.exports --only xlsx      # one of the two measurements
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import build_demo
from backend.db import make_engine
from backend.exports.csv import csv_chunks
from backend.exports.rows import ExportScope, iter_export_rows
from backend.exports.service import ExportFormat, start_export, write_export_file
from backend.migrate import upgrade
from backend.privacy.service import screen_notes
from backend.review.filters import ObservationFilter

CATEGORIES = ("interruption", "double_entry", "login", "system_failure", "alert", "paper")
NOTE = "Appel du bureau des entrées pendant la préparation des piluliers ; saisie reprise du début."


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    """Writing 5 to clear_refs resets VmHWM (Linux 4.0+), so the peak measured is the export's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        print("(could not reset the peak memory counter: the peak includes building the database)")


def build_database(path: Path, rows: int) -> str:
    """The demo programme plus ``rows`` generated observations spread over its visits."""
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        summary = build_demo(session)
        visits = session.exec(select(models.Visit).order_by(col(models.Visit.started_at))).all()
        visit = visits[0]
        categories = " ".join(f"WHEN {i} THEN '{code}'" for i, code in enumerate(CATEGORIES))
        session.execute(
            text(
                f"""
                WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < :rows)
                INSERT INTO observation (id, visit_id, structure_id, observer_id, occurred_at, category, role,
                    tool, effect, severity, note, note_masked, created_at, updated_at, version, deleted,
                    received_at, review_status, server_seq, privacy_flagged)
                SELECT printf('%032x', 1000000000 + n), :visit, :structure, :observer,
                    datetime('2026-01-05 06:00:00', '+' || (n * 7) || ' seconds') || '.000000',
                    CASE n % {len(CATEGORIES)} {categories} END, 'ide', 'patient_record', 'negative', 2,
                    CASE WHEN n % 3 = 0 THEN :note END, CASE WHEN n % 3 = 0 THEN :note_masked END,
                    '2026-01-05 06:00:00.000000', '2026-01-05 06:00:00.000000', 1, 0,
                    '2026-01-05 06:00:00.000000', 'to_review', 0, 0
                FROM counter
                """
            ),
            {
                "rows": rows,
                "visit": visit.id.hex,
                "structure": visit.structure_id,
                "observer": visit.observer_id,
                "note": NOTE,
                # As the screening worker leaves a pushed note (backend/privacy/pending.py): a read then
                # serves the stored masked text rather than running the detector on every row.
                "note_masked": screen_notes([NOTE])[NOTE].masked,
            },
        )
        session.execute(
            text(
                "INSERT INTO observation_attribute_value (observation_id, attribute, code, structure_id, "
                "occurred_at, deleted) "
                "SELECT id, 'dimension', 'rhythm', structure_id, occurred_at, deleted FROM observation "
                "WHERE server_seq = 0 AND category = 'login'"
            )
        )
        session.commit()
        print(f"database: {summary.observations + rows:,} observations in {path}", flush=True)
    engine.dispose()
    return url


def measure_xlsx(url: str, output: Path) -> dict[str, float]:
    engine = make_engine(url)
    with Session(engine) as session:
        started_at, cpu_started_at = time.perf_counter(), time.process_time()
        scope = ExportScope(criteria=ObservationFilter(programme_id=1))
        started = start_export(session, scope, ExportFormat.XLSX, actor_user_id=None, via="bench")
        write_export_file(started, str(output))
        seconds, cpu_seconds = time.perf_counter() - started_at, time.process_time() - cpu_started_at
    engine.dispose()
    # The processor time too: on a shared machine the elapsed time also counts other people's work.
    return {
        "rows": started.rows,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "bytes": output.stat().st_size,
    }


def measure_csv(url: str, output: Path) -> dict[str, float]:
    """Stream the CSV to a file, reading the resident memory as rows go by."""
    engine = make_engine(url)
    samples: dict[int, int] = {}
    rows = 0

    def counted() -> object:
        nonlocal rows
        for row in iter_export_rows(session, ExportScope(criteria=ObservationFilter(programme_id=1))):
            rows += 1
            if rows % 100_000 == 0:
                samples[rows] = _status_kib("VmRSS")
            yield row

    _reset_peak()  # the peak so far is building the database, not exporting
    with Session(engine) as session, output.open("wb") as out:
        started_at = time.perf_counter()
        for chunk in csv_chunks(counted()):  # type: ignore[arg-type]
            out.write(chunk)
        seconds = time.perf_counter() - started_at
    engine.dispose()
    return {
        "rows": rows,
        "seconds": seconds,
        "rss_kib_by_rows": samples,  # type: ignore[dict-item]
        "peak_rss_kib": _status_kib("VmHWM"),
        "bytes": output.stat().st_size,
    }


def _child(part: str, rows: int, workdir: Path) -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.exports",
            "--part",
            part,
            "--rows",
            str(rows),
            "--workdir",
            str(workdir),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    print(done.stdout.rsplit("RESULT ", 1)[0], end="")
    result: dict[str, object] = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("xlsx", "csv"), help="run one of the two measurements")
    parser.add_argument("--part", choices=("xlsx", "csv"), help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--rows", type=int)
    parser.add_argument("--workdir", type=Path)
    arguments = parser.parse_args()

    if arguments.part:  # one measurement, in its own process
        database = arguments.workdir / f"{arguments.part}.db"
        url = build_database(database, arguments.rows)
        measure = measure_xlsx if arguments.part == "xlsx" else measure_csv
        result = measure(url, arguments.workdir / f"export.{arguments.part}")
        print("RESULT " + json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        if arguments.only in (None, "xlsx"):
            xlsx = _child("xlsx", arguments.xlsx_rows, workdir)
            print(
                f"XLSX: {xlsx['rows']:,} observations in {xlsx['seconds']:.1f} s "
                f"(CPU {xlsx['cpu_seconds']:.1f} s; {int(str(xlsx['bytes'])) / 1e6:.1f} MB; target < 10 s)"
            )
        if arguments.only == "xlsx":
            return
        csv_result = _child("csv", arguments.csv_rows, workdir)
        samples = {int(k): v for k, v in dict(csv_result["rss_kib_by_rows"]).items()}  # type: ignore[call-overload]
        print(
            f"CSV: {csv_result['rows']:,} rows streamed in {csv_result['seconds']:.1f} s "
            f"({int(str(csv_result['bytes'])) / 1e6:.0f} MB)"
        )
        for count, kib in sorted(samples.items()):
            print(f"  resident memory after {count:>9,} rows: {kib / 1024:6.1f} MiB")
        print(f"  peak resident memory (VmHWM): {int(str(csv_result['peak_rss_kib'])) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
