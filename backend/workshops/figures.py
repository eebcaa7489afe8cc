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
from backend.dashboards.rate_comparison import (
    ComparedRate,
    PeriodsAsked,
    RateComparison,
    StructuresAsked,
    attributes_compared,
    compare_periods,
    compare_structures,
)
from backend.dashboards.rates import Rate
from backend.dashboards.service import Count, structure_dashboard
from backend.errors import ApiError
from backend.grids.versions import current_taxonomy_of
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
    STRUCTURES_COMPARED = "structures_compared"  # two structures of the programme over the same days


FIGURE_KIND_LABELS = {
    FigureKind.CATEGORY_RATES: "Catégories par heure observée",
    FigureKind.BEFORE_AFTER: "Comparaison avant / après",
    FigureKind.STRUCTURES_COMPARED: "Comparaison de deux structures",
}

# The parameters each kind keeps, beside structure_id (the reference structure of a comparison of two);
# anything else sent is dropped. A comparison also keeps the attribute whose rows it shows.
_CATEGORY_PARAMS = ("unit_id", "date_from", "date_to")
_PERIOD_PARAMS = tuple(name for name in PeriodsAsked.model_fields)
_STRUCTURES_PARAMS = ("compared_structure_id", "date_from", "date_to")
_KEPT_PARAMS = {
    FigureKind.CATEGORY_RATES: _CATEGORY_PARAMS,
    FigureKind.BEFORE_AFTER: (*_PERIOD_PARAMS, "attribute"),
    FigureKind.STRUCTURES_COMPARED: (*_STRUCTURES_PARAMS, "attribute"),
}


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
    row_heading: str = "Catégorie"  # what each row is: a category, a value of a dimension, an impact…


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


def _ratio_text(row: ComparedRate) -> str:
    ratio = row.ratio
    interval = ""
    if ratio.low is not None:
        interval = f" ({_number(ratio.low)}–{_number(ratio.high) if ratio.high else '∞'})"
    return _number(ratio.ratio) + interval + ("" if ratio.supported else " — non établi")


def _attribute_shown(session: Session, structure_id: int, params: dict[str, Any]) -> tuple[str, str]:
    """The attribute whose rows a comparison figure shows (the categories unless the facilitator chose a
    dimension, an impact or one the programme added), with its name; one the grid no longer has is refused
    (and an attached figure then says it cannot be drawn)."""
    code = str(params.get("attribute") or "category")
    structure = session.get_one(models.Structure, structure_id)
    known = dict(attributes_compared(current_taxonomy_of(session, structure.programme_id)))
    if code not in known:
        raise invalid("attribute", "workshop_figure_params")
    return code, known[code]


def _comparison_view(
    figure_id: int, comparison: RateComparison, title: str, attribute: tuple[str, str]
) -> FigureView:
    """A comparison drawn as two bars per row, for one attribute."""
    rows = [r for r in comparison.rows if r.attribute == attribute[0]]
    top = max((r.per_hour or 0.0 for row in rows for r in (row.reference, row.compared)), default=0.0)
    colours = _colours() if attribute[0] == "category" else {}
    reference, compared = comparison.reference, comparison.compared
    sides = " ; ".join(
        f"{side.label} : du {_day(side.date_from)} au {_day(side.date_to)}, "
        f"{_number(side.observed_hours, 1)} h observées"
        for side in (reference, compared)
    )
    shown = "" if attribute[0] == "category" else f" — {attribute[1]}"
    return FigureView(
        id=figure_id,
        title=title + shown,
        caption=sides,
        series=[reference.label, compared.label],
        columns=[f"{reference.label} /h", f"{compared.label} /h", "Rapport (IC 95 %)"],
        rows=[
            FigureRow(
                label=row.label,
                colour=colours.get(row.code, DEFAULT_COLOUR),
                cells=[_rate_text(row.reference), _rate_text(row.compared), _ratio_text(row)],
                bars=[(r.per_hour or 0.0) / top if top else 0.0 for r in (row.reference, row.compared)],
                weak=not row.ratio.supported,
            )
            for row in rows
        ],
        reading=comparison.overall.reading
        if rows or attribute[0] == "category"
        else f"Aucun événement renseigné pour « {attribute[1]} ».",
        row_heading=attribute[1] if attribute[0] != "category" else "Catégorie",
    )


def _before_after(
    session: Session, reader: models.User, figure_id: int, params: dict[str, Any]
) -> FigureView:
    structure_id = int(params["structure_id"])
    asked = PeriodsAsked.model_validate({k: params[k] for k in _PERIOD_PARAMS if k in params})
    comparison = compare_periods(session, reader, structure_id, asked)
    if comparison.milestone:
        milestone = comparison.milestone
        title = f"Avant / après « {milestone.label} » ({milestone.day.strftime('%d/%m/%Y')})"
    else:
        title = "Comparaison de deux périodes"
    attribute = _attribute_shown(session, structure_id, params)
    return _comparison_view(
        figure_id, comparison, f"{title} — {comparison.reference.structure_name}", attribute
    )


def _structures_compared(
    session: Session, reader: models.User, figure_id: int, params: dict[str, Any]
) -> FigureView:
    structure_id = int(params["structure_id"])
    asked = _structures_asked(params)
    structure = session.get(models.Structure, structure_id)
    if structure is None:
        raise not_found()
    comparison = compare_structures(session, reader, structure.programme_id, asked)
    names = f"{comparison.reference.structure_name} et {comparison.compared.structure_name}"
    attribute = _attribute_shown(session, structure_id, params)
    return _comparison_view(figure_id, comparison, f"Deux structures comparées — {names}", attribute)


def _structures_asked(params: Mapping[str, Any]) -> StructuresAsked:
    return StructuresAsked.model_validate(
        {
            "reference_structure_id": params["structure_id"],
            **{k: params[k] for k in _STRUCTURES_PARAMS if k in params},
        }
    )


_DRAWERS = {
    FigureKind.CATEGORY_RATES: _category_rates,
    FigureKind.BEFORE_AFTER: _before_after,
    FigureKind.STRUCTURES_COMPARED: _structures_compared,
}


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
    kept: dict[str, Any] = {"structure_id": structure_id}
    for name in _KEPT_PARAMS[kind]:
        value = (sent.get(name) or "").strip()
        if value and not (name == "attribute" and value == "category"):  # the categories: the default
            kept[name] = value
    asked = {k: v for k, v in kept.items() if k not in ("structure_id", "attribute")}
    try:  # the same checks as the dashboards' own query strings
        if kind == FigureKind.CATEGORY_RATES:
            ObservationFilter.model_validate(kept)
        elif kind == FigureKind.BEFORE_AFTER:
            PeriodsAsked.model_validate(asked)
        else:
            _structures_asked(kept)
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
    looked_at = workshop_structure_ids(session, workshop)
    if structure_id not in looked_at:
        raise invalid("structure_id", "workshop_figure_elsewhere")
    params = _kept_params(kind, structure_id, sent)
    if (
        kind == FigureKind.STRUCTURES_COMPARED
        and int(params.get("compared_structure_id", 0)) not in looked_at
    ):
        raise invalid("compared_structure_id", "workshop_figure_elsewhere")
    count = len(figures_of(session, theme.workshop_id, theme_id))
    if count >= MAX_FIGURES_PER_THEME:
        raise invalid("theme_id", "workshop_figures_full", maximum=MAX_FIGURES_PER_THEME)
    figure = models.WorkshopFigure(
        workshop_id=theme.workshop_id,
        theme_id=theme_id,
        kind=kind.value,
        params=params,
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


def rows_offered(comparison: RateComparison) -> list[tuple[str, str]]:
    """What the rows of a comparison figure may be, for the "joindre" form: the categories, then each
    attribute the comparison has rows for, in grid order."""
    offered = {"category": "Catégories"}
    for row in comparison.rows:
        offered.setdefault(row.attribute, row.attribute_label)
    return list(offered.items())


def attachable_themes(session: Session, user: models.User, *structure_ids: int) -> list[AttachableTheme]:
    """The themes a figure of these structures (one, or the two a comparison sets side by side) may go to:
    those of the workshops the user runs that look at all of them, newest workshop first (empty for a
    read-only account)."""
    themes: list[AttachableTheme] = []
    for workshop in workshops_for(session, user):
        if workshop.id is None or not may_run(session, user, workshop):
            continue
        if not set(structure_ids) <= set(workshop_structure_ids(session, workshop)):
            continue
        held = workshop.held_on.strftime("%d/%m/%Y")
        themes += [
            AttachableTheme(id=t.id or 0, label=f"{workshop.title} ({held}) — {t.title}")
            for t in themes_in_order(session, workshop.id)
        ]
    return themes
