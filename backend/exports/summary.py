"""The figures and situations a workshop looks at, for the XLSX summary sheets and the workshop pack.

Counts come from the dashboard's own computation (``aggregates.compute_dashboard``), so a printed
figure is the figure on screen for the same filters; structure names go through the export's pseudonyms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend import models
from backend.dashboards.rate_comparison import RateComparison, milestone_comparisons
from backend.dashboards.rates import Rate, rate
from backend.dashboards.service import WEEKDAYS_FR, Dashboard, compute_dashboard, observed_time
from backend.exports.pseudonyms import Pseudonyms
from backend.exports.rows import (
    ExportRow,
    ExportScope,
    count_export_rows,
    export_programme_ids,
    iter_export_rows,
)
from backend.grids.terms import attribute_names, code_merges, code_splits, grid_colours, grid_labels
from backend.grids.versions import current_taxonomy_of
from backend.review.filters import apply_observation_filter
from shared.schema import REVIEW_STATUS_LABELS, ReviewStatus
from shared.taxonomy import Taxonomy, current_taxonomy

# Filters that narrow the time observed as well as the observations: the rate needs no qualifier.
PLACE_AND_TIME = frozenset({"Structure", "Unité", "Du", "Au"})
MAX_CARDS = 300  # a printable pack; beyond this the cover says how many more there are


@dataclass(frozen=True)
class StructureRate:
    structure: str  # name or pseudonym
    visits: int
    observed_hours: float
    observations: int

    @property
    def per_hour(self) -> float | None:
        return self.observations / self.observed_hours if self.observed_hours > 0 else None

    @property
    def rate(self) -> Rate:
        """The same with its exact 95 % interval and, if so, why it is fragile."""
        return rate(self.observations, self.observed_hours)


@dataclass(frozen=True)
class WorkshopFigures:
    title: str
    scope_label: str  # "Structure" or "Programme"
    exported_at: datetime
    filters: list[tuple[str, str]]  # what the facilitator narrowed to, in French, for the cover
    dashboard: Dashboard
    structures: list[StructureRate]
    anonymous_structures: bool
    # The categories' colours in the programme's published grid versions (charts and cards use them).
    colours: dict[str, str] = field(default_factory=dict)
    # Before/after the structure's latest milestones within the days exported (an export of one structure).
    comparisons: list[RateComparison] = field(default_factory=list)

    @property
    def rate_label(self) -> str:
        """What the per-hour figure counts. Filters on the events (category, status, tag…) leave the time
        observed as it is: the rate is then that of the events kept, and says which ones."""
        kept = [f"{label.lower()} : {value}" for label, value in self.filters if label not in PLACE_AND_TIME]
        if not kept:
            return "observations par heure observée"
        return f"observations retenues ({' ; '.join(kept)}) par heure observée"

    @property
    def negative_share(self) -> float | None:
        negative = sum(c.count for c in self.dashboard.by_effect if c.code == "negative")
        return negative / self.dashboard.observations if self.dashboard.observations else None


def _taxonomy(session: Session, programme_ids: list[int]) -> Taxonomy:
    """The current grid of the (first) programme exported: the terms workshop material speaks in."""
    return current_taxonomy_of(session, programme_ids[0]) if programme_ids else current_taxonomy()


def _title(session: Session, scope: ExportScope, pseudonyms: Pseudonyms, programme_ids: list[int]) -> str:
    if scope.criteria.structure_id is not None:
        return pseudonyms.structure(scope.criteria.structure_id)
    if len(programme_ids) == 1:
        programme = session.get(models.Programme, programme_ids[0])
        if programme is not None:
            return programme.name
    return "Tous les programmes"


def describe_filters(session: Session, scope: ExportScope, pseudonyms: Pseudonyms) -> list[tuple[str, str]]:
    """The filters as a facilitator would say them. The search words are not repeated: someone may have
    searched for a name."""
    criteria = scope.criteria
    taxonomy = _taxonomy(session, export_programme_ids(session, scope))
    described: list[tuple[str, str]] = []
    if criteria.structure_id is not None:
        described.append(("Structure", pseudonyms.structure(criteria.structure_id)))
    if criteria.unit_id is not None:
        unit = session.get(models.Unit, criteria.unit_id)
        described.append(("Unité", unit.name if unit else str(criteria.unit_id)))
    if criteria.category:
        try:
            described.append(("Catégorie", taxonomy.category(criteria.category).label.fr))
        except KeyError:
            described.append(("Catégorie", criteria.category))
    for attribute, label, code in (
        ("role", "Professionnel", criteria.role),
        ("tool", "Outil", criteria.tool),
        ("effect", "Effet", criteria.effect),
        ("dimension", "Dimension du travail", criteria.dimension),
        ("impact", "Impact", criteria.impact),
    ):
        if code:
            try:
                described.append((label, taxonomy.attribute(attribute).label_of(code)))
            except KeyError:
                described.append((label, code))
    if criteria.added:
        attribute, _, code = criteria.added.partition(":")
        programme_ids = export_programme_ids(session, scope)
        names = attribute_names(session, programme_ids[0]) if programme_ids else {}
        labels = grid_labels(session, programme_ids[0]).get(attribute, {}) if programme_ids else {}
        described.append((names.get(attribute, attribute), labels.get(code, code)))
    if criteria.weekday is not None:
        described.append(("Jour (heure locale)", WEEKDAYS_FR[criteria.weekday - 1]))
    if criteria.hour is not None:
        described.append(("Heure (locale)", f"{criteria.hour} h – {criteria.hour + 1} h"))
    if criteria.review_status is not None:
        described.append(("Statut", REVIEW_STATUS_LABELS[criteria.review_status]["fr"]))
    if criteria.date_from is not None:
        described.append(("Du", criteria.date_from.strftime("%d/%m/%Y")))
    if criteria.date_to is not None:
        described.append(("Au", criteria.date_to.strftime("%d/%m/%Y")))
    if criteria.text:
        described.append(("Recherche dans les notes", "oui"))
    if criteria.tag:
        described.append(("Étiquette", criteria.tag))
    return described


def _structure_rates(session: Session, scope: ExportScope, pseudonyms: Pseudonyms) -> list[StructureRate]:
    obs = models.Observation
    per_structure: Any = select(obs.structure_id, func.count()).select_from(obs)
    counts = dict(
        session.exec(
            apply_observation_filter(
                per_structure,
                scope.criteria,
                scope.allowed_structure_ids,
            ).group_by(col(obs.structure_id))
        ).all()
    )
    time = observed_time(session, scope.criteria, scope.allowed_structure_ids)
    rates = [
        StructureRate(
            structure=pseudonyms.structure(structure_id),
            visits=time.get(structure_id, (0, 0.0))[0],
            observed_hours=round(time.get(structure_id, (0, 0.0))[1] / 3600, 2),
            observations=int(counts.get(structure_id, 0)),
        )
        for structure_id in sorted(set(counts) | set(time))
    ]
    # Pseudonyms are numbered by creation, names sort alphabetically: either way a stable order.
    return sorted(rates, key=lambda rate: _natural(rate.structure))


def _natural(name: str) -> tuple[int, str]:
    if name[:1] == "S" and name[1:].isdigit():
        return int(name[1:]), ""
    return 0, name


def workshop_figures(session: Session, scope: ExportScope, pseudonyms: Pseudonyms) -> WorkshopFigures:
    programme_ids = export_programme_ids(session, scope)
    title = _title(session, scope, pseudonyms, programme_ids)
    by_structure = scope.criteria.structure_id is not None
    dashboard = compute_dashboard(
        session,
        scope.criteria,
        scope.allowed_structure_ids,
        scope="structure" if by_structure else "programme",
        scope_id=(scope.criteria.structure_id if by_structure else scope.criteria.programme_id) or 0,
        name=title,
        taxonomy=_taxonomy(session, programme_ids),
        merges=code_merges(session, programme_ids[0]) if programme_ids else None,
        splits=code_splits(session, programme_ids[0]) if programme_ids else None,
    )
    return WorkshopFigures(
        title=title,
        scope_label="Structure" if by_structure else "Programme",
        exported_at=datetime.now(UTC),
        filters=describe_filters(session, scope, pseudonyms),
        dashboard=dashboard,
        structures=_structure_rates(session, scope, pseudonyms),
        anonymous_structures=scope.anonymous_structures,
        colours=grid_colours(session, programme_ids),
        comparisons=milestone_comparisons(
            session,
            scope.criteria.structure_id,
            scope.allowed_structure_ids,
            scope.criteria.date_from,
            scope.criteria.date_to,
        )
        if scope.criteria.structure_id is not None
        else [],
    )


def discussion_cards(
    session: Session, scope: ExportScope, pseudonyms: Pseudonyms, limit: int = MAX_CARDS
) -> tuple[list[ExportRow], int]:
    """The observations marked "to discuss in workshop" among the filtered ones (at most ``limit``,
    oldest first) and how many there are in all."""
    wanted = scope.criteria.review_status
    if wanted is not None and wanted != ReviewStatus.TO_DISCUSS:
        return [], 0
    to_discuss = scope.model_copy(
        update={"criteria": scope.criteria.model_copy(update={"review_status": ReviewStatus.TO_DISCUSS})}
    )
    total = count_export_rows(session, to_discuss)
    rows = iter_export_rows(session, to_discuss, pseudonyms)
    cards = list(islice(rows, limit))
    rows.close()  # releases the database cursor now rather than when collected
    return cards, total
