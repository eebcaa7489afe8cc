"""The workshop pack's fonts, embedded in the PDF: DejaVu Sans (Debian's fonts-dejavu-core), whose glyphs
cover French, the typographic spaces and the usual symbols; Bitstream Vera, which ReportLab ships, where
DejaVu is not installed. A character neither has (an emoji) is written as its name between colons rather
than printed as an empty box."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import reportlab
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
VERA = Path(reportlab.__file__).parent / "fonts"
# Regular, bold, italic, bold italic: the files of each family, in that order.
FAMILIES = {
    "DejaVuSans": (
        DEJAVU,
        ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf"),
    ),
    "Vera": (VERA, ("Vera.ttf", "VeraBd.ttf", "VeraIt.ttf", "VeraBI.ttf")),
}


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    italic: str
    covered: frozenset[int]  # the code points the regular font draws


@cache
def pdf_fonts() -> Fonts:
    """Register the first family whose files are all there (once per process)."""
    for family, (directory, files) in FAMILIES.items():
        paths = [directory / name for name in files]
        if not all(path.is_file() for path in paths):
            continue
        names = [family, f"{family}-Bold", f"{family}-Italic", f"{family}-BoldItalic"]
        for name, path in zip(names, paths, strict=True):
            pdfmetrics.registerFont(TTFont(name, str(path)))
        addMapping(family, 0, 0, names[0])
        addMapping(family, 1, 0, names[1])
        addMapping(family, 0, 1, names[2])
        addMapping(family, 1, 1, names[3])
        regular = pdfmetrics.getFont(family)
        covered = frozenset(regular.face.charToGlyph)  # type: ignore[attr-defined]
        return Fonts(names[0], names[1], names[2], covered)
    raise RuntimeError(f"no font for the workshop pack: install fonts-dejavu-core ({DEJAVU})")


def printable(text: str) -> str:
    """``text`` with each character the font lacks written as its name (``:slightly smiling face:``)."""
    covered = pdf_fonts().covered
    if all(ord(ch) in covered or ch in "\n\t" for ch in text):
        return text
    return "".join(_stand_in(ch) if ord(ch) not in covered and ch not in "\n\t" else ch for ch in text)


def _stand_in(ch: str) -> str:
    if unicodedata.category(ch) in {"Mn", "Cf"}:  # a variation selector, a joiner: nothing to say
        return ""
    return f":{unicodedata.name(ch, 'symbole').lower()}:"
