"""The server's de-identification: rules, then names (cues, first names, spaCy), then the programme's
glossary of words never masked. ``mask_notes`` is what every export and page uses; it works on many
notes at once because the model is far faster on batches.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from backend.privacy.kinds import REPLACEMENTS, Finding, Kind
from backend.privacy.names import NameFinder, model_names
from backend.privacy.normalise import normalise
from backend.privacy.rules import structured_identifiers
from shared.taxonomy import current_taxonomy


@dataclass(frozen=True)
class Found:
    """An identifier in the text as typed."""

    kind: Kind
    start: int
    end: int
    text: str
    layer: str


@cache
def default_glossary() -> frozenset[str]:
    """Words never masked in any programme: software and devices of the wards, and the grid's tools."""
    listed = (Path(__file__).with_name("data") / "never_masked.txt").read_text(encoding="utf-8")
    words = {w for line in listed.splitlines() if not line.startswith("#") for w in line.split()}
    for value in current_taxonomy().attribute("tool").values:
        words.update(word for word in value.label("fr").replace("/", " ").split() if word[:1].isupper())
    return frozenset(words)


def find_in_notes(notes: Sequence[str], glossary: Collection[str] = ()) -> list[list[Found]]:
    """Every identifier in each note, in the note's own positions, never overlapping."""
    names = NameFinder([*default_glossary(), *glossary])
    normalised = [normalise(note) for note in notes]
    # The model is the slow layer: it reads only the notes where it could find something more.
    asks = [i for i, n in enumerate(normalised) if names.may_need_model(n.text)]
    per_note_model: list[set[int]] = [set() for _ in notes]
    for i, found in zip(asks, model_names(normalised[i].text for i in asks), strict=True):
        per_note_model[i] = found
    results: list[list[Found]] = []
    for note, norm, model in zip(notes, normalised, per_note_model, strict=True):
        findings = structured_identifiers(norm.text) + names.find(norm.text, model)
        results.append([_in_original(note, norm.span(f.start, f.end), f) for f in _disjoint(findings)])
    return results


def _in_original(note: str, span: tuple[int, int], finding: Finding) -> Found:
    start, end = span
    return Found(finding.kind, start, end, note[start:end], finding.layer)


def _disjoint(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings become one, as long as their union, of the kind found first (rules first)."""
    ordered = sorted(findings, key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for finding in ordered:
        if finding.end <= finding.start:
            continue
        if kept and finding.start < kept[-1].end:
            last = kept[-1]
            if finding.end > last.end:
                kept[-1] = Finding(last.kind, last.start, finding.end, last.layer)
            continue
        kept.append(finding)
    return kept


def mask_notes(notes: Sequence[str], glossary: Collection[str] = ()) -> list[str]:
    """Each note with every identifier replaced by what it was (« [nom] », « [téléphone] »…)."""
    return [_masked(note, found) for note, found in zip(notes, find_in_notes(notes, glossary), strict=True)]


def mask_note(note: str, glossary: Collection[str] = ()) -> str:
    return mask_notes([note], glossary)[0]


def names_someone(notes: Sequence[str], glossary: Collection[str] = ()) -> list[bool]:
    return [bool(found) for found in find_in_notes(notes, glossary)]


def _masked(note: str, found: list[Found]) -> str:
    pieces: list[str] = []
    position = 0
    for item in found:
        pieces += [note[position : item.start], REPLACEMENTS[item.kind]]
        position = item.end
    pieces.append(note[position:])
    return "".join(pieces)
