"""Home, programme and structure dashboards, and the inter-observer agreement page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from backend import models
from backend.auth.access import can_review, units_of
from backend.auth.deps import FilterDep, ScopeDep, signed_in_browser
from backend.auth.users import UserRole
from backend.dashboards.deps import PeriodsDep, structures_asked
from backend.dashboards.milestones import MilestoneOut, milestones_of
from backend.dashboards.rate_comparison import compare_periods, compare_structures, structures_of_programme
from backend.dashboards.service import (
    Comparison,
    Dashboard,
    programme_comparison,
    programme_dashboard,
    structure_dashboard,
)
from backend.dashboards.trends import WeeklyTrends, programme_trends, structure_trends
from backend.db import SessionDep
from backend.errors import ApiError
from backend.params import RowIdPath
from backend.review.agreement import DEFAULT_SLICE_SECONDS, MATCH_WINDOW, SliceQuery, paired_visits
from backend.review.filters import ObservationFilter
from backend.web.layout import PageDep, SignedInPage, navigation
from backend.workshops.figures import AttachableTheme, attachable_themes, rows_offered

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, session: SessionDep) -> Response:
    """Signed in: straight to what one follows (the structure of a viewer, the programmes otherwise)."""
    try:
        signed_in = signed_in_browser(request, session)
    except ApiError:
        return RedirectResponse("/login", status_code=303)
    user = signed_in.user
    if user.role == UserRole.STRUCTURE_VIEWER and user.structure_id is not None:
        return RedirectResponse(f"/structures/{user.structure_id}", status_code=303)
    nav = navigation(session, user)
    if len(nav["nav_programmes"]) == 1:
        return RedirectResponse(f"/programmes/{nav['nav_programmes'][0].id}", status_code=303)
    return SignedInPage(request, session, signed_in).render("home.html")


def _dashboard_page(
    view: SignedInPage,
    criteria: ObservationFilter,
    dashboard: Dashboard,
    comparison: Comparison | None,
    units: list[models.Unit],
    milestones: list[MilestoneOut],
    trends: WeeklyTrends,
) -> Response:
    context: dict[str, object] = {"dashboard": dashboard, "comparison": comparison, "criteria": criteria}
    context["trends"] = trends
    context |= {"units": units, "milestones": milestones, "can_manage": can_review(view.user)}
    if dashboard.scope == "structure":
        context["figure_themes"] = attachable_themes(view.session, view.user, dashboard.scope_id)
    return view.render("dashboard.html", context)


@router.get("/programmes/{programme_id}")
def programme(
    programme_id: RowIdPath,
    view: PageDep,
    criteria: FilterDep,
) -> Response:
    dashboard = programme_dashboard(view.session, view.user, programme_id, criteria)
    comparison = programme_comparison(view.session, view.user, programme_id, criteria)
    milestones = milestones_of(view.session, view.user, programme_id=programme_id)
    trends = programme_trends(view.session, view.user, programme_id, criteria)
    return _dashboard_page(view, criteria, dashboard, comparison, [], milestones, trends)


@router.get("/structures/{structure_id}")
def structure(
    structure_id: RowIdPath,
    view: PageDep,
    criteria: FilterDep,
) -> Response:
    dashboard = structure_dashboard(view.session, view.user, structure_id, criteria)
    units = units_of(view.session, view.user, structure_id)
    milestones = milestones_of(view.session, view.user, structure_ids=[structure_id])
    trends = structure_trends(view.session, view.user, structure_id, criteria)
    return _dashboard_page(view, criteria, dashboard, None, units, milestones, trends)


@router.get("/structures/{structure_id}/before-after")
def before_after(
    structure_id: RowIdPath,
    view: PageDep,
    asked: PeriodsDep,
) -> Response:
    comparison = compare_periods(view.session, view.user, structure_id, asked)
    return view.render(
        "rate_comparison.html",
        {
            "comparison": comparison,
            "asked": asked,
            "units": units_of(view.session, view.user, structure_id),
            "milestones": milestones_of(view.session, view.user, structure_ids=[structure_id]),
            "figure_themes": attachable_themes(view.session, view.user, structure_id),
            "figure_rows": rows_offered(comparison),
            "api": f"/api/v1/structures/{structure_id}/before-after",
            "query": view.request.url.query,
        },
    )


@router.get("/programmes/{programme_id}/structures-compared")
def structures_compared(
    programme_id: RowIdPath,
    view: PageDep,
) -> Response:
    """The form to pick two structures; the comparison itself once both are chosen."""
    structures = structures_of_programme(view.session, view.user, programme_id)
    comparison = None
    asked = None
    themes: list[AttachableTheme] = []
    query = view.request.query_params
    if query.get("reference_structure_id") and query.get("compared_structure_id"):
        asked = structures_asked(view.request)
        comparison = compare_structures(view.session, view.user, programme_id, asked)
        both = (asked.reference_structure_id, asked.compared_structure_id)
        themes = attachable_themes(view.session, view.user, *both)
    return view.render(
        "structures_compared.html",
        {
            "comparison": comparison,
            "asked": asked,
            "programme_id": programme_id,
            "structures": structures,
            "figure_themes": themes,
            "figure_rows": rows_offered(comparison) if comparison else [],
            "api": f"/api/v1/programmes/{programme_id}/structures-compared",
            "query": view.request.url.query,
        },
    )


@router.get("/agreement")
def agreement(
    view: PageDep,
    scope: ScopeDep,
    slice_seconds: SliceQuery = DEFAULT_SLICE_SECONDS,
) -> Response:
    pairs = paired_visits(view.session, scope, slice_seconds=slice_seconds)
    window_minutes = int(MATCH_WINDOW.total_seconds() // 60)
    context = {"pairs": pairs, "window_minutes": window_minutes, "slice_seconds": slice_seconds}
    return view.render("agreement.html", context)
