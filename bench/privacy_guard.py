"""The server's de-identification (backend/privacy) on the adversarial corpus of tests/privacy/: recall per
kind of identifier, notes without identifiers that get changed, and notes per second on one core.

    .venv/bin/python -m bench.privacy_guard [--corpus PATH] [--misses N]

An identifier counts as caught when every letter and digit of each of its occurrences lies inside what
the detector masks. Targets (issue 13): recall ≥ 98 % overall and ≥ 95 % per kind; ≤ 2 % of notes without
identifiers changed; ≥ 500 notes/s. The tablet's own rules (shared/privacy.py) are measured alongside.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from backend.privacy.detector import find_in_notes, mask_notes
from backend.privacy.kinds import Kind
from shared.privacy import find_identifiers

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "privacy" / "corpus.jsonl"
Spans = list[tuple[int, int]]


def load(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def caught(text: str, identifier: str, spans: Spans) -> bool:
    """Every alphanumeric character of every occurrence of ``identifier`` is inside a masked span."""
    covered = [False] * len(text)
    for start, end in spans:
        for index in range(start, end):
            covered[index] = True
    occurrences = [m.start() for m in re.finditer(re.escape(identifier), text)]
    if not occurrences:
        return False
    return all(covered[i] for at in occurrences for i in range(at, at + len(identifier)) if text[i].isalnum())


def server_spans(texts: Sequence[str]) -> list[Spans]:
    return [[(f.start, f.end) for f in found] for found in find_in_notes(texts)]


def tablet_spans(texts: Sequence[str]) -> list[Spans]:
    return [[(m.start, m.end) for m in find_identifiers(text)] for text in texts]


def evaluate(
    notes: list[dict[str, object]], spans_of: Callable[[Sequence[str]], list[Spans]]
) -> dict[str, object]:
    texts = [str(n["text"]) for n in notes]
    spans = spans_of(texts)
    wanted: Counter[str] = Counter()
    found: Counter[str] = Counter()
    misses: list[tuple[str, str, str]] = []
    changed_clean: list[str] = []
    clean = 0
    for note, text, note_spans in zip(notes, texts, spans, strict=True):
        identifiers = note["identifiers"]
        assert isinstance(identifiers, list)
        if not identifiers:
            clean += 1
            if note_spans:
                changed_clean.append(text)
        for identifier in identifiers:
            kind, value = identifier["kind"], identifier["text"]
            wanted[kind] += 1
            if caught(text, value, note_spans):
                found[kind] += 1
            else:
                misses.append((kind, value, text))
    return {
        "wanted": wanted,
        "found": found,
        "misses": misses,
        "changed_clean": changed_clean,
        "clean": clean,
    }


def report(title: str, result: dict[str, object], show: int) -> None:
    wanted, found = result["wanted"], result["found"]
    assert isinstance(wanted, Counter) and isinstance(found, Counter)
    total_wanted, total_found = sum(wanted.values()), sum(found.values())
    changed, clean = result["changed_clean"], result["clean"]
    assert isinstance(changed, list) and isinstance(clean, int)
    print(f"== {title}")
    print(f"recall overall: {total_found}/{total_wanted} = {total_found / total_wanted:.1%}")
    for kind in Kind:
        got, of = found[kind.value], wanted[kind.value]
        if of:
            print(f"  recall {kind.value:<15} {got}/{of} = {got / of:.1%}")
    print(f"notes without identifiers changed: {len(changed)}/{clean} = {len(changed) / clean:.1%}")
    misses = result["misses"]
    assert isinstance(misses, list)
    for kind, value, text in misses[:show]:
        print(f"  missed {kind}: {value!r} in {text!r}")
    for text in changed[:show]:
        print(f"  changed: {text!r}")


def speed(texts: list[str]) -> float:
    mask_notes(texts[:50])  # load the model first
    started = time.perf_counter()
    mask_notes(texts)
    return len(texts) / (time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--misses", type=int, default=15, help="how many misses and false alarms to print")
    args = parser.parse_args(argv)
    # One core, as the target says; spaCy (and numpy under it) is imported only when the model first runs,
    # below, so these are read in time. For a strict measure: taskset -c 0 python -m bench.privacy_guard.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    notes = load(args.corpus)
    print(f"corpus: {args.corpus} ({len(notes)} notes)")
    report("server detector (backend/privacy)", evaluate(notes, server_spans), args.misses)
    report("tablet rules (shared/privacy.py), for comparison", evaluate(notes, tablet_spans), 0)
    texts = [str(n["text"]) for n in notes]
    print(f"speed: {speed(texts):.0f} notes/s (server detector, one process, batches as at push)")


if __name__ == "__main__":
    main()
