"""The workshop pack as a printer sees it: pages rendered by poppler (pdftoppm), fonts embedded with every
glyph the text needs, labels whole, times on one line, cards without « non renseigné » noise and no page
left nearly empty in the middle of the pack. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, col, select

from backend import models
from backend.admin.demo_data import build_demo
from backend.exports.pdf_fonts import pdf_fonts
from backend.exports.rows import ExportScope
from backend.exports.service import ExportFormat, start_export
from backend.review.filters import ObservationFilter
from shared.schema import ReviewStatus

EMOJI_NOTE = "Chariot enfin réparé 🙂 — « ça change tout », dit l'IDE ≥ 3 fois"


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} (poppler-utils) is installed by scripts/test.sh"
    return found


@pytest.fixture
def pack(session: Session, tmp_path: Path) -> Path:
    """The demo programme's pack, its notes approved for workshops, one of them with an emoji, and one
    card without effect, severity or impact."""
    summary = build_demo(session)
    to_discuss = session.exec(
        select(models.Observation)
        .where(models.Observation.review_status == ReviewStatus.TO_DISCUSS.value)
        .order_by(col(models.Observation.occurred_at))
    ).all()
    assert len(to_discuss) >= 2
    for observation in session.exec(select(models.Observation)).all():
        observation.verbatim_approved = observation.note is not None
        session.add(observation)
    first, second = to_discuss[0], to_discuss[1]
    first.note = first.note_masked = EMOJI_NOTE
    first.verbatim_approved, first.privacy_flagged = True, False
    second.effect, second.severity = None, None
    session.add_all([first, second])
    session.exec(
        models.ObservationAttributeValue.__table__.delete().where(  # type: ignore[attr-defined]
            models.ObservationAttributeValue.observation_id == second.id,
            models.ObservationAttributeValue.attribute == "impact",
        )
    )
    session.commit()
    scope = ExportScope(criteria=ObservationFilter(programme_id=summary.programme_id))
    started = start_export(session, scope, ExportFormat.PDF, actor_user_id=None, via="test")
    path = tmp_path / "pack.pdf"
    path.write_bytes(b"".join(started.chunks))
    return path


def _text(pdf: Path, mode: str = "-layout") -> str:
    """The text as poppler reads it: laid out as on the page, or (``-raw``) in the order it was written."""
    return subprocess.run(
        [_tool("pdftotext"), mode, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_every_font_is_embedded_and_has_the_glyphs_the_text_needs(pack: Path) -> None:
    fonts = subprocess.run([_tool("pdffonts"), str(pack)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows
    for row in rows:
        assert row.split()[-5] == "yes", row  # the "emb" column: embedded
        assert "Helvetica" not in row
    text = _text(pack)
    covered = pdf_fonts().covered
    missing = {ch for ch in text if ord(ch) not in covered and not ch.isspace()}
    assert not missing, missing
    assert "■" not in text
    assert ":slightly smiling face:" in text  # the emoji named, rather than a box
    assert "« ça change tout »" in text and "≥ 3" in text


def test_pages_render_and_none_is_left_nearly_empty(pack: Path, tmp_path: Path) -> None:
    subprocess.run(
        [_tool("pdftoppm"), "-r", "30", "-png", str(pack), str(tmp_path / "page")],
        capture_output=True,
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 4
    for number, page in enumerate(pages[1:-1], start=2):  # the cover and the last page may end early
        with Image.open(page) as image:
            grey = image.convert("L")
            width, height = grey.size
            footer = int(height * 0.92)  # the footer line is on every page
            pixels = grey.tobytes()  # one byte a pixel (mode L), row after row
            inked = [y for y in range(footer) if min(pixels[y * width : (y + 1) * width]) < 200]
        assert inked and inked[-1] > height * 0.5, f"page {number} is mostly empty"


def test_labels_whole_times_unbroken_and_no_filler_on_cards(pack: Path) -> None:
    text = _text(pack)
    flat = re.sub(r"\s+", " ", text)
    assert "Relations avec les patients / résidents" in flat or (
        "Relations avec les patients" in text and "résidents" in text
    )
    assert "rési " not in text.replace("résidents", "")  # no label cut in the middle of a word
    assert "non renseigné" not in text
    lines = text.splitlines()
    for line, following in itertools.pairwise(lines):
        # A time is « 09 h 30 » on one line: never « 09 » at the end of one and « h 30 » on the next.
        assert not (re.search(r"\b\d{2}$", line.rstrip()) and re.match(r"\s*h\s*\d{2}\b", following)), line
    assert re.search(r"\d{2}/\d{2}/\d{4}, \d{2}\s?h\s?\d{2}", text.replace("\u00a0", " "))


def test_the_rate_says_which_observations_it_counts(session: Session, pack: Path, tmp_path: Path) -> None:
    flat = re.sub(r"\s+", " ", _text(pack, "-raw"))
    assert "observations par heure observée" in flat and "observations retenues" not in flat
    programme_id = session.exec(select(models.Programme.id)).one()
    criteria = ObservationFilter(programme_id=programme_id, review_status=ReviewStatus.TO_DISCUSS)
    started = start_export(
        session, ExportScope(criteria=criteria), ExportFormat.PDF, actor_user_id=None, via="test"
    )
    filtered = tmp_path / "filtered.pdf"
    filtered.write_bytes(b"".join(started.chunks))
    flat = re.sub(r"\s+", " ", _text(filtered, "-raw"))
    # Filtered by review status, the time observed is the same: the rate is of the observations kept.
    assert "observations retenues (statut : À discuter en atelier) par heure observée" in flat
