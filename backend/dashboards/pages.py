"""Home, programme and structure dashboards, and the inter-observer agreement page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from backend.auth.access import units_of
from backend.auth.deps import FilterDep, ScopeDep, signed_in_browser
from backend.auth.users import UserRole
from backend.dashboards.service import programme_comparison, programme_dashboard, structure_dashboard
from backend.db import SessionDep
from backend.errors import ApiError
from backend.params import RowIdPath
from backend.review.agreement import MATCH_WINDOW, paired_visits
from backend.web.layout import PageDep, SignedInPage, navigation

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


@router.get("/programmes/{programme_id}")
def programme(programme_id: RowIdPath, view: PageDep, criteria: FilterDep) -> Response:
    dashboard = programme_dashboard(view.session, view.user, programme_id, criteria)
    comparison = programme_comparison(view.session, view.user, programme_id, criteria)
    return view.render(
        "dashboard.html",
        {"dashboard": dashboard, "comparison": comparison, "criteria": criteria, "units": []},
    )


@router.get("/structures/{structure_id}")
def structure(structure_id: RowIdPath, view: PageDep, criteria: FilterDep) -> Response:
    dashboard = structure_dashboard(view.session, view.user, structure_id, criteria)
    units = units_of(view.session, view.user, structure_id)
    return view.render(
        "dashboard.html",
        {"dashboard": dashboard, "comparison": None, "criteria": criteria, "units": units},
    )


@router.get("/agreement")
def agreement(view: PageDep, scope: ScopeDep) -> Response:
    pairs = paired_visits(view.session, scope)
    return view.render(
        "agreement.html",
        {"pairs": pairs, "window_minutes": int(MATCH_WINDOW.total_seconds() // 60)},
    )
