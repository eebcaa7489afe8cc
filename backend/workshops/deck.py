"""A workshop's deck as people see it (preparation page, presenter screen, record): themes in order with
their cards, figures, votes and notes, the cards not grouped yet, and the actions.

Cards are the export rows of their observations (backend/exports/rows.py), so they are pseudonymised as
exports are (observers O1, O2…, notes masked by the privacy guard); a note's text shows only when a
facilitator approved it for workshops, and in a small cell neither the professional nor the hour is given
(backend/exports/small_cells.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend import models
from backend.exports.card_text import card_effect, card_situation
from backend.exports.rows import ExportRow, ExportScope, iter_export_rows
from backend.exports.small_cells import small_cells, threshold_for
from backend.grids.terms import UNKNOWN_COLOUR, grid_colours
from backend.privacy.pending import screen_pending
from backend.review.filters import ObservationFilter
from backend.workshops.actions import ActionView, action_views
from backend.workshops.figures import FigureView, draw_figure, figures_of
from backend.workshops.scope import readable_workshop, workshop_structure_ids
from backend.workshops.service import themes_in_order


@dataclass(frozen=True)
class CardView:
    card_id: int
    observation_id: str
    category: str
    colour: str
    situation: str
    effect: str
    quote: str | None  # the approved note's masked text; None when there is none or it is not approved
    has_unapproved_note: bool
    structure: str
    observer: str
    protected: bool  # small cell: neither the professional nor the hour


@dataclass
class ThemeView:
    id: int
    title: str
    facilitator_dots: int
    phone_votes: int
    notes: list[str] = field(default_factory=list)
    cards: list[CardView] = field(default_factory=list)
    figures: list[FigureView] = field(default_factory=list)

    @property
    def votes(self) -> int:
        return self.facilitator_dots + self.phone_votes


@dataclass(frozen=True)
class Deck:
    workshop: models.Workshop
    programme_name: str
    structure_names: list[str]
    themes: list[ThemeView]
    ungrouped: list[CardView]
    actions: list[ActionView]

    @property
    def card_count(self) -> int:
        return len(self.ungrouped) + sum(len(t.cards) for t in self.themes)


def _card(card_id: int, row: ExportRow, protected: bool, colours: dict[str, str]) -> CardView:
    """``colours``: the categories' colours in the programme's published grid versions."""
    approved = bool(row.note and row.verbatim_approved)
    return CardView(
        card_id=card_id,
        observation_id=row.observation_id,
        category=row.category,
        colour=colours.get(row.category_code, UNKNOWN_COLOUR),
        situation=card_situation(row, protected),
        effect=card_effect(row),
        quote=row.note if approved else None,
        has_unapproved_note=bool(row.note) and not approved,
        structure=row.structure,
        observer=row.observer,
        protected=protected,
    )


def _card_rows(
    session: Session, workshop: models.Workshop, wanted: set[str]
) -> tuple[dict[str, ExportRow], frozenset[str]]:
    """The export rows of the deck's observations, and those in a small cell (counted among every
    observation of the structures the workshop looks at)."""
    structures = frozenset(workshop_structure_ids(session, workshop))
    screen_pending(session, structures)  # notes pushed a moment ago are screened before they are shown
    scope = ExportScope(
        criteria=ObservationFilter(programme_id=workshop.programme_id), allowed_structure_ids=structures
    )
    population = list(iter_export_rows(session, scope))
    cards = [row for row in population if row.observation_id in wanted]
    cells = small_cells(population, cards, threshold_for(session, [workshop.programme_id]))
    return {row.observation_id: row for row in cards}, cells.protected


def _phone_votes(session: Session, theme_ids: list[int]) -> Counter[int]:
    rows = session.exec(
        select(models.WorkshopVote.theme_id, func.count())
        .where(col(models.WorkshopVote.theme_id).in_(theme_ids))
        .group_by(col(models.WorkshopVote.theme_id))
    ).all()
    return Counter({theme_id: int(count) for theme_id, count in rows})


def workshop_deck(session: Session, user: models.User, workshop_id: int) -> Deck:
    """Everything about one workshop the user may read (404 otherwise)."""
    workshop = readable_workshop(session, user, workshop_id)
    themes = themes_in_order(session, workshop_id)
    theme_ids = [t.id for t in themes if t.id is not None]
    votes = _phone_votes(session, theme_ids)
    views = {
        t.id: ThemeView(id=t.id, title=t.title, facilitator_dots=t.facilitator_dots, phone_votes=votes[t.id])
        for t in themes
        if t.id is not None
    }
    for note in session.exec(
        select(models.WorkshopNote)
        .where(col(models.WorkshopNote.theme_id).in_(theme_ids))
        .order_by(col(models.WorkshopNote.created_at), col(models.WorkshopNote.id))
    ).all():
        views[note.theme_id].notes.append(note.body)
    for figure in figures_of(session, workshop_id):
        if figure.theme_id in views:
            views[figure.theme_id].figures.append(draw_figure(session, user, figure))
    cards = session.exec(
        select(models.WorkshopCard)
        .where(models.WorkshopCard.workshop_id == workshop_id)
        .order_by(col(models.WorkshopCard.position), col(models.WorkshopCard.id))
    ).all()
    rows, protected = _card_rows(session, workshop, {str(card.observation_id) for card in cards})
    ungrouped: list[CardView] = []
    colours = grid_colours(session, [workshop.programme_id])
    for card in cards:
        row = rows.get(str(card.observation_id))
        if row is None or card.id is None:  # deleted since, or in a structure no longer covered
            continue
        view = _card(card.id, row, row.observation_id in protected, colours)
        (views[card.theme_id].cards if card.theme_id in views else ungrouped).append(view)
    structure_ids = workshop_structure_ids(session, workshop)
    names = session.exec(
        select(models.Structure.name)
        .where(col(models.Structure.id).in_(structure_ids))
        .order_by(col(models.Structure.name))
    ).all()
    programme = session.get_one(models.Programme, workshop.programme_id)
    return Deck(
        workshop=workshop,
        programme_name=programme.name,
        structure_names=list(names),
        themes=list(views.values()),
        ungrouped=ungrouped,
        actions=action_views(session, user, [workshop]),
    )


def theme_votes(session: Session, user: models.User, workshop_id: int) -> dict[int, int]:
    """Each theme's votes so far (dots in the room and phones), for the presenter screen's live count."""
    readable_workshop(session, user, workshop_id)
    themes = themes_in_order(session, workshop_id)
    phones = _phone_votes(session, [t.id for t in themes if t.id is not None])
    return {t.id: t.facilitator_dots + phones[t.id] for t in themes if t.id is not None}
