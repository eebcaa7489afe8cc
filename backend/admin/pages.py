"""Administration pages: programmes, structures, units, observers, enrolment codes, tablets, accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from backend.admin import service as admin
from backend.audit.service import recent_events
from backend.auth.access import require_reviewer, visible_programmes, visible_structures
from backend.auth.deps import CsrfFormDep
from backend.dashboards.milestones import (
    add_milestone_at,
    delete_milestone,
    edit_milestone_at,
    milestone_programme,
    milestones_of,
)
from backend.db import SessionDep
from backend.errors import ApiError
from backend.params import EmailForm, NameForm, OptionalRowIdForm, PasswordForm, RowIdForm, RowIdPath
from backend.privacy.service import set_programme_glossary, set_small_cell_threshold
from backend.web.forms import form_problems
from backend.web.layout import PageDep, PageFormDep, SignedInPage, back_to
from shared.taxonomy import available_versions

router = APIRouter(prefix="/admin", include_in_schema=False)


def _refused(view: SignedInPage, name: str, context: dict[str, object], error: ApiError) -> Response:
    return view.render(name, {**context, "error": error}, status_code=422)


@router.get("")
def programmes(view: PageDep, message: str | None = None) -> Response:
    require_reviewer(view.user)
    return view.render(
        "admin_programmes.html",
        {
            "programmes": visible_programmes(view.session, view.user),
            "versions": available_versions(),
            "message": message,
        },
    )


@router.post("/programmes")
def create_programme(
    view: PageFormDep,
    name: NameForm = "",
    region: NameForm = "",
    taxonomy_version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    with form_problems() as form:
        created = admin.create_programme(view.session, view.user, name, region, taxonomy_version)
    if form.error:
        context = {
            "programmes": visible_programmes(view.session, view.user),
            "versions": available_versions(),
        }
        return _refused(view, "admin_programmes.html", context, form.error)
    return back_to(f"/admin/programmes/{created.id}", "Programme créé.")


def _programme_page(
    view: SignedInPage,
    programme_id: int,
    message: str | None = None,
    error: ApiError | None = None,
    enrolment: admin.EnrolmentIssued | None = None,
) -> Response:
    overview = admin.programme_overview(view.session, view.user, programme_id)
    counts = admin.counts_by_structure(
        view.session, [s.id for s, _ in overview.structures if s.id is not None]
    )
    status = error.status_code if error else 200
    return view.render(
        "admin_programme.html",
        {
            "overview": overview,
            "counts": counts,
            "message": message,
            "error": error,
            "enrolment": enrolment,
            "milestones": milestones_of(view.session, view.user, programme_id=programme_id),
            # Configured, never the Host header (the client's choice, printed on a code tablets trust).
            "server_url": view.request.app.state.settings.public_url,
        },
        status_code=status,
    )


def _programme_submitted(
    view: SignedInPage, programme_id: int, change: Callable[[], object], done: str
) -> Response:
    """Run a form's change: back to the programme page with ``done``, or that page again with the refusal."""
    with form_problems() as form:
        change()
    if form.error:
        return _programme_page(view, programme_id, error=form.error)
    return back_to(f"/admin/programmes/{programme_id}", done)


@router.get("/programmes/{programme_id}")
def programme(programme_id: RowIdPath, view: PageDep, message: str | None = None) -> Response:
    return _programme_page(view, programme_id, message)


@router.post("/programmes/{programme_id}/structures")
def create_structure(
    programme_id: RowIdPath,
    view: PageFormDep,
    name: NameForm = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    finess: Annotated[str, Form(max_length=40)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "Europe/Paris",
) -> Response:
    return _programme_submitted(
        view,
        programme_id,
        lambda: admin.create_structure(
            view.session, view.user, programme_id, name=name, kind=kind, finess=finess, timezone=timezone
        ),
        "Structure créée.",
    )


@router.post("/structures/{structure_id}/units")
def create_unit(structure_id: RowIdPath, view: PageFormDep, name: NameForm = "") -> Response:
    structure = admin.managed_structure(view.session, view.user, structure_id)
    return _programme_submitted(
        view,
        structure.programme_id,
        lambda: admin.create_unit(view.session, view.user, structure_id, name),
        "Unité créée.",
    )


@router.post("/programmes/{programme_id}/never-masked")
def set_never_masked(
    programme_id: RowIdPath,
    view: PageFormDep,
    terms: Annotated[str, Form(max_length=40_000)] = "",
) -> Response:
    return _programme_submitted(
        view,
        programme_id,
        lambda: set_programme_glossary(view.session, view.user, programme_id, terms),
        "Mots jamais masqués enregistrés.",
    )


@router.post("/programmes/{programme_id}/small-cells")
def set_small_cells(
    programme_id: RowIdPath,
    view: PageFormDep,
    threshold: Annotated[int, Form(ge=1, le=100)] = 5,
) -> Response:
    return _programme_submitted(
        view,
        programme_id,
        lambda: set_small_cell_threshold(view.session, view.user, programme_id, threshold),
        "Seuil enregistré.",
    )


@router.post("/programmes/{programme_id}/milestones")
def add_milestone(
    programme_id: RowIdPath,
    view: PageFormDep,
    place: Annotated[str, Form(max_length=60)],
    day: Annotated[date, Form()],
    label: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """``place``: a structure's id, or « structure:unit » for one of its units."""
    return _programme_submitted(
        view,
        programme_id,
        lambda: add_milestone_at(view.session, view.user, programme_id, place, day, label),
        "Jalon ajouté.",
    )


@router.post("/milestones/{milestone_id}")
def edit_milestone(
    milestone_id: RowIdPath,
    view: PageFormDep,
    place: Annotated[str, Form(max_length=60)],
    day: Annotated[date, Form()],
    label: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Correct a milestone from the programme page: its place, day or label."""
    programme_id = milestone_programme(view.session, view.user, milestone_id)
    return _programme_submitted(
        view,
        programme_id,
        lambda: edit_milestone_at(view.session, view.user, milestone_id, place, day, label),
        "Jalon corrigé.",
    )


@router.post("/milestones/{milestone_id}/delete")
def remove_milestone(milestone_id: RowIdPath, view: PageFormDep) -> Response:
    programme_id = delete_milestone(view.session, view.user, milestone_id)
    return back_to(f"/admin/programmes/{programme_id}", "Jalon supprimé.")


@router.post("/programmes/{programme_id}/observers")
def create_observer(programme_id: RowIdPath, view: PageFormDep, name: NameForm = "") -> Response:
    return _programme_submitted(
        view,
        programme_id,
        lambda: admin.create_observer(view.session, view.user, programme_id, name),
        "Observateur créé.",
    )


@router.post("/programmes/{programme_id}/enrolment-codes")
def create_enrolment_code(
    programme_id: RowIdPath,
    view: PageFormDep,
    observer_id: RowIdForm,
    structure_id: RowIdForm,
    days: Annotated[int, Form()] = 7,
    server_url: NameForm = "",
) -> Response:
    admin.managed_programme(view.session, view.user, programme_id)
    with form_problems() as form:
        issued = admin.issue_enrolment_code(
            view.session,
            view.user,
            observer_id=observer_id,
            structure_id=structure_id,
            days=days,
            server_url=server_url,
        )
    if form.error:
        return _programme_page(view, programme_id, error=form.error)
    # Shown once, never stored in clear: the page is the only place the code appears.
    return _programme_page(view, programme_id, enrolment=issued)


@router.get("/devices")
def devices(view: PageDep, message: str | None = None) -> Response:
    rows = admin.devices_of(view.session, view.user)
    return view.render("admin_devices.html", {"devices": rows, "message": message})


@router.post("/devices/{device_id}/revoke")
def revoke_device(device_id: RowIdPath, session: SessionDep, signed_in: CsrfFormDep) -> Response:
    device = admin.revoke(session, signed_in.user, device_id)
    return back_to(
        "/admin/devices", f"Tablette {device.label or device.id} révoquée : elle ne peut plus synchroniser."
    )


def _users_context(view: SignedInPage) -> dict[str, object]:
    return {
        "accounts": admin.accounts(view.session, view.user),
        "all_programmes": visible_programmes(view.session, view.user),
        "all_structures": visible_structures(view.session, view.user),
    }


@router.get("/users")
def users(view: PageDep, message: str | None = None) -> Response:
    return view.render("admin_users.html", {**_users_context(view), "message": message})


@router.post("/users")
def create_user(
    view: PageFormDep,
    email: EmailForm = "",
    full_name: NameForm = "",
    role: Annotated[str, Form(max_length=20)] = "",
    password: PasswordForm = "",
    programme_id: OptionalRowIdForm = None,
    structure_id: OptionalRowIdForm = None,
) -> Response:
    draft = {"email": email, "full_name": full_name, "role": role}  # shown again if the form is refused
    with form_problems() as form:
        created = admin.create_account(
            view.session,
            view.user,
            password=password,
            programme_id=programme_id,
            structure_id=structure_id,
            **draft,
        )
    if form.error:
        return _refused(view, "admin_users.html", {**_users_context(view), "draft": draft}, form.error)
    return back_to("/admin/users", f"Compte créé : {created.email}.")


@router.post("/users/{account_id}/active")
def set_active(
    account_id: RowIdPath, session: SessionDep, signed_in: CsrfFormDep, active: Annotated[bool, Form()]
) -> Response:
    account = admin.set_account_active(session, signed_in.user, account_id, active)
    state = "réactivé" if account.is_active else "désactivé (ses sessions sont fermées)"
    return back_to("/admin/users", f"Compte {account.email} {state}.")


@router.get("/audit")
def audit(view: PageDep) -> Response:
    events = recent_events(view.session, view.user)
    return view.render("admin_audit.html", {"events": events})
