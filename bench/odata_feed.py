"""The OData feed paged through as Power BI reads it, beside the CSV export of the same observations.

Builds the SQLite database of ``bench.exports`` (the demo programme plus N generated observations), then,
each in a fresh process: follows ``@odata.nextLink`` through every page of ``/odata/v4/observations`` over
HTTP (the app in-process, Starlette's test client: the JSON is really built and parsed), checking that each
observation comes exactly once, and reading resident memory as pages go by; then streams the CSV export.

    .venv/bin/python -m bench.odata_feed                  # 1,000,000 observations
    .venv/bin/python -m bench.odata_feed --rows 100000
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import DEMO_ADMIN_EMAIL
from backend.db import make_engine
from backend.main import create_app
from backend.odata.tokens import create_feed_token
from backend.settings import Settings
from bench.exports import _reset_peak, _status_kib, build_database, measure_csv

SAMPLE_EVERY = 100_000


def measure_feed(url: str) -> dict[str, object]:
    engine = make_engine(url)
    with Session(engine) as session:
        admin = session.exec(select(models.User).where(models.User.email == DEMO_ADMIN_EMAIL)).one()
        token, _record = create_feed_token(session, admin, "bench", actor_user_id=admin.id, via="bench")
    credentials = base64.b64encode(f"bench:{token}".encode()).decode()
    client = TestClient(create_app(Settings(database_url=url), engine=engine))
    headers = {"Authorization": f"Basic {credentials}"}
    # The ids read go to a file, counted at the end: a million strings kept in this process would
    # weigh in its memory, which is the feed's that is measured.
    ids_file = Path(url.removeprefix("sqlite:///")).with_suffix(".ids")
    rows = pages = 0
    samples: dict[int, int] = {}
    _reset_peak()
    started_at, cpu_started_at = time.perf_counter(), time.process_time()
    next_url: str | None = "/odata/v4/observations"
    with ids_file.open("w") as ids:
        while next_url is not None:
            response = client.get(next_url, headers=headers)
            response.raise_for_status()
            body = response.json()
            pages += 1
            for row in body["value"]:
                ids.write(row["observation_id"] + "\n")
                rows += 1
                if rows % SAMPLE_EVERY == 0:
                    samples[rows] = _status_kib("VmRSS")
            next_url = body.get("@odata.nextLink")
    seconds, cpu_seconds = time.perf_counter() - started_at, time.process_time() - cpu_started_at
    peak = _status_kib("VmHWM")
    with ids_file.open() as ids:
        read = {line.strip() for line in ids}
    with Session(engine) as session:  # every observation of the database, none missing
        kept = select(models.Observation.id).where(col(models.Observation.deleted).is_(False))
        stored = {str(i) for i in session.exec(kept).all()}
    engine.dispose()
    return {
        "rows": rows,
        "repeated": rows - len(read),
        "missing": len(stored - read),
        "pages": pages,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rss_kib_by_rows": samples,
        "peak_rss_kib": peak,
    }


def _child(part: str, rows: int, workdir: Path) -> dict[str, object]:
    command = [sys.executable, "-m", "bench.odata_feed", "--part", part, "--rows", str(rows)]
    done = subprocess.run([*command, "--workdir", str(workdir)], check=True, capture_output=True, text=True)
    print(done.stdout.rsplit("RESULT ", 1)[0], end="")
    result: dict[str, object] = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    return result


def _memory(result: dict[str, object]) -> str:
    raw = result["rss_kib_by_rows"]
    assert isinstance(raw, dict)
    samples = {int(k): int(v) for k, v in raw.items()}
    by_rows = ", ".join(f"{count:,}: {kib / 1024:.0f}" for count, kib in sorted(samples.items()))
    return f"resident MiB after rows ({by_rows}); peak {int(str(result['peak_rss_kib'])) / 1024:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--part", choices=("feed", "csv"), help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--workdir", type=Path)
    arguments = parser.parse_args()

    if arguments.part:
        url = build_database(arguments.workdir / f"{arguments.part}.db", arguments.rows)
        measured = (
            measure_feed(url) if arguments.part == "feed" else measure_csv(url, arguments.workdir / "x.csv")
        )
        print("RESULT " + json.dumps(measured))
        return

    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        feed = _child("feed", arguments.rows, workdir)
        csv_result = _child("csv", arguments.rows, workdir)
    for name, result in (("OData feed", feed), ("CSV export", csv_result)):
        rows, seconds = int(str(result["rows"])), float(str(result["seconds"]))
        pages = f" in {result['pages']:,} pages" if "pages" in result else ""
        print(f"{name}: {rows:,} observations{pages}, {seconds:.1f} s, {rows / seconds:,.0f} rows/s")
        print(f"  {_memory(result)}")
    repeated, missing = feed["repeated"], feed["missing"]
    print(f"OData feed: each observation exactly once: {repeated == 0 and missing == 0}")
    print(f"  {repeated} read twice or more, {missing} never read")


if __name__ == "__main__":
    main()
