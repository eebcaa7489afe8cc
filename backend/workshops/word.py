"""The workshop record as a Word document (python-docx), for the bodies that amend the minutes before they
adopt them: the same content as the PDF record (backend/workshops/pdf.py) — participants by role, themes
with their votes, notes, figures and cards, then the actions — pseudonymised the same way, since both are
written from the same deck."""

from __future__ import annotations

from typing import IO

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

from backend.workshops.deck import CardView, Deck, ThemeView
from backend.workshops.figures import FigureView

MUTED = RGBColor(0x5F, 0x6B, 0x7A)
BAR_CELLS = 12  # a bar drawn with block characters: the figure stays readable when edited or printed


def _muted(document: WordDocument, text: str) -> None:
    run = document.add_paragraph().add_run(text)
    run.font.size = Pt(9)
    run.font.color.rgb = MUTED


def _table(document: WordDocument, header: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = text


def _bar(fraction: float) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * BAR_CELLS)
    return "█" * filled or "·"


def _figure(document: WordDocument, figure: FigureView) -> None:
    document.add_paragraph(f"Figure : {figure.title}", style="Heading 4")
    if figure.unavailable:
        _muted(document, figure.unavailable)
        return
    if figure.caption:
        _muted(document, figure.caption)
    bar_headers = [f"Barre — {name}" for name in figure.series]
    rows = [[row.label, *row.cells, *(_bar(value) for value in row.bars)] for row in figure.rows]
    if rows:
        _table(document, [figure.row_heading, *figure.columns, *bar_headers], rows)
    if figure.reading:
        document.add_paragraph(figure.reading)


def _card(document: WordDocument, card: CardView, number: int) -> None:
    document.add_paragraph(f"{number}. {card.category}", style="Heading 4")
    document.add_paragraph(f"Situation : {card.situation}")
    if card.effect:
        document.add_paragraph(f"Effet : {card.effect}")
    if card.quote:
        quote = document.add_paragraph().add_run(f"« {card.quote} »")
        quote.italic = True
    else:
        _muted(
            document,
            "(note non approuvée pour les ateliers)" if card.has_unapproved_note else "(pas de note)",
        )
    _muted(document, f"{card.structure} — observé par {card.observer}")


def _theme(document: WordDocument, theme: ThemeView, number: int) -> None:
    document.add_heading(f"Thème {number} : {theme.title}", level=2)
    document.add_paragraph(
        f"Priorité : {theme.votes} vote(s) ({theme.facilitator_dots} gommette(s) en salle, "
        f"{theme.phone_votes} par téléphone)"
    )
    if theme.notes:
        document.add_paragraph("Ce qui a été dit :")
        for note in theme.notes:
            document.add_paragraph(note, style="List Bullet")
    for figure in theme.figures:
        _figure(document, figure)
    for index, card in enumerate(theme.cards, start=1):
        _card(document, card, index)


def _actions(document: WordDocument, deck: Deck) -> None:
    document.add_heading("Actions décidées", level=1)
    if not deck.actions:
        document.add_paragraph("Aucune action enregistrée.")
        return
    rows = []
    for action in deck.actions:
        problem = ", ".join(action.themes) or "—"
        if action.observation_count:
            problem += f" ({action.observation_count} observation(s))"
        milestone = action.milestone_label or "—"
        if action.milestone_on:
            milestone += f" ({action.milestone_on.strftime('%d/%m/%Y')})"
        rows.append(
            [
                action.title,
                problem,
                action.owner_role or "—",
                action.due_on.strftime("%d/%m/%Y") if action.due_on else "—",
                action.status_label,
                milestone,
            ]
        )
    _table(document, ["Action", "Problème traité", "Porteur (rôle)", "Échéance", "Statut", "Jalon"], rows)


def write_record_docx(deck: Deck, destination: IO[bytes]) -> None:
    workshop = deck.workshop
    document = Document()
    document.core_properties.title = f"Compte rendu d'atelier — {workshop.title}"
    document.core_properties.author = "Vigie"  # never the facilitator's name
    heading = document.add_heading(f"Compte rendu d'atelier — {workshop.title}", level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.LEFT
    participants = (
        ", ".join(f"{role} : {count}" for role, count in workshop.participants.items()) or "non renseignés"
    )
    document.add_paragraph(f"Programme : {deck.programme_name}")
    document.add_paragraph(f"Structures : {', '.join(deck.structure_names)}")
    place = f" — lieu : {workshop.place}" if workshop.place else ""
    document.add_paragraph(f"Date : {workshop.held_on.strftime('%d/%m/%Y')}{place}")
    document.add_paragraph(f"Participants (par rôle) : {participants}")
    _muted(
        document,
        "Document pseudonymisé : observateurs désignés O1, O2…, identifiants de patients masqués ; "
        "seules les notes approuvées pour les ateliers sont citées.",
    )
    document.add_heading("Thèmes, par ordre de présentation", level=1)
    for number, theme in enumerate(deck.themes, start=1):
        _theme(document, theme, number)
    if not deck.themes:
        document.add_paragraph("Aucun thème.")
    _actions(document, deck)
    document.save(destination)
