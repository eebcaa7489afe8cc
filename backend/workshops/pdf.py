"""The workshop record as a PDF: who took part (by role), the themes in order with their votes, notes,
figures (a table, bars drawn beside the numbers) and cards, then the actions decided. Pseudonymised as
the workshop pack is; a note's text only when approved."""

from __future__ import annotations

from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from backend.exports.pdf_document import MARGIN, embedded_styles, write_document
from backend.exports.pdf_fonts import pdf_fonts, printable
from backend.workshops.deck import CardView, Deck, ThemeView
from backend.workshops.figures import FigureRow, FigureView

TEXT_WIDTH = A4[0] - 2 * MARGIN
GREY = colors.HexColor("#B8C2CC")
BAR_WIDTH, BAR_HEIGHT = 3.2 * cm, 5


def _styles() -> dict[str, ParagraphStyle]:
    """The record's styles, in the embedded font (backend/exports/pdf_fonts.py), as the workshop pack."""
    style = embedded_styles()
    return {
        "title": style("title", "Title", fontSize=18, leading=22),
        "h1": style("h1", "Heading1"),
        "h2": style("h2", "Heading2"),
        "body": style("body", "Normal", fontSize=10, leading=14),
        "muted": style("muted", "Normal", fontSize=9, leading=12, textColor=colors.HexColor("#5F6B7A")),
        "quote": style("quote", "Normal", fontName=pdf_fonts().italic, fontSize=10, leading=14),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of text as typed: escaped for ReportLab's markup, a character the font lacks (an emoji
    in a quote) written as its name rather than printed as an empty box."""
    return Paragraph(escape(printable(text)), style)


def _card(card: CardView, number: int, styles: dict[str, ParagraphStyle]) -> Flowable:
    if card.quote:
        quote = _p(f"« {card.quote} »", styles["quote"])
    else:
        quote = _p(
            "(note non approuvée pour les ateliers)" if card.has_unapproved_note else "(pas de note)",
            styles["muted"],
        )
    table = Table(
        [
            [_p(f"{number}. {card.category}", styles["body"])],
            [_p(f"Situation : {card.situation}", styles["body"])],
            [_p(f"Effet : {card.effect}", styles["body"])],
            [quote],
            [_p(f"{card.structure} — observé par {card.observer}", styles["muted"])],
        ],
        colWidths=[TEXT_WIDTH - 0.4 * cm],
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), pdf_fonts().regular),  # the table's own default: Helvetica
                ("BOX", (0, 0), (-1, -1), 0.75, GREY),
                ("LINEBEFORE", (0, 0), (0, -1), 5, colors.HexColor(card.colour)),
            ]
        )
    )
    return KeepTogether([table, Spacer(1, 0.3 * cm)])


def _bars(row: FigureRow) -> Drawing:
    """One bar per series, the last one full colour (after, in a comparison), the others lighter."""
    drawing = Drawing(BAR_WIDTH, BAR_HEIGHT * len(row.bars) + 2)
    for index, value in enumerate(row.bars):
        y = (len(row.bars) - 1 - index) * BAR_HEIGHT + 1
        colour = colors.HexColor(row.colour)
        if index < len(row.bars) - 1:
            colour = colors.Color(colour.red, colour.green, colour.blue, alpha=0.4)
        width = max(0.5, BAR_WIDTH * max(0.0, min(1.0, value)))
        bar = Rect(0, y, width, BAR_HEIGHT - 1)
        bar.fillColor, bar.strokeColor = colour, None
        drawing.add(bar)
    return drawing


def _figure(figure: FigureView, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = [_p(f"Figure : {figure.title}", styles["body"])]
    if figure.unavailable:
        return [*story, _p(figure.unavailable, styles["muted"])]
    if figure.caption:
        story.append(_p(figure.caption, styles["muted"]))
    if figure.rows:
        legend = f"{figure.series[0]} (clair) / {figure.series[1]} (foncé)" if len(figure.series) > 1 else ""
        rows: list[list[Any]] = [[figure.row_heading, _p(legend, styles["muted"]), *figure.columns]]
        rows += [
            [_p(row.label, styles["muted"]), _bars(row), *(_p(cell, styles["muted"]) for cell in row.cells)]
            for row in figure.rows
        ]
        rest = (TEXT_WIDTH - 4.2 * cm - BAR_WIDTH - 0.4 * cm) / len(figure.columns)
        table = Table(rows, colWidths=[4.2 * cm, BAR_WIDTH + 0.4 * cm] + [rest] * len(figure.columns))
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), pdf_fonts().regular),
                    ("FONTNAME", (0, 0), (-1, 0), pdf_fonts().bold),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, GREY),
                ]
            )
        )
        story.append(table)
    if figure.reading:
        story.append(_p(figure.reading, styles["muted"]))
    return [KeepTogether(story), Spacer(1, 0.3 * cm)]


def _theme(theme: ThemeView, number: int, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = [
        _p(f"Thème {number} : {theme.title}", styles["h2"]),
        _p(
            f"Priorité : {theme.votes} vote(s) ({theme.facilitator_dots} gommette(s) en salle, "
            f"{theme.phone_votes} par téléphone)",
            styles["body"],
        ),
    ]
    if theme.notes:
        story.append(_p("Ce qui a été dit :", styles["body"]))
        story += [_p(f"— {note}", styles["body"]) for note in theme.notes]
    story.append(Spacer(1, 0.2 * cm))
    for figure in theme.figures:
        story += _figure(figure, styles)
    story += [_card(card, index, styles) for index, card in enumerate(theme.cards, start=1)]
    return story


def _actions(deck: Deck, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = [_p("Actions décidées", styles["h1"])]
    if not deck.actions:
        return [*story, _p("Aucune action enregistrée.", styles["body"])]
    rows: list[list[Any]] = [["Action", "Problème traité", "Porteur (rôle)", "Échéance", "Statut", "Jalon"]]
    for action in deck.actions:
        problem = ", ".join(action.themes) or "—"
        if action.observation_count:
            problem += f" ({action.observation_count} observation(s))"
        milestone = action.milestone_label or "—"
        if action.milestone_on:
            milestone += f" ({action.milestone_on.strftime('%d/%m/%Y')})"
        rows.append(
            [
                _p(action.title, styles["body"]),
                _p(problem, styles["body"]),
                _p(action.owner_role or "—", styles["body"]),
                action.due_on.strftime("%d/%m/%Y") if action.due_on else "—",
                action.status_label,
                _p(milestone, styles["body"]),
            ]
        )
    widths = [4.2 * cm, 3.6 * cm, 2.6 * cm, 2 * cm, 1.8 * cm, TEXT_WIDTH - 14.2 * cm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), pdf_fonts().regular),
                ("FONTNAME", (0, 0), (-1, 0), pdf_fonts().bold),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, GREY),
            ]
        )
    )
    return [*story, table]


def write_record(deck: Deck, destination: IO[bytes]) -> None:
    styles = _styles()
    workshop = deck.workshop
    participants = (
        ", ".join(f"{role} : {count}" for role, count in workshop.participants.items()) or "non renseignés"
    )
    story: list[Flowable] = [
        _p(f"Compte rendu d'atelier — {workshop.title}", styles["title"]),
        _p(f"Programme : {deck.programme_name}", styles["body"]),
        _p(f"Structures : {', '.join(deck.structure_names)}", styles["body"]),
        _p(
            f"Date : {workshop.held_on.strftime('%d/%m/%Y')}"
            + (f" — lieu : {workshop.place}" if workshop.place else ""),
            styles["body"],
        ),
        _p(f"Participants (par rôle) : {participants}", styles["body"]),
        _p(
            "Document pseudonymisé : observateurs désignés O1, O2…, identifiants de patients masqués ; "
            "seules les notes approuvées pour les ateliers sont citées.",
            styles["muted"],
        ),
        Spacer(1, 0.5 * cm),
        _p("Thèmes, par ordre de présentation", styles["h1"]),
    ]
    for number, theme in enumerate(deck.themes, start=1):
        story += _theme(theme, number, styles)
    if not deck.themes:
        story.append(_p("Aucun thème.", styles["body"]))
    story += _actions(deck, styles)
    footer = "Vigie — compte rendu d'atelier — document pseudonymisé"
    write_document(destination, story, f"Compte rendu d'atelier — {workshop.title}", footer)
