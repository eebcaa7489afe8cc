"""The workshop pages: the list, preparation and record of one workshop, the presenter screen, the actions
page, the record PDF, and the participants' voting page (no account)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from backend.auth.access import can_review, visible_programmes, visible_structure
from backend.db import SessionDep
from backend.errors import ApiError
from backend.params import OptionalRowIdForm, RowIdForm, RowIdPath
from backend.web.forms import form_problems
from backend.web.layout import PageDep, PageFormDep, SignedInPage, back_to
from backend.web.templating import render
from backend.workshops import actions, deck, figures, record, service, votes
from backend.workshops.actions import ActionStatus
from backend.workshops.figures import FigureKind
from backend.workshops.scope import may_run
from backend.workshops.service import WorkshopStatus
from shared.schema import DB_INT_MAX, NOTE_MAX_LENGTH

router = APIRouter(include_in_schema=False)

TextForm = Annotated[str, Form(max_length=NOTE_MAX_LENGTH)]
Step = Annotated[int, Form(ge=-1, le=1)]
VoteCode = Annotated[str, Path(min_length=1, max_length=20)]
Message = Annotated[str | None, Query(max_length=200)]
FigureParam = Annotated[str, Form(max_length=40)]  # a figure's parameter, checked by the service
# How often the presenter screen asks for the votes while it is online (it keeps the last count offline).
VOTES_POLL_SECONDS = 4
# The presenter screen is one self-contained page (it must work without network once loaded): its own
# style and script are inline, allowed by a nonce rather than by 'unsafe-inline'.
PRESENTER_POLICY = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _workshop_path(workshop_id: int) -> str:
    return f"/workshops/{workshop_id}"


@router.get("/workshops")
def workshops(view: PageDep, message: Message = None) -> Response:
    return _list(view, message)


def _list(view: SignedInPage, message: str | None = None, error: ApiError | None = None) -> Response:
    return view.render(
        "workshops/list.html",
        {
            "workshops": service.workshops_for(view.session, view.user),
            "programmes": visible_programmes(view.session, view.user) if can_review(view.user) else [],
            "today": date.today(),
            "message": message,
            "error": error,
        },
        status_code=error.status_code if error else 200,
    )


@router.post("/workshops")
def create(
    view: PageFormDep,
    programme_id: RowIdForm,
    held_on: Annotated[date, Form()],
    title: TextForm = "",
    place: TextForm = "",
    participants: TextForm = "",
    structure_ids: Annotated[list[int], Form(max_length=50)] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    with form_problems() as form:
        workshop = service.create_workshop(
            view.session, view.user, programme_id, title, held_on, place, participants, structure_ids
        )
    if form.error:
        return _list(view, error=form.error)
    assert workshop.id is not None
    return back_to(_workshop_path(workshop.id), "Atelier créé : ajoutez-y des observations depuis la liste.")


def _prep(
    view: SignedInPage, workshop_id: int, message: str | None = None, error: ApiError | None = None
) -> Response:
    shown = deck.workshop_deck(view.session, view.user, workshop_id)
    return view.render(
        "workshops/workshop.html",
        {
            "deck": shown,
            "may_run": may_run(view.session, view.user, shown.workshop),
            "action_statuses": actions.ACTION_STATUS_LABELS,
            "status_labels": service.WORKSHOP_STATUS_LABELS,
            "message": message,
            "error": error,
        },
        status_code=error.status_code if error else 200,
    )


def _submitted(view: SignedInPage, workshop_id: int, change: Callable[[], object], done: str) -> Response:
    """Run a form's change: back to the workshop with ``done``, or the workshop again with the refusal."""
    with form_problems() as form:
        change()
    if form.error:
        return _prep(view, workshop_id, error=form.error)
    return back_to(_workshop_path(workshop_id), done)


@router.get("/workshops/{workshop_id}")
def workshop(workshop_id: RowIdPath, view: PageDep, message: Message = None) -> Response:
    return _prep(view, workshop_id, message)


@router.post("/workshops/{workshop_id}/observations")
def add_observations(
    workshop_id: RowIdPath,
    view: PageFormDep,
    ids: Annotated[list[UUID], Form(max_length=200)] = [],  # noqa: B006
) -> Response:
    added = service.add_observations(view.session, view.user, workshop_id, ids)
    return back_to(_workshop_path(workshop_id), f"{added} observation(s) ajoutée(s) à l'atelier.")


@router.post("/workshop-from-list")
def add_from_review_list(
    view: PageFormDep,
    workshop_id: RowIdForm,
    ids: Annotated[list[UUID], Form(max_length=200)] = [],  # noqa: B006
) -> Response:
    """The review list's "ajouter à l'atelier": the ticked observations go on the chosen workshop's deck."""
    return add_observations(workshop_id, view, ids)


@router.post("/workshops/{workshop_id}/themes")
def add_theme(workshop_id: RowIdPath, view: PageFormDep, title: TextForm = "") -> Response:
    change = partial(service.add_theme, view.session, view.user, workshop_id, title)
    return _submitted(view, workshop_id, change, "Thème ajouté.")


@router.post("/workshops/{workshop_id}/themes/{theme_id}/move")
def move_theme(workshop_id: RowIdPath, theme_id: RowIdPath, view: PageFormDep, step: Step) -> Response:
    service.move_theme(view.session, view.user, workshop_id, theme_id, step)
    return back_to(_workshop_path(workshop_id), "Ordre des thèmes enregistré.")


@router.post("/workshops/{workshop_id}/themes/{theme_id}/dots")
def set_dots(
    workshop_id: RowIdPath,
    theme_id: RowIdPath,
    view: PageFormDep,
    dots: Annotated[int, Form(ge=0, le=DB_INT_MAX)],
) -> Response:
    service.set_dots(view.session, view.user, workshop_id, theme_id, dots)
    return back_to(_workshop_path(workshop_id), "Gommettes enregistrées.")


@router.post("/workshops/{workshop_id}/themes/{theme_id}/notes")
def add_note(workshop_id: RowIdPath, theme_id: RowIdPath, view: PageFormDep, body: TextForm = "") -> Response:
    change = partial(service.add_note, view.session, view.user, workshop_id, theme_id, body)
    return _submitted(view, workshop_id, change, "Note enregistrée.")


@router.post("/workshops/{workshop_id}/cards/{card_id}/theme")
def place_card(
    workshop_id: RowIdPath, card_id: RowIdPath, view: PageFormDep, theme_id: OptionalRowIdForm = None
) -> Response:
    service.place_card(view.session, view.user, workshop_id, card_id, theme_id)
    return back_to(_workshop_path(workshop_id), "Carte classée.")


@router.post("/workshops/{workshop_id}/cards/{card_id}/move")
def move_card(workshop_id: RowIdPath, card_id: RowIdPath, view: PageFormDep, step: Step) -> Response:
    service.move_card(view.session, view.user, workshop_id, card_id, step)
    return back_to(_workshop_path(workshop_id), "Ordre des cartes enregistré.")


@router.post("/workshops/{workshop_id}/cards/{card_id}/remove")
def remove_card(workshop_id: RowIdPath, card_id: RowIdPath, view: PageFormDep) -> Response:
    service.remove_card(view.session, view.user, workshop_id, card_id)
    return back_to(_workshop_path(workshop_id), "Carte retirée de l'atelier.")


@router.post("/workshops/{workshop_id}/status")
def set_status(
    workshop_id: RowIdPath, view: PageFormDep, status: Annotated[WorkshopStatus, Form()]
) -> Response:
    service.set_workshop_status(view.session, view.user, workshop_id, status)
    said = (
        "Séance ouverte : les votes par téléphone sont possibles."
        if status == WorkshopStatus.OPEN
        else "Séance close."
    )
    return back_to(_workshop_path(workshop_id), said)


@router.post("/workshops/{workshop_id}/actions")
def add_action(
    workshop_id: RowIdPath,
    view: PageFormDep,
    title: TextForm = "",
    owner_role: TextForm = "",
    milestone_label: TextForm = "",
    due_on: Annotated[date | None, Form()] = None,
    milestone_on: Annotated[date | None, Form()] = None,
    theme_ids: Annotated[list[int], Form(max_length=100)] = [],  # noqa: B006
    observation_ids: Annotated[list[UUID], Form(max_length=200)] = [],  # noqa: B006
) -> Response:
    draft = actions.ActionDraft(title, owner_role, due_on, milestone_label, milestone_on)
    change = partial(
        actions.add_action, view.session, view.user, workshop_id, draft, theme_ids, observation_ids
    )
    return _submitted(view, workshop_id, change, "Action enregistrée.")


@router.post("/workshop-actions/{action_id}/status")
def set_action_status(
    action_id: RowIdPath,
    view: PageFormDep,
    status: Annotated[ActionStatus, Form()],
    milestone_on: Annotated[date | None, Form()] = None,
    back: Annotated[str, Form(max_length=200)] = "/actions",
) -> Response:
    with form_problems() as form:
        actions.set_action_status(view.session, view.user, action_id, status, milestone_on)
    target = back if back.startswith(("/actions", "/workshops/")) and "//" not in back else "/actions"
    return back_to(target, form.error.message if form.error else "Statut de l'action enregistré.")


@router.get("/actions")
def actions_page(
    view: PageDep,
    programme_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    structure_id: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    message: Message = None,
) -> Response:
    followed = actions.actions_followed(view.session, view.user, programme_id, structure_id)
    return view.render(
        "workshops/actions.html",
        {
            "actions": followed,
            "programme_id": programme_id,
            "structure_id": structure_id,
            "action_statuses": actions.ACTION_STATUS_LABELS,
            "message": message,
        },
    )


@router.get("/workshops/{workshop_id}/present")
def present(workshop_id: RowIdPath, view: PageDep) -> Response:
    """Full screen for a projector: everything inlined, so that it keeps working without network."""
    shown = deck.workshop_deck(view.session, view.user, workshop_id)
    nonce = secrets.token_urlsafe(16)
    vote_url = str(view.request.base_url).rstrip("/") + "/vote"
    response = render(
        view.request,
        "workshops/present.html",
        view.signed_in,
        {"deck": shown, "nonce": nonce, "vote_url": vote_url, "poll_seconds": VOTES_POLL_SECONDS},
    )
    response.headers["Content-Security-Policy"] = PRESENTER_POLICY.format(nonce=nonce)
    return response


@router.get("/workshops/{workshop_id}/record.pdf")
def record_pdf(workshop_id: RowIdPath, view: PageDep) -> Response:
    content, name = record.workshop_record(view.session, view.user, workshop_id)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/workshop-figures")
def attach_figure(
    view: PageFormDep,
    theme_id: RowIdForm,
    kind: Annotated[FigureKind, Form()],
    structure_id: RowIdForm,
    unit_id: FigureParam = "",
    date_from: FigureParam = "",
    date_to: FigureParam = "",
    milestone_id: FigureParam = "",
    reference_from: FigureParam = "",
    reference_to: FigureParam = "",
    compared_from: FigureParam = "",
    compared_to: FigureParam = "",
    compared_structure_id: FigureParam = "",
    attribute: FigureParam = "",
) -> Response:
    """The dashboards' and comparison page's "joindre à un thème": what the page shows (its structure,
    unit, days or milestone, sent as hidden fields) becomes a figure of the chosen theme."""
    sent = {
        "unit_id": unit_id,
        "date_from": date_from,
        "date_to": date_to,
        "milestone_id": milestone_id,
        "reference_from": reference_from,
        "reference_to": reference_to,
        "compared_from": compared_from,
        "compared_to": compared_to,
        "compared_structure_id": compared_structure_id,
        "attribute": attribute,
    }
    with form_problems() as form:
        figure = figures.attach_figure(view.session, view.user, theme_id, kind, structure_id, sent)
    if form.error:
        return back_to(_figure_source(view, kind, structure_id, sent), form.error.message)
    return back_to(_workshop_path(figure.workshop_id), "Figure jointe au thème.")


_SOURCE_PARAMS = {
    FigureKind.CATEGORY_RATES: ("unit_id", "date_from", "date_to"),
    FigureKind.BEFORE_AFTER: (
        "milestone_id",
        "unit_id",
        "reference_from",
        "reference_to",
        "compared_from",
        "compared_to",
    ),
    FigureKind.STRUCTURES_COMPARED: ("compared_structure_id", "date_from", "date_to"),
}


def _figure_source(view: SignedInPage, kind: FigureKind, structure_id: int, sent: dict[str, str]) -> str:
    """The page the figure was attached from, as it was (a refused attach says why where it was asked)."""
    shown = {name: sent[name] for name in _SOURCE_PARAMS[kind] if sent.get(name)}
    if kind == FigureKind.STRUCTURES_COMPARED:
        try:  # its programme's comparison page, for a structure the user may read
            structure = visible_structure(view.session, view.user, structure_id)
        except ApiError:
            return "/"
        shown = {"reference_structure_id": str(structure_id), **shown}
        return f"/programmes/{structure.programme_id}/structures-compared?{urlencode(shown)}"
    path = f"/structures/{structure_id}" + ("/before-after" if kind == FigureKind.BEFORE_AFTER else "")
    return f"{path}?{urlencode(shown)}" if shown else path


@router.post("/workshops/{workshop_id}/figures/{figure_id}/remove")
def remove_figure(workshop_id: RowIdPath, figure_id: RowIdPath, view: PageFormDep) -> Response:
    figures.remove_figure(view.session, view.user, workshop_id, figure_id)
    return back_to(_workshop_path(workshop_id), "Figure retirée du thème.")


@router.get("/workshops/{workshop_id}/votes")
def live_votes(workshop_id: RowIdPath, view: PageDep) -> Response:
    """The presenter screen's live count: each theme's votes, as JSON (the screen polls it while online)."""
    counted = deck.theme_votes(view.session, view.user, workshop_id)
    themes = [{"id": theme_id, "votes": count} for theme_id, count in counted.items()]
    return JSONResponse({"workshop_id": workshop_id, "themes": themes}, headers={"Cache-Control": "no-store"})


@router.get("/workshops/{workshop_id}/record.docx")
def record_docx(workshop_id: RowIdPath, view: PageDep) -> Response:
    content, name = record.workshop_record_docx(view.session, view.user, workshop_id)
    return Response(
        content,
        media_type=record.DOCX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# Participants' phones: no account, a random cookie per phone.


def _voter_token(request: Request) -> tuple[str, bool]:
    token = request.cookies.get(votes.VOTER_COOKIE)
    if token and 20 <= len(token) <= 64:
        return token, False
    return votes.new_voter_token(), True


def _with_voter_cookie(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(
        votes.VOTER_COOKIE,
        token,
        max_age=12 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/vote",
    )
    return response


@router.get("/vote")
def vote_home(request: Request, code: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    if code and code.strip():
        return RedirectResponse(f"/vote/{votes.normalise_code(code)}", status_code=303)
    return render(request, "workshops/vote.html", None, {"ballot": None})


@router.get("/vote/{code}")
def ballot(
    code: VoteCode,
    request: Request,
    session: SessionDep,
    message: Message = None,
) -> Response:
    token, fresh = _voter_token(request)
    shown = votes.ballot(session, code, token)
    response = render(request, "workshops/vote.html", None, {"ballot": shown, "message": message})
    return _with_voter_cookie(request, response, token) if fresh else response


@router.post("/vote/{code}/themes/{theme_id}")
def vote(code: VoteCode, theme_id: RowIdPath, request: Request, session: SessionDep) -> Response:
    """A vote needs the phone's cookie, set when it opened the ballot: a form posted from another site
    does not carry it (SameSite=Lax), so it cannot vote for someone's phone."""
    token = request.cookies.get(votes.VOTER_COOKIE)
    code = votes.normalise_code(code)
    if not token:
        return RedirectResponse(f"/vote/{code}", status_code=303)
    counted = votes.vote(session, code, theme_id, token)
    said = "Vote enregistré, merci." if counted else "Vous avez déjà voté pour ce thème."
    return back_to(f"/vote/{code}", said)
