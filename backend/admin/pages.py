"""Administration pages: programmes, structures, units, observers, enrolment codes, tablets, accounts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from backend.admin import service as admin
from backend.audit.service import recent_events
from backend.auth.access import require_reviewer, visible_programmes, visible_structures
from backend.auth.deps import CsrfFormDep, SignedInDep
from backend.dashboards.milestones import add_milestone_at, milestones_of
from backend.db import SessionDep
from backend.errors import ApiError
from backend.params import OptionalRowIdForm, RowIdForm, RowIdPath
from backend.privacy.service import set_programme_glossary, set_small_cell_threshold
from backend.web.forms import FormOutcome, form_problems
from backend.web.layout import back_to, page
from shared.taxonomy import available_versions

router = APIRouter(prefix="/admin", include_in_schema=False)


def _refused(
    request: Request,
    session: SessionDep,
    signed_in: SignedInDep,
    name: str,
    context: dict[str, object],
    error: ApiError,
) -> Response:
    return page(request, session, signed_in, name, {**context, "error": error}, status_code=422)


@router.get("")
def programmes(
    request: Request, session: SessionDep, signed_in: SignedInDep, message: str | None = None
) -> Response:
    require_reviewer(signed_in.user)
    return page(
        request,
        session,
        signed_in,
        "admin_programmes.html",
        {
            "programmes": visible_programmes(session, signed_in.user),
            "versions": available_versions(),
            "message": message,
        },
    )


@router.post("/programmes")
def create_programme(
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    name: Annotated[str, Form(max_length=500)] = "",
    region: Annotated[str, Form(max_length=500)] = "",
    taxonomy_version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    with form_problems() as form:
        created = admin.create_programme(session, signed_in.user, name, region, taxonomy_version)
    if form.error:
        context = {
            "programmes": visible_programmes(session, signed_in.user),
            "versions": available_versions(),
        }
        return _refused(request, session, signed_in, "admin_programmes.html", context, form.error)
    return back_to(f"/admin/programmes/{created.id}", "Programme créé.")


def _programme_page(
    request: Request,
    session: SessionDep,
    signed_in: SignedInDep,
    programme_id: int,
    message: str | None = None,
    error: ApiError | None = None,
    enrolment: admin.EnrolmentIssued | None = None,
) -> Response:
    overview = admin.programme_overview(session, signed_in.user, programme_id)
    counts = admin.counts_by_structure(session, [s.id for s, _ in overview.structures if s.id is not None])
    status = error.status_code if error else 200
    return page(
        request,
        session,
        signed_in,
        "admin_programme.html",
        {
            "overview": overview,
            "counts": counts,
            "message": message,
            "error": error,
            "enrolment": enrolment,
            "milestones": milestones_of(session, signed_in.user, programme_id=programme_id),
            # Configured, never the Host header (the client's choice, printed on a code tablets trust).
            "server_url": request.app.state.settings.public_url,
        },
        status_code=status,
    )


def _programme_form_done(
    request: Request,
    session: SessionDep,
    signed_in: SignedInDep,
    programme_id: int,
    form: FormOutcome,
    done: str,
) -> Response:
    """The programme page again with the form's error, or back to it with ``done`` said."""
    if form.error:
        return _programme_page(request, session, signed_in, programme_id, error=form.error)
    return back_to(f"/admin/programmes/{programme_id}", done)


@router.get("/programmes/{programme_id}")
def programme(
    programme_id: RowIdPath,
    request: Request,
    session: SessionDep,
    signed_in: SignedInDep,
    message: str | None = None,
) -> Response:
    return _programme_page(request, session, signed_in, programme_id, message)


@router.post("/programmes/{programme_id}/structures")
def create_structure(
    programme_id: RowIdPath,
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    name: Annotated[str, Form(max_length=500)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    finess: Annotated[str, Form(max_length=40)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "Europe/Paris",
) -> Response:
    with form_problems() as form:
        admin.create_structure(
            session, signed_in.user, programme_id, name=name, kind=kind, finess=finess, timezone=timezone
        )
    return _programme_form_done(request, session, signed_in, programme_id, form, "Structure créée.")


@router.post("/structures/{structure_id}/units")
def create_unit(
    structure_id: RowIdPath,
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    name: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    structure = admin.managed_structure(session, signed_in.user, structure_id)
    with form_problems() as form:
        admin.create_unit(session, signed_in.user, structure_id, name)
    return _programme_form_done(request, session, signed_in, structure.programme_id, form, "Unité créée.")


@router.post("/programmes/{programme_id}/never-masked")
def set_never_masked(
    programme_id: RowIdPath,
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    terms: Annotated[str, Form(max_length=40_000)] = "",
) -> Response:
    with form_problems() as form:
        set_programme_glossary(session, signed_in.user, programme_id, terms)
    return _programme_form_done(
        request, session, signed_in, programme_id, form, "Mots jamais masqués enregistrés."
    )


@router.post("/programmes/{programme_id}/small-cells")
def set_small_cells(
    programme_id: RowIdPath,
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    threshold: Annotated[int, Form(ge=1, le=100)] = 5,
) -> Response:
    with form_problems() as form:
        set_small_cell_threshold(session, signed_in.user, programme_id, threshold)
    return _programme_form_done(request, session, signed_in, programme_id, form, "Seuil enregistré.")


@router.post("/programmes/{programme_id}/milestones")
def add_milestone(
    programme_id: RowIdPath,
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    place: Annotated[str, Form(max_length=60)],
    day: Annotated[date, Form()],
    label: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """``place``: a structure's id, or « structure:unit » for one of its units."""
    with form_problems() as form:
        add_milestone_at(session, signed_in.user, programme_id, place, day, label)
    return _programme_form_done(request, session, signed_in, programme_id, form, "Jalon ajouté.")


@router.post("/programmes/{programme_id}/observers")
def create_observer(
    programme_id: RowIdPath,
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    name: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    with form_problems() as form:
        admin.create_observer(session, signed_in.user, programme_id, name)
    return _programme_form_done(request, session, signed_in, programme_id, form, "Observateur créé.")


@router.post("/programmes/{programme_id}/enrolment-codes")
def create_enrolment_code(
    programme_id: RowIdPath,
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    observer_id: RowIdForm,
    structure_id: RowIdForm,
    days: Annotated[int, Form()] = 7,
    server_url: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    admin.managed_programme(session, signed_in.user, programme_id)
    with form_problems() as form:
        issued = admin.issue_enrolment_code(
            session,
            signed_in.user,
            observer_id=observer_id,
            structure_id=structure_id,
            days=days,
            server_url=server_url,
        )
    if form.error:
        return _programme_page(request, session, signed_in, programme_id, error=form.error)
    # Shown once, never stored in clear: the page is the only place the code appears.
    return _programme_page(request, session, signed_in, programme_id, enrolment=issued)


@router.get("/devices")
def devices(
    request: Request, session: SessionDep, signed_in: SignedInDep, message: str | None = None
) -> Response:
    rows = admin.devices_of(session, signed_in.user)
    return page(request, session, signed_in, "admin_devices.html", {"devices": rows, "message": message})


@router.post("/devices/{device_id}/revoke")
def revoke_device(device_id: RowIdPath, session: SessionDep, signed_in: CsrfFormDep) -> Response:
    device = admin.revoke(session, signed_in.user, device_id)
    return back_to(
        "/admin/devices", f"Tablette {device.label or device.id} révoquée : elle ne peut plus synchroniser."
    )


def _users_context(session: SessionDep, signed_in: SignedInDep) -> dict[str, object]:
    return {
        "accounts": admin.accounts(session, signed_in.user),
        "all_programmes": visible_programmes(session, signed_in.user),
        "all_structures": visible_structures(session, signed_in.user),
    }


@router.get("/users")
def users(
    request: Request, session: SessionDep, signed_in: SignedInDep, message: str | None = None
) -> Response:
    return page(
        request,
        session,
        signed_in,
        "admin_users.html",
        {**_users_context(session, signed_in), "message": message},
    )


@router.post("/users")
def create_user(
    request: Request,
    session: SessionDep,
    signed_in: CsrfFormDep,
    email: Annotated[str, Form(max_length=320)] = "",
    full_name: Annotated[str, Form(max_length=500)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    programme_id: OptionalRowIdForm = None,
    structure_id: OptionalRowIdForm = None,
) -> Response:
    with form_problems() as form:
        created = admin.create_account(
            session,
            signed_in.user,
            email=email,
            full_name=full_name,
            role=role,
            password=password,
            programme_id=programme_id,
            structure_id=structure_id,
        )
    if form.error:
        context = {
            **_users_context(session, signed_in),
            "draft": {"email": email, "full_name": full_name, "role": role},
        }
        return _refused(request, session, signed_in, "admin_users.html", context, form.error)
    return back_to("/admin/users", f"Compte créé : {created.email}.")


@router.post("/users/{account_id}/active")
def set_active(
    account_id: RowIdPath, session: SessionDep, signed_in: CsrfFormDep, active: Annotated[bool, Form()]
) -> Response:
    account = admin.set_account_active(session, signed_in.user, account_id, active)
    state = "réactivé" if account.is_active else "désactivé (ses sessions sont fermées)"
    return back_to("/admin/users", f"Compte {account.email} {state}.")


@router.get("/audit")
def audit(request: Request, session: SessionDep, signed_in: SignedInDep) -> Response:
    events = recent_events(session, signed_in.user)
    return page(request, session, signed_in, "admin_audit.html", {"events": events})
