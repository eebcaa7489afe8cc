"""Dashboard figures attached to a workshop's themes. A figure is stored as what to draw (its kind and
parameters), never as numbers: each time the deck is shown it is computed again from live data, with the
reader's scope (the dashboards' own services), and drawn as a table with bars beside the numbers — on the
preparation page, the presenter screen and both records. Figures are counts and rates per structure: no
observer, professional or note appears in them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from backend import models
from backend.dashboards.rate_comparison import PeriodsAsked, compare_periods
from backend.dashboards.rates import Rate
from backend.dashboards.service import Count, structure_dashboard
from backend.errors import ApiError
from backend.problems import invalid, not_found
from backend.review.filters import ObservationFilter
from backend.workshops.scope import may_run, runnable_workshop, workshop_structure_ids
from backend.workshops.service import themes_in_order, workshops_for
from shared.taxonomy import current_taxonomy

MAX_FIGURES_PER_THEME = 6
DEFAULT_COLOUR = "#546E7A"


class FigureKind(StrEnum):
    CATEGORY_RATES = "category_rates"  # a structure's events per observed hour, by category
    BEFORE_AFTER = "before_after"  # a structure's before/after comparison (a milestone or two periods)


FIGURE_KIND_LABELS = {
    FigureKind.CATEGORY_RATES: "Catégories par heure observée",
    FigureKind.BEFORE_AFTER: "Comparaison avant / après",
}

# The parameters each kind keeps, beside structure_id (anything else sent is dropped).
_CATEGORY_PARAMS = ("unit_id", "date_from", "date_to")
_PERIOD_PARAMS = tuple(name for name in PeriodsAsked.model_fields)


@dataclass(frozen=True)
class FigureRow:
    label: str
    colour: str
    cells: list[str]  # after the label, one per column
    bars: list[float]  # one per series, from 0 to 1 of the figure's largest value
    weak: bool = False  # a fragile rate, or a difference the data cannot support


@dataclass(frozen=True)
class FigureView:
    """A figure as drawn: the same for the HTML pages, the PDF and the DOCX record."""

    id: int
    title: str
    caption: str
    series: list[str]
    columns: list[str]
    rows: list[FigureRow]
    reading: str = ""
    unavailable: str | None = None


@dataclass(frozen=True)
class AttachableTheme:
    """A theme of a workshop the user runs, offered by the dashboards' "joindre à un thème"."""

    id: int
    label: str


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}".replace(".", ",")


def _rate_text(rate: Rate | Count) -> str:
    if rate.per_hour is None:
        return "—"
    interval = f" ({_number(rate.low)}–{_number(rate.high)})" if rate.low is not None else ""
    return f"{_number(rate.per_hour)}{interval}"


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "…"


def _colours() -> dict[str, str]:
    return {c.code: c.colour for c in current_taxonomy().categories}


def _category_rates(
    session: Session, reader: models.User, figure_id: int, params: dict[str, Any]
) -> FigureView:
    structure_id = int(params["structure_id"])
    criteria = ObservationFilter.model_validate(
        {"structure_id": structure_id, **{k: params[k] for k in _CATEGORY_PARAMS if k in params}}
    )
    dashboard = structure_dashboard(session, reader, structure_id, criteria)
    shown = [c for c in dashboard.by_category if c.count]
    top = max((c.per_hour or 0.0 for c in shown), default=0.0)
    colours = _colours()
    days = ""
    if criteria.date_from or criteria.date_to:
        days = f", du {_day(criteria.date_from)} au {_day(criteria.date_to)}"
    return FigureView(
        id=figure_id,
        title=f"Événements par heure observée, par catégorie — {dashboard.name}",
        caption=f"{dashboard.visits} visite(s), {_number(dashboard.observed_hours, 1)} h observées, "
        f"{dashboard.observations} observation(s){days}",
        series=["Par heure observée"],
        columns=["Observations", "Par heure (IC 95 %)"],
        rows=[
            FigureRow(
                label=c.label,
                colour=colours.get(c.code, DEFAULT_COLOUR),
                cells=[str(c.count), _rate_text(c)],
                bars=[(c.per_hour or 0.0) / top if top else 0.0],
                weak=c.fragile is not None,
            )
            for c in shown
        ],
        reading="" if shown else "Aucune observation sur cette période.",
    )


def _before_after(
    session: Session, reader: models.User, figure_id: int, params: dict[str, Any]
) -> FigureView:
    structure_id = int(params["structure_id"])
    asked = PeriodsAsked.model_validate({k: params[k] for k in _PERIOD_PARAMS if k in params})
    comparison = compare_periods(session, reader, structure_id, asked)
    rows = [r for r in comparison.rows if r.attribute == "category"]
    top = max((r.per_hour or 0.0 for row in rows for r in (row.reference, row.compared)), default=0.0)
    colours = _colours()
    reference, compared = comparison.reference, comparison.compared
    if comparison.milestone:
        milestone = comparison.milestone
        title = f"Avant / après « {milestone.label} » ({milestone.day.strftime('%d/%m/%Y')})"
    else:
        title = "Comparaison de deux périodes"
    sides = " ; ".join(
        f"{side.label} : du {_day(side.date_from)} au {_day(side.date_to)}, "
        f"{_number(side.observed_hours, 1)} h observées"
        for side in (reference, compared)
    )
    return FigureView(
        id=figure_id,
        title=f"{title} — {reference.structure_name}",
        caption=sides,
        series=[reference.label, compared.label],
        columns=[f"{reference.label} /h", f"{compared.label} /h", "Rapport (IC 95 %)"],
        rows=[
            FigureRow(
                label=row.label,
                colour=colours.get(row.code, DEFAULT_COLOUR),
                cells=[
                    _rate_text(row.reference),
                    _rate_text(row.compared),
                    _number(row.ratio.ratio)
                    + (
                        f" ({_number(row.ratio.low)}–{_number(row.ratio.high) if row.ratio.high else '∞'})"
                        if row.ratio.low is not None
                        else ""
                    )
                    + ("" if row.ratio.supported else " — non établi"),
                ],
                bars=[(r.per_hour or 0.0) / top if top else 0.0 for r in (row.reference, row.compared)],
                weak=not row.ratio.supported,
            )
            for row in rows
        ],
        reading=comparison.overall.reading,
    )


_DRAWERS = {FigureKind.CATEGORY_RATES: _category_rates, FigureKind.BEFORE_AFTER: _before_after}


def draw_figure(session: Session, reader: models.User, figure: models.WorkshopFigure) -> FigureView:
    """The figure from today's data as the reader may read it; one the reader may not compute (a
    structure out of their scope, a milestone since removed) says so instead of failing the deck."""
    assert figure.id is not None
    labels = {kind.value: label for kind, label in FIGURE_KIND_LABELS.items()}
    try:
        return _DRAWERS[FigureKind(figure.kind)](session, reader, figure.id, dict(figure.params))
    except (ApiError, ValidationError, ValueError, KeyError):
        return FigureView(
            id=figure.id,
            title=labels.get(figure.kind, figure.kind),
            caption="",
            series=[],
            columns=[],
            rows=[],
            unavailable="Figure indisponible : ses données ne sont plus accessibles (jalon retiré ou "
            "structure hors de votre périmètre).",
        )


def _kept_params(kind: FigureKind, structure_id: int, sent: Mapping[str, str]) -> dict[str, Any]:
    names = _CATEGORY_PARAMS if kind == FigureKind.CATEGORY_RATES else _PERIOD_PARAMS
    kept: dict[str, Any] = {"structure_id": structure_id}
    for name in names:
        value = (sent.get(name) or "").strip()
        if value:
            kept[name] = value
    try:  # the same checks as the dashboards' own query strings
        if kind == FigureKind.CATEGORY_RATES:
            ObservationFilter.model_validate(kept)
        else:
            PeriodsAsked.model_validate({k: v for k, v in kept.items() if k != "structure_id"})
    except ValidationError:
        raise invalid("params", "workshop_figure_params") from None
    return kept


def attach_figure(
    session: Session,
    user: models.User,
    theme_id: int,
    kind: FigureKind,
    structure_id: int,
    sent: Mapping[str, str],
) -> models.WorkshopFigure:
    """Attach a dashboard figure to a theme of a workshop the user runs. The structure must be one the
    workshop looks at, and the figure must be drawable now by the facilitator (a milestone of that
    structure, days the filters accept)."""
    theme = session.get(models.WorkshopTheme, theme_id)
    if theme is None:
        raise not_found()
    workshop = runnable_workshop(session, user, theme.workshop_id)
    if structure_id not in workshop_structure_ids(session, workshop):
        raise invalid("structure_id", "workshop_figure_elsewhere")
    count = len(figures_of(session, theme.workshop_id, theme_id))
    if count >= MAX_FIGURES_PER_THEME:
        raise invalid("theme_id", "workshop_figures_full", maximum=MAX_FIGURES_PER_THEME)
    figure = models.WorkshopFigure(
        workshop_id=theme.workshop_id,
        theme_id=theme_id,
        kind=kind.value,
        params=_kept_params(kind, structure_id, sent),
        position=count,
    )
    _DRAWERS[kind](session, user, 0, dict(figure.params))  # refused now rather than shown broken later
    session.add(figure)
    session.commit()
    session.refresh(figure)
    return figure


def figures_of(
    session: Session, workshop_id: int, theme_id: int | None = None
) -> list[models.WorkshopFigure]:
    """A workshop's figures (of one theme when given), in the order they were attached."""
    query = select(models.WorkshopFigure).where(models.WorkshopFigure.workshop_id == workshop_id)
    if theme_id is not None:
        query = query.where(models.WorkshopFigure.theme_id == theme_id)
    order = (
        col(models.WorkshopFigure.theme_id),
        col(models.WorkshopFigure.position),
        col(models.WorkshopFigure.id),
    )
    return list(session.exec(query.order_by(*order)).all())


def remove_figure(session: Session, user: models.User, workshop_id: int, figure_id: int) -> None:
    runnable_workshop(session, user, workshop_id)
    figure = session.get(models.WorkshopFigure, figure_id)
    if figure is None or figure.workshop_id != workshop_id:
        raise not_found()
    session.delete(figure)
    session.commit()


def attachable_themes(session: Session, user: models.User, structure_id: int) -> list[AttachableTheme]:
    """The themes a figure of this structure may go to: those of the workshops the user runs that look at
    it, newest workshop first (empty for a read-only account)."""
    themes: list[AttachableTheme] = []
    for workshop in workshops_for(session, user):
        if workshop.id is None or not may_run(session, user, workshop):
            continue
        if structure_id not in workshop_structure_ids(session, workshop):
            continue
        held = workshop.held_on.strftime("%d/%m/%Y")
        themes += [
            AttachableTheme(id=t.id or 0, label=f"{workshop.title} ({held}) — {t.title}")
            for t in themes_in_order(session, workshop.id)
        ]
    return themes
