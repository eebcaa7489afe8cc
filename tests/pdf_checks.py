"""A PDF read back as a printer and a reader meet it: every page rendered by poppler (pdftoppm), every font
embedded with a real glyph for every character the text uses (no .notdef box, no ■), and no text that
leaves its place: outside the page margins, across a rule or the edge of a box the document draws, or
over other text. Each function returns the problems it finds, in words, so a failing test says where.

Characters are taken with their boxes from pdfplumber (pdfminer): as wide as the glyph's advance, from
the font's descent to one font size above it; boxes drawn are its rectangles and the closed cells its
lines make (pdfplumber's table finder), rules are its lines and the sides of its rectangles. A paragraph
whose next line falls below the box it starts in, into no other box, has left its box too.
"""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pdfplumber
from fontTools.ttLib import TTFont
from pdfplumber import table as tables
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject

TOLERANCE = 0.6  # points: rounding in the layout, and a hair line's own width
REPLACEMENTS = {"\u25a0": "■ (black square)", "\ufffd": "\ufffd (replacement character)"}


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} (poppler-utils) is installed by scripts/test.sh"
    return found


# --- pages rendered -----------------------------------------------------------------------------------


def rendered_pages(pdf: Path, directory: Path, resolution: int = 30) -> list[Path]:
    """Every page as a PNG drawn by poppler; each one must come out and carry some ink."""
    directory.mkdir(parents=True, exist_ok=True)
    prefix = directory / pdf.stem
    subprocess.run(
        [tool("pdftoppm"), "-r", str(resolution), "-png", str(pdf), str(prefix)],
        capture_output=True,
        check=True,
    )
    pages = sorted(directory.glob(f"{pdf.stem}-*.png"))
    assert len(pages) == len(PdfReader(pdf).pages), f"{pdf.name}: pdftoppm drew {len(pages)} pages"
    for page in pages:
        with Image.open(page) as image:
            low = image.convert("L").getextrema()[0]
        assert isinstance(low, int) and low < 128, f"{page.name} is blank"
    return pages


# --- fonts and glyphs ---------------------------------------------------------------------------------


def _fonts(reader: PdfReader) -> Iterator[tuple[int, DictionaryObject]]:
    """Each font the pages use (also inside form XObjects), once, with the number of a page using it."""
    seen: set[int] = set()

    def walk(resources: Any, number: int) -> Iterator[tuple[int, DictionaryObject]]:
        resources = resources.get_object() if resources is not None else {}
        for reference in (resources.get("/Font") or {}).values():
            key = reference.idnum if isinstance(reference, IndirectObject) else id(reference)
            if key not in seen:
                seen.add(key)
                yield number, reference.get_object()
        for xobject in (resources.get("/XObject") or {}).values():
            form = xobject.get_object()
            if form.get("/Subtype") == "/Form":
                yield from walk(form.get("/Resources"), number)

    for number, page in enumerate(reader.pages, start=1):
        yield from walk(page.get("/Resources"), number)


def _to_unicode(font: DictionaryObject) -> dict[int, str]:
    """The font's ToUnicode map (bfchar and bfrange entries): character code → text."""
    stream = font.get("/ToUnicode")
    if stream is None:
        return {}
    words = stream.get_object().get_data().decode("latin-1").replace("<", " <").replace(">", "> ").split()
    mapping: dict[int, str] = {}
    section, values = "", list[str]()
    for word in words:
        if word in {"beginbfchar", "beginbfrange"}:
            section, values = word, []
        elif word in {"endbfchar", "endbfrange"}:
            step = 2 if section == "beginbfchar" else 3
            for index in range(0, len(values) - step + 1, step):
                group = values[index : index + step]
                if step == 2:
                    mapping[int(group[0], 16)] = _utf16(group[1])
                else:
                    start, end, first = int(group[0], 16), int(group[1], 16), int(group[2], 16)
                    for code in range(start, end + 1):
                        mapping[code] = chr(first + code - start)
            section = ""
        elif section and word.startswith("<"):
            values.append(word.strip("<>"))
    return mapping


def _utf16(hex_text: str) -> str:
    return bytes.fromhex(hex_text).decode("utf-16-be") if hex_text else ""


def used_characters(pdf: Path) -> dict[str, set[str]]:
    """The characters the pages print, by the name of the font they are printed in."""
    used: dict[str, set[str]] = {}
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            for char in page.chars:
                used.setdefault(char["fontname"], set()).add(char["text"])
    return used


def glyph_problems(pdf: Path, used: dict[str, set[str]] | None = None) -> list[str]:
    """Fonts not embedded, and characters printed as .notdef (the empty box) or as ■. ``used``: the
    characters printed, by font (``used_characters``), as the glyph check looks at those only (a subset's
    ToUnicode map also lists codes nothing prints)."""
    used = used_characters(pdf) if used is None else used
    problems: list[str] = []
    for page, font in _fonts(PdfReader(pdf)):
        name = str(font.get("/BaseFont", "?"))
        printed = used.get(name.removeprefix("/"), set())
        descendants = font.get("/DescendantFonts")
        described = descendants[0].get_object() if descendants else font
        descriptor = described.get("/FontDescriptor")
        program = None
        if descriptor is not None:
            descriptor = descriptor.get_object()
            program = next(
                (descriptor[k] for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor), None
            )
        if program is None:
            problems.append(f"page {page}: font {name} is not embedded")
            continue
        text_of = {code: text for code, text in _to_unicode(font).items() if text in printed}
        for text in sorted(text_of.values()):
            for ch in text:
                if ch in REPLACEMENTS:
                    problems.append(f"page {page}: {REPLACEMENTS[ch]} printed in {name}")
        if descriptor is None or "/FontFile2" not in descriptor or descendants:
            continue  # glyphs are read in TrueType simple fonts, the kind ReportLab embeds (subsets)
        face = TTFont(io.BytesIO(program.get_object().get_data()))
        cmap = face["cmap"].getBestCmap() or next(iter(face["cmap"].tables)).cmap
        glyphs = face["glyf"]
        for code, text in sorted(text_of.items()):
            glyph_name = cmap.get(code)
            glyph_id = face.getGlyphID(glyph_name) if glyph_name else 0
            ink = glyph_id != 0 and (glyphs[glyph_name].numberOfContours != 0 or _blank(text))
            if not ink:
                # A character the producer's font lacks often comes with no text either (U+0000).
                what = "a character the font lacks" if text == "\0" else f"{text!r} ({_named(text)})"
                problem = f"page {page}: {what} is printed as .notdef (the empty box) in {name}"
                if problem not in problems:
                    problems.append(problem)
    return problems


def _blank(text: str) -> bool:
    return all(ch.isspace() or unicodedata.category(ch) in {"Zs", "Cf"} for ch in text)


def _named(text: str) -> str:
    return ", ".join(unicodedata.name(ch, f"U+{ord(ch):04X}") for ch in text)


# --- text out of its place ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Margins:
    """Where text may go on the page: inside the margins, and the footer's band below the bottom one."""

    left: float
    right: float
    top: float
    bottom: float
    footer_bottom: float  # from the page's foot: a footer line stays above this


class _Chars:
    """A page's characters (blanks left out) and their boxes, as arrays: each check looks at all of
    them at once."""

    def __init__(self, page: Any) -> None:
        self.chars = [c for c in page.chars if not c["text"].isspace()]
        boxes = np.array([[c["x0"], c["top"], c["x1"], c["bottom"]] for c in self.chars], dtype=float)
        self.x0, self.top, self.x1, self.bottom = boxes.reshape(-1, 4).T

    def outside(self, x0: float, top: float, x1: float, bottom: float) -> Any:
        """Characters not wholly inside the box."""
        t = TOLERANCE
        return (self.x0 < x0 - t) | (self.x1 > x1 + t) | (self.top < top - t) | (self.bottom > bottom + t)

    def overlapping(self, x0: float, top: float, x1: float, bottom: float) -> Any:
        """Characters sharing more than a hair with the box."""
        wide = np.minimum(self.x1, x1) - np.maximum(self.x0, x0)
        high = np.minimum(self.bottom, bottom) - np.maximum(self.top, top)
        return (wide > TOLERANCE) & (high > TOLERANCE)

    def crossed_by(self, x0: float, top: float, x1: float, bottom: float) -> Any:
        """Characters a straight rule passes through (not along their edge)."""
        t = TOLERANCE
        if bottom - top < x1 - x0:  # horizontal
            y = (top + bottom) / 2
            across = (self.top + t < y) & (y < self.bottom - t)
            return across & (x0 < self.x1 - t) & (x1 > self.x0 + t)
        x = (x0 + x1) / 2
        across = (self.x0 + t < x) & (x < self.x1 - t)
        return across & (top < self.bottom - t) & (bottom > self.top + t)

    def word_at(self, index: int) -> str:
        """The run of text around a character, in the order it was written, to say where a problem is."""
        start = end = index
        while start > 0 and index - start < 30 and self._follows(start - 1, start):
            start -= 1
        while end < len(self.chars) - 1 and end - index < 30 and self._follows(end, end + 1):
            end += 1
        return "".join(self.chars[i]["text"] for i in range(start, end + 1))

    def _follows(self, before: int, after: int) -> bool:
        """Whether a character comes right after another on its line, as in one word."""
        same_line = abs(self.top[after] - self.top[before]) < 1
        return bool(same_line and abs(self.x0[after] - self.x1[before]) < 1)

    def lines(self) -> list[tuple[int, int]]:
        """Runs of characters written one after the other on one line: (first, last + 1)."""
        runs, start = [], 0
        for index in range(1, len(self.chars)):
            if abs(self.top[index] - self.top[index - 1]) > 1 or self.x0[index] < self.x0[index - 1]:
                runs.append((start, index))
                start = index
        runs.append((start, len(self.chars)))
        return runs


def _closed_boxes(page: Any) -> list[tuple[float, float, float, float]]:
    """The rectangles the page draws (filled or stroked) and the cells its lines close (pdfplumber's
    table finder, down to a single boxed cell)."""
    boxes = [
        (r["x0"], r["top"], r["x1"], r["bottom"]) for r in page.rects if r["width"] > 1 and r["height"] > 1
    ]
    edges = tables.merge_edges(page.edges, 1, 1, 1, 1)
    cells = tables.intersections_to_cells(tables.edges_to_intersections(edges, 1, 1))
    return boxes + [tuple(map(float, cell)) for cell in cells]  # type: ignore[misc]


def _rules(page: Any) -> list[tuple[float, float, float, float]]:
    """Every straight rule the page draws: its lines, and the sides of its rectangles."""
    rules = [(line["x0"], line["top"], line["x1"], line["bottom"]) for line in page.lines]
    for rect in page.rects:
        x0, top, x1, bottom = rect["x0"], rect["top"], rect["x1"], rect["bottom"]
        rules += [(x0, top, x1, top), (x0, bottom, x1, bottom), (x0, top, x0, bottom), (x1, top, x1, bottom)]
    return rules


def _continued_out(chars: _Chars, boxes: list[tuple[float, float, float, float]]) -> list[int]:
    """First characters of lines that go on a paragraph begun inside a box, below it and in no other box:
    text a box too low for it lets out (a line written next, under the previous one at the paragraph's
    spacing, from the same left edge)."""
    found = []
    lines = chars.lines()
    for (first, end), (second, second_end) in itertools.pairwise(lines):
        size = float(chars.chars[first]["size"])
        step = chars.top[second] - chars.top[first]
        if not (0 < step <= 1.6 * size and abs(chars.x0[second] - chars.x0[first]) < 1):
            continue
        held_before = {b for b, box in enumerate(boxes) if not chars.outside(*box)[first:end].any()}
        if not held_before:
            continue
        held_after = {b for b, box in enumerate(boxes) if not chars.outside(*box)[second:second_end].any()}
        if not held_after:
            found.append(second)
    return found


def _collisions(chars: _Chars) -> Iterator[tuple[int, int]]:
    """Pairs of characters whose boxes overlap by more than a third of the smaller: text over text."""
    areas = (chars.x1 - chars.x0) * (chars.bottom - chars.top)
    for i in range(len(chars.chars) - 1):
        rest = slice(i + 1, None)
        wide = np.minimum(chars.x1[rest], chars.x1[i]) - np.maximum(chars.x0[rest], chars.x0[i])
        high = np.minimum(chars.bottom[rest], chars.bottom[i]) - np.maximum(chars.top[rest], chars.top[i])
        shared = np.clip(wide, 0, None) * np.clip(high, 0, None)
        smaller = np.minimum(areas[rest], areas[i])
        for j in np.flatnonzero((smaller > 0) & (shared > smaller / 3)):
            yield i, i + 1 + int(j)


def _page_overflows(page: Any, number: int, margins: Margins) -> list[str]:
    chars = _Chars(page)
    if not chars.chars:
        return []
    problems: list[str] = []

    def say(found: Any, what: str) -> None:
        for index in np.flatnonzero(found):
            problem = f"page {number}: « {chars.word_at(int(index))} » {what}"
            if problem not in problems:
                problems.append(problem)

    right, foot = float(page.width) - margins.right, float(page.height) - margins.bottom
    in_body = ~chars.outside(margins.left, margins.top, right, foot)
    in_footer = ~chars.outside(margins.left, foot, right, float(page.height) - margins.footer_bottom)
    say(~(in_body | in_footer), "lies outside the page margins")
    for rule in _rules(page):
        say(chars.crossed_by(*rule), "is crossed by a rule (it overflows its cell)")
    boxes = _closed_boxes(page)
    for box in boxes:
        say(chars.overlapping(*box) & chars.outside(*box), "runs over the edge of its box")
    said_out = _continued_out(chars, boxes)
    for index in said_out:
        one = np.zeros(len(chars.chars), dtype=bool)
        one[index] = True
        say(one, "continues out of the box its paragraph starts in")
    for first, second in _collisions(chars):
        over = np.zeros(len(chars.chars), dtype=bool)
        over[second] = True
        say(over, f"is printed over « {chars.word_at(first)} »")
    return problems


def overflows(pdf: Path, margins: Margins, used: dict[str, set[str]] | None = None) -> list[str]:
    """Text outside the margins, across a rule or a box's edge, or over other text. ``used`` is told the
    characters printed, by font, for ``glyph_problems`` (one reading of the PDF for both)."""
    problems: list[str] = []
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages, start=1):
            if used is not None:
                for char in page.chars:
                    used.setdefault(char["fontname"], set()).add(char["text"])
            problems += _page_overflows(page, number, margins)
    return problems


def check_pdf(pdf: Path, margins: Margins, directory: Path) -> list[str]:
    """Every check on one PDF: its pages render, its glyphs, its text in place."""
    rendered_pages(pdf, directory)
    used: dict[str, set[str]] = {}
    out_of_place = overflows(pdf, margins, used)
    return glyph_problems(pdf, used) + out_of_place
