"""How often the privacy guard is wrong on its corpus, and how long it takes on a full note.

Reads the corpus the tests check (tests/shared/privacy_corpus.txt, plus the demo data's notes as
negatives) and prints false positive and false negative rates, overall and per kind.

    .venv/bin/python -m bench.privacy_tablet
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from backend.admin import demo_data
from shared.privacy import IdentifierKind, find_identifiers

CORPUS_FILE = Path(__file__).resolve().parent.parent / "tests" / "shared" / "privacy_corpus.txt"


def labelled_texts() -> list[tuple[str, frozenset[str]]]:
    """(text, kinds a careful reader sees): "+kinds" and "miss:kinds" lines hold identifiers, "-" and
    "alarm" lines none (the label format is described at the top of the corpus file)."""
    examples = []
    for line in CORPUS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, text = line.partition(" | ")
        text = text.replace("\\u00a0", "\u00a0")
        kinds = label.removeprefix("+").removeprefix("miss:")
        examples.append((text, frozenset() if label in {"-", "alarm"} else frozenset(kinds.split(","))))
    notes = [note for category_notes in demo_data.NOTES.values() for note in category_notes]
    return examples + [(note, frozenset()) for note in notes]


def main() -> None:
    examples = labelled_texts()
    positives = [(t, k) for t, k in examples if k]
    negatives = [t for t, k in examples if not k]
    false_alarms = [t for t in negatives if find_identifiers(t)]
    misses = [t for t, _ in positives if not find_identifiers(t)]
    print(f"corpus: {len(positives)} texts with identifiers, {len(negatives)} without")
    print(
        f"false positive rate: {len(false_alarms)}/{len(negatives)} "
        f"= {len(false_alarms) / len(negatives):.1%}"
    )
    print(f"false negative rate: {len(misses)}/{len(positives)} = {len(misses) / len(positives):.1%}")
    wanted: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for text, kinds in positives:
        seen = {m.kind.value for m in find_identifiers(text)}
        for kind in kinds:
            wanted[kind] += 1
            found[kind] += kind in seen
    for kind in IdentifierKind:
        print(f"  {kind.value:<18} found {found[kind.value]}/{wanted[kind.value]}")
    for text in false_alarms:
        print(f"  false alarm: {text}")
    for text in misses:
        print(f"  missed:      {text}")

    note = ("Appel du bureau des entrées pendant la préparation des piluliers, ch. 12 Mme Dupont. " * 30)[
        :2000
    ]
    runs = 500
    started = time.perf_counter()
    for _ in range(runs):
        find_identifiers(note)
    per_note = (time.perf_counter() - started) / runs
    print(f"speed: {per_note * 1000:.2f} ms per 2,000-character note (one keystroke's check)")


if __name__ == "__main__":
    main()
