"""Text as the detector reads it: Unicode NFKC (full-width digits, ligatures), invisible characters gone,
with a map back to the original positions so that masking replaces exactly what the observer typed."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Zero-width and formatting characters that hide inside numbers and names typed or pasted on a tablet.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")


@dataclass(frozen=True)
class Normalised:
    text: str
    origin: list[int]  # origin[i]: index in the original text of normalised character i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of normalised characters ``start:end``."""
        return self.origin[start], self.origin[end - 1] + 1


def normalise(original: str) -> Normalised:
    if original.isascii():
        return Normalised(original, list(range(len(original))))
    characters: list[str] = []
    origin: list[int] = []
    for index, character in enumerate(original):
        if character in INVISIBLE:
            continue
        folded = unicodedata.normalize("NFKC", character) if not character.isascii() else character
        if character in "\u00a0\u202f\u2007":
            folded = " "
        for piece in folded:
            characters.append(piece)
            origin.append(index)
    return Normalised("".join(characters), origin)
