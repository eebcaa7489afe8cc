"""Every benchmark of the repository, one after the other, and one table of what they measured.

Run from the repository root: ``python -m bench.all [--quick] [--skip load,dashboard] [--json PATH]``.

Each benchmark runs in its own process, as it would by hand (``python -m bench.<name>``); its figures
are read from its ``--json`` file where it writes one (sync_ingest, load), else from the lines it
prints. The table gives, per figure, the target from the issues, the measured value and, where the
benchmark has one, the ratio to the raw-database baseline. ``--quick`` runs smaller sizes (stated in
each figure; a target set for a larger size is then only indicative). Full outputs are kept in
``--logs`` (a temporary folder by default). It prints figures, it asserts none; the exit status is 1 if
a benchmark failed or the load test saw errors.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Row:
    bench: str
    figure: str
    target: str
    measured: str
    vs_raw: str = ""  # the ratio to the raw-database baseline, where the benchmark has one
    verdict: str = ""  # met, NOT met, or empty when the target is "report it"


Reader = Callable[[str, Any], list[Row]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    read: Reader
    writes_json: bool = False
    timeout: float = 3600


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def number(text: str) -> float:
    return float(text.replace(",", ""))


def search(pattern: str, output: str) -> re.Match[str]:
    found = re.search(pattern, output)
    if found is None:
        raise LookupError(pattern)
    return found


# --- reading each benchmark's figures ----------------------------------------------------------------


def read_sync_ingest(_output: str, figures: Any) -> list[Row]:
    rows = []
    for f in figures:
        database, count = f["database"], f["count"]
        rows.append(
            Row(
                "sync_ingest",
                f"push ingest ({database}, {count:,} obs)",
                "≥ 0.5 × raw insert",
                f"{f['api_obs_per_second']:,.0f} obs/s (raw {f['raw_obs_per_second']:,.0f}), medians; "
                f"per run {' '.join(f'{r:.2f}' for r in f['run_ratios'])}",
                f"{f['ratio_api_raw']:.2f}",
                verdict(f["ratio_api_raw"] >= 0.5),
            )
        )
        seconds = f["api_seconds_per_10000"]
        rows.append(
            Row(
                "sync_ingest",
                f"10,000 observations pushed ({database})",
                "< 3 s",
                f"{seconds:.2f} s",
                verdict=verdict(seconds < 3),
            )
        )
    return rows


def read_tablet(output: str, _figures: Any) -> list[Row]:
    tap = search(r"tap -> committed in SQLite \((\d+) taps\): p50 ([\d.]+) ms, p95 ([\d.]+) ms", output)
    backlog = search(
        r"sync of a (\d+)-mutation backlog \(SQLite server\): ([\d.]+) s \(([\d,]+) mutations/s\)", output
    )
    p95 = number(tap.group(3))
    return [
        Row(
            "tablet",
            f"tap to committed observation ({tap.group(1)} taps)",
            "p95 < 20 ms",
            f"p50 {tap.group(2)} ms, p95 {tap.group(3)} ms",
            verdict=verdict(p95 < 20),
        ),
        Row(
            "tablet",
            f"sync of a {int(backlog.group(1)):,}-mutation backlog",
            "report",
            f"{backlog.group(2)} s ({backlog.group(3)} mutations/s)",
        ),
    ]


def read_dashboard(output: str, _figures: Any) -> list[Row]:
    filled = search(r"filled ([\d,]+) observations", output)
    median = search(r"all aggregate queries together: median ([\d.]+) ms", output)
    milliseconds = number(median.group(1))
    rows = [
        Row(
            "dashboard",
            f"structure dashboard ({filled.group(1)} obs in PostgreSQL)",
            "< 150 ms",
            f"{milliseconds:.0f} ms (median)",
            verdict=verdict(milliseconds < 150),
        )
    ]
    for label in ANALYSES:
        analysis = search(rf"{re.escape(label)}: median ([\d.]+) ms", output)
        taken = number(analysis.group(1))
        rows.append(
            Row(
                "dashboard",
                f"{label} ({filled.group(1)} obs)",
                "< 300 ms",
                f"{taken:.0f} ms (median)",
                verdict=verdict(taken < 300),
            )
        )
    return rows


ANALYSES = ("before/after a milestone", "two structures compared", "weekly trends", "visit timeline")


def read_exports(output: str, _figures: Any) -> list[Row]:
    xlsx = search(r"XLSX: ([\d,]+) observations in ([\d.]+) s", output)
    csv = search(r"CSV: ([\d,]+) rows streamed in ([\d.]+) s", output)
    peak = search(r"peak resident memory \(VmHWM\): ([\d.]+) MiB", output)
    resident = [number(m) for m in re.findall(r"resident memory after\s+[\d,]+ rows:\s+([\d.]+) MiB", output)]
    growth = f", {resident[-1] - resident[0]:+.1f} MiB from first to last sample" if len(resident) > 1 else ""
    seconds = number(xlsx.group(2))
    return [
        Row(
            "exports",
            f"XLSX export ({xlsx.group(1)} obs)",
            "< 10 s",
            f"{seconds:.1f} s",
            verdict=verdict(seconds < 10),
        ),
        Row(
            "exports",
            f"CSV export streamed ({csv.group(1)} rows)",
            "flat memory",
            f"{number(csv.group(2)):.1f} s, peak RSS {peak.group(1)} MiB{growth}",
        ),
    ]


def read_privacy_guard(output: str, _figures: Any) -> list[Row]:
    """The server's detector on the adversarial corpus (issue 13's targets)."""
    server = output.split("== tablet rules", 1)[0]
    recall = search(r"recall overall: (\d+)/(\d+) = ([\d.]+)%", server)
    changed = search(r"notes without identifiers changed: (\d+)/(\d+) = ([\d.]+)%", server)
    speed = search(r"speed: (\d+) notes/s", output)
    worst = min(float(m.group(1)) for m in re.finditer(r"recall \w+ +\d+/\d+ = ([\d.]+)%", server))
    return [
        Row("privacy_guard", "recall of identifiers, overall", "≥ 98 %", f"{recall.group(3)} %",
            verdict=verdict(float(recall.group(3)) >= 98)),
        Row("privacy_guard", "recall of the weakest kind", "≥ 95 %", f"{worst} %",
            verdict=verdict(worst >= 95)),
        Row("privacy_guard", "notes without identifiers changed", "≤ 2 %", f"{changed.group(3)} %",
            verdict=verdict(float(changed.group(3)) <= 2)),
        Row("privacy_guard", "notes screened per second (one process)", "≥ 500", speed.group(1),
            verdict=verdict(int(speed.group(1)) >= 500)),
    ]  # fmt: skip


def read_privacy_tablet(output: str, _figures: Any) -> list[Row]:
    positives = search(r"false positive rate: (\d+)/(\d+) = ([\d.]+%)", output)
    negatives = search(r"false negative rate: (\d+)/(\d+) = ([\d.]+%)", output)
    speed = search(r"speed: ([\d.]+) ms per 2,000-character note", output)
    return [
        Row(
            "privacy_tablet",
            "false positives (ordinary clinical sentences)",
            "low, measured",
            f"{positives.group(3)} ({positives.group(1)}/{positives.group(2)})",
        ),
        Row(
            "privacy_tablet",
            "false negatives (notes naming a patient)",
            "measured",
            f"{negatives.group(3)} ({negatives.group(1)}/{negatives.group(2)})",
        ),
        Row("privacy_tablet", "check of a 2,000-character note", "report", f"{speed.group(1)} ms"),
    ]


def read_load(_output: str, report: Any) -> list[Row]:
    rows = []
    for level in report["levels"]:
        latency = level["all_ms"]
        rows.append(
            Row(
                "load",
                f"{level['tablets']} tablets push+pull ({report['workers']} workers, PostgreSQL)",
                "0 errors",
                f"{level['requests_per_second']:,.0f} req/s, {level['observations_per_second']:,.0f} obs/s; "
                f"p50/p95/p99 {latency['p50']:.0f}/{latency['p95']:.0f}/{latency['p99']:.0f} ms; "
                f"{level['errors']} errors",
                verdict=verdict(level["errors"] == 0),
            )
        )
    return rows


BENCHMARKS = (
    Benchmark("privacy_guard", (), (), read_privacy_guard, timeout=600),
    Benchmark("privacy_tablet", (), (), read_privacy_tablet, timeout=600),
    Benchmark("tablet", (), ("--taps", "300", "--backlog", "2000"), read_tablet),
    Benchmark("sync_ingest", (), ("--count", "2000"), read_sync_ingest, writes_json=True),
    Benchmark("load", (), ("--tablets", "10,50,200", "--seconds", "8"), read_load, writes_json=True),
    Benchmark("exports", (), ("--xlsx-rows", "20000", "--csv-rows", "200000"), read_exports),
    Benchmark("dashboard", (), ("--observations", "200000", "--runs", "3"), read_dashboard),
)


# --- running them ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    bench: str
    seconds: float
    returncode: int
    rows: list[Row]
    log: Path


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(benchmark: Benchmark, quick: bool, logs: Path) -> Outcome:
    command = [
        sys.executable,
        "-m",
        f"bench.{benchmark.name}",
        *(benchmark.quick if quick else benchmark.full),
    ]
    json_path = logs / f"{benchmark.name}.json"
    if benchmark.writes_json:
        command += ["--json", str(json_path)]
    log = logs / f"{benchmark.name}.log"
    progress(f"[{benchmark.name}] {' '.join(command[1:])}")
    began = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=benchmark.timeout, check=False
        )
        output, returncode = done.stdout, done.returncode
        log.write_text(done.stdout + "\n--- stderr ---\n" + done.stderr, encoding="utf-8")
    except subprocess.TimeoutExpired as exc:
        output, returncode = str(exc.stdout or ""), -1
        log.write_text(output + f"\n--- timed out after {benchmark.timeout:g} s ---\n", encoding="utf-8")
    seconds = time.perf_counter() - began
    figures = json.loads(json_path.read_text(encoding="utf-8")) if json_path.exists() else None
    try:
        rows = benchmark.read(output, figures)
    except (LookupError, KeyError, TypeError, ValueError):
        rows = [Row(benchmark.name, "(figures not found in its output)", "", f"see {log}", verdict="failed")]
    if returncode != 0 and all(r.verdict != "failed" for r in rows):
        rows.append(Row(benchmark.name, f"exit status {returncode}", "0", f"see {log}", verdict="failed"))
    progress(f"[{benchmark.name}] {seconds:.0f} s")
    return Outcome(benchmark.name, seconds, returncode, rows, log)


def table(rows: Sequence[Row]) -> str:
    header = ("benchmark", "figure", "target", "measured", "vs raw DB", "verdict")
    cells = [header, *((r.bench, r.figure, r.target, r.measured, r.vs_raw, r.verdict) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    names = [b.name for b in BENCHMARKS]
    parser = argparse.ArgumentParser(prog="python -m bench.all", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes: minutes instead of a quarter hour"
    )
    parser.add_argument(
        "--skip", default="", help=f"comma-separated benchmarks to leave out ({', '.join(names)})"
    )
    parser.add_argument("--only", default="", help="comma-separated benchmarks to run, the others left out")
    parser.add_argument(
        "--logs", type=Path, help="folder for each benchmark's full output (default: temporary)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the table as JSON here")
    args = parser.parse_args(argv)
    skip = {n.strip() for n in args.skip.split(",") if n.strip()}
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = (skip | only) - set(names)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose among {', '.join(names)}")
    args.selected = [b for b in BENCHMARKS if b.name not in skip and (not only or b.name in only)]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    logs.mkdir(parents=True, exist_ok=True)
    outcomes = [run(benchmark, args.quick, logs) for benchmark in args.selected]
    rows = [row for outcome in outcomes for row in outcome.rows]
    size = "quick sizes" if args.quick else "full sizes"
    took = ", ".join(f"{o.bench} {o.seconds:.0f} s" for o in outcomes)
    print(f"Vigie benchmarks ({size}; {took}); full outputs in {logs}")
    print(table(rows))
    if args.json:
        report = {
            "quick": args.quick,
            "rows": [row.__dict__ for row in rows],
            "seconds": {o.bench: round(o.seconds, 1) for o in outcomes},
        }
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    failed = any(o.returncode != 0 for o in outcomes) or any(r.verdict == "failed" for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
