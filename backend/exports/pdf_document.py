"""The A4 page every Vigie PDF is printed on: its margins, its author, the embedded font (pdf_fonts.py), and a
footer saying what the document is, with the page number."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, Any

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate

from backend.exports.pdf_fonts import pdf_fonts

MARGIN = 1.8 * cm


def embedded_styles() -> Callable[..., ParagraphStyle]:
    """``style(name, parent, **changes)``: a paragraph style made from reportlab's sample sheet (``parent``:
    "Normal", "Title", "Heading1" …) set in the embedded font, bold where the sample is bold."""
    base, fonts = getSampleStyleSheet(), pdf_fonts()
    for sample in base.byName.values():
        if isinstance(sample, ParagraphStyle):
            sample.fontName = fonts.bold if "Bold" in sample.fontName else fonts.regular

    def style(name: str, parent: str, **changes: Any) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base[parent], **changes)

    return style


def write_document(
    destination: str | IO[bytes],
    story: Sequence[Flowable],
    title: str,
    footer: str,
    footer_colour: Color | None = None,
) -> None:
    """Lay ``story`` out on A4 pages into ``destination``, ``footer`` and the page number at each foot."""

    def foot(canvas: Canvas, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(pdf_fonts().regular, 8)
        if footer_colour is not None:
            canvas.setFillColor(footer_colour)
        canvas.drawString(MARGIN, 1.0 * cm, footer)
        canvas.drawRightString(A4[0] - MARGIN, 1.0 * cm, f"page {document.page}")
        canvas.restoreState()

    margins: dict[str, Any] = dict.fromkeys(
        ("leftMargin", "rightMargin", "topMargin", "bottomMargin"), MARGIN
    )
    document = SimpleDocTemplate(
        destination,
        pagesize=A4,
        title=title,
        author="Vigie",
        initialFontName=pdf_fonts().regular,  # the canvas' own default is Helvetica, not embedded
        **margins,
    )
    document.build(list(story), onFirstPage=foot, onLaterPages=foot)
