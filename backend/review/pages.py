"""The observation review pages: filtered list, detail, and the facilitator's actions."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from backend.auth.access import visible_structure_ids, visible_units
from backend.auth.deps import CsrfFormDep, FilterDep, ScopeDep
from backend.db import SessionDep
from backend.db_types import utcnow
from backend.errors import ApiError
from backend.review import service as review
from backend.review.filters import ObservationFilter
from backend.review.visits import visit_view
from backend.web.forms import FormOutcome, form_problems
from backend.web.layout import PageDep, PageFormDep, SignedInPage, back_to
from backend.workshops.service import workshops_run_by
from shared.schema import REVIEW_STATUS_LABELS, ReviewStatus

router = APIRouter(include_in_schema=False)


@router.get("/observations")
def observations(
    view: PageDep,
    scope: ScopeDep,
    criteria: FilterDep,
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
    message: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    listed = review.list_observations(view.session, view.user, criteria, scope, page_number)
    query = {k: v for k, v in view.request.query_params.items() if k not in ("page", "message") and v}
    return view.render(
        "observations.html",
        {
            "listing": listed,
            "criteria": criteria,
            "units": visible_units(view.session, scope),
            "tags": review.known_tags(view.session, view.user, scope),
            "query": query,
            "message": message,
            "workshops": workshops_run_by(view.session, view.user),
        },
    )


def _detail(
    view: SignedInPage,
    observation_id: UUID,
    message: str | None = None,
    error: ApiError | None = None,
    draft: str = "",
    criteria: ObservationFilter | None = None,
) -> Response:
    """The detail page; a refused input is shown on it, with what was typed kept in the form. With the
    list's filters (``criteria``), « retour » goes back to that list and previous/next walk it."""
    detail = review.observation_detail(view.session, view.user, observation_id)
    scope = visible_structure_ids(view.session, view.user)
    around = review.neighbours(
        view.session, view.user, criteria or ObservationFilter(), scope, observation_id
    )
    query = view.request.query_params
    list_query = urlencode([(k, v) for k, v in query.items() if k != "message" and v])
    return view.render(
        "observation.html",
        {
            "observation": detail,
            "message": message,
            "error": error,
            "draft": draft,
            "tags": review.known_tags(view.session, view.user, scope),
            "around": around,
            "list_query": list_query if criteria is not None else "",
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/observations/{observation_id}")
def observation(
    observation_id: UUID, view: PageDep, criteria: FilterDep, message: str | None = None
) -> Response:
    return _detail(view, observation_id, message, criteria=criteria)


def _detail_form_done(
    view: SignedInPage,
    observation_id: UUID,
    form: FormOutcome,
    done: str,
    draft: str = "",
) -> Response:
    """The detail page again with the form's error (and what was typed), or back to it with ``done``."""
    if form.error:
        return _detail(view, observation_id, error=form.error, draft=draft)
    return back_to(f"/observations/{observation_id}", done)


@router.get("/visits/{visit_id}")
def visit(visit_id: UUID, view: PageDep) -> Response:
    """A visit in time: its context, its timeline (SVG drawn here) and figures, its observations in order."""
    return view.render("visit.html", {"visit": visit_view(view.session, view.user, visit_id)})


@router.post("/observations/{observation_id}/status")
def change_status(
    observation_id: UUID,
    view: PageFormDep,
    review_status: Annotated[ReviewStatus, Form()],
) -> Response:
    review.set_review_status(view.session, view.user, observation_id, review_status)
    return back_to(f"/observations/{observation_id}", "Statut de revue enregistré.")


@router.post("/observations/{observation_id}/comments")
def comment(observation_id: UUID, view: PageFormDep, body: Annotated[str, Form()] = "") -> Response:
    with form_problems() as form:
        review.add_comment(view.session, view.user, observation_id, body)
    done = "Commentaire ajouté ; l'observateur le verra à sa prochaine synchronisation."
    return _detail_form_done(view, observation_id, form, done, draft=body)


@router.post("/observations/verbatims")
def approve_verbatims(
    session: SessionDep,
    signed_in: CsrfFormDep,
    ids: Annotated[list[UUID], Form(max_length=200)] = [],  # noqa: B006 (FastAPI copies defaults)
    approved: Annotated[bool, Form()] = True,
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The review list's bulk action: approve the ticked notes for workshop material (or withdraw)."""
    changed = review.approve_verbatims(session, signed_in.user, ids, approved)
    said = "approuvée(s) pour les ateliers" if approved else "retirée(s) des ateliers"
    return _back_to_list(back, f"{changed} note(s) {said}.")


def _back_to_list(back: str, said: str) -> Response:
    """Back to the review list as it was filtered (``back``: its query string), saying what was done."""
    filters = urlencode([(k, v) for k, v in parse_qsl(back) if k not in ("message", "page")])
    return back_to(f"/observations?{filters}" if filters else "/observations", said)


@router.post("/observations/bulk-status")
def bulk_status(
    view: PageFormDep,
    review_status: Annotated[ReviewStatus, Form()],
    ids: Annotated[list[UUID], Form(max_length=200)] = [],  # noqa: B006
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The review list's bulk action: one review status for the ticked observations."""
    changed = review.set_review_statuses(view.session, view.user, ids, review_status)
    label = REVIEW_STATUS_LABELS[review_status]["fr"]
    return _back_to_list(back, f"{changed} observation(s) passée(s) au statut « {label} ».")


@router.post("/observations/bulk-tags")
def bulk_tags(
    view: PageFormDep,
    ids: Annotated[list[UUID], Form(max_length=200)] = [],  # noqa: B006
    tag: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The review list's bulk action: one tag on the ticked observations (a theme to prepare a workshop)."""
    with form_problems() as form:
        tagged = review.add_tags(view.session, view.user, ids, tag)
    if form.error:
        return _back_to_list(back, form.error.message)
    return _back_to_list(back, f"Étiquette « {' '.join(tag.split())} » ajoutée à {tagged} observation(s).")


@router.post("/observations/{observation_id}/verbatim")
def approve_verbatim(
    observation_id: UUID,
    session: SessionDep,
    signed_in: CsrfFormDep,
    approved: Annotated[bool, Form()] = True,
) -> Response:
    review.approve_verbatims(session, signed_in.user, [observation_id], approved)
    said = "Note approuvée pour les ateliers." if approved else "Approbation retirée."
    return back_to(f"/observations/{observation_id}", said)


@router.post("/observations/{observation_id}/note")
def redact_note(
    observation_id: UUID,
    view: PageFormDep,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    with form_problems() as form:
        review.redact_note(view.session, view.user, observation_id, note, utcnow())
    done = "Note corrigée ; la tablette de l'observateur la recevra à sa prochaine synchronisation."
    return _detail_form_done(view, observation_id, form, done)


@router.post("/observations/{observation_id}/tags")
def add_tag(observation_id: UUID, view: PageFormDep, tag: Annotated[str, Form()] = "") -> Response:
    with form_problems() as form:
        review.add_tag(view.session, view.user, observation_id, tag)
    return _detail_form_done(view, observation_id, form, "Étiquette ajoutée.")


@router.post("/observations/{observation_id}/tags/remove")
def remove_tag(
    observation_id: UUID,
    session: SessionDep,
    signed_in: CsrfFormDep,
    tag: Annotated[str, Form()],
) -> Response:
    review.remove_tag(session, signed_in.user, observation_id, tag)
    return back_to(f"/observations/{observation_id}", "Étiquette retirée.")
