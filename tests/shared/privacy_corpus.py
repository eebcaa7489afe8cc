"""The privacy guard's corpus (``privacy_corpus.txt``) as typed examples, plus the demo data's notes,
which are ordinary work sentences and must never be flagged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backend.admin import demo_data
from shared.privacy import IdentifierKind

CORPUS_FILE = Path(__file__).with_name("privacy_corpus.txt")


@dataclass(frozen=True)
class Example:
    text: str
    kinds: frozenset[IdentifierKind]  # what a careful reader sees in the text; empty: nothing to hide
    known_limit: bool = False  # the guard is known to get this one wrong (a miss or a false alarm)

    @property
    def expected_by_guard(self) -> frozenset[IdentifierKind] | None:
        """What the guard finds today: the truth, except on a known limit (None: "finds something")."""
        if not self.known_limit:
            return self.kinds
        return frozenset() if self.kinds else None


def parse_corpus(lines: list[str]) -> list[Example]:
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, separator, text = line.partition(" | ")
        if not separator:
            raise ValueError(f"privacy corpus line {number}: expected 'label | text'")
        text = text.rstrip("\n").replace("\\u00a0", "\u00a0")
        if label == "-":
            examples.append(Example(text, frozenset()))
        elif label == "alarm":
            examples.append(Example(text, frozenset(), known_limit=True))
        elif label.startswith("miss:"):
            kinds = frozenset(IdentifierKind(k) for k in label.removeprefix("miss:").split(","))
            examples.append(Example(text, kinds, known_limit=True))
        elif label.startswith("+"):
            examples.append(Example(text, frozenset(IdentifierKind(k) for k in label[1:].split(","))))
        else:
            raise ValueError(f"privacy corpus line {number}: unknown label {label!r}")
    return examples


def demo_notes() -> list[str]:
    notes = [note for category_notes in demo_data.NOTES.values() for note in category_notes]
    return [*notes, "Matinée chargée : deux entrées.", "Effectif complet."]


def corpus() -> list[Example]:
    examples = parse_corpus(CORPUS_FILE.read_text(encoding="utf-8").splitlines())
    return examples + [Example(note, frozenset()) for note in demo_notes()]
