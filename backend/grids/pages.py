"""The grid editor's pages: edit the draft, publish it, download a published version."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from backend.auth.deps import CsrfFormDep, SignedInDep
from backend.db import SessionDep
from backend.errors import ApiError
from backend.grids import service as grids
from backend.grids.form import FIXED, document_from_form, field_name
from backend.params import RowIdPath
from backend.web.forms import form_problems
from backend.web.layout import back_to, page

router = APIRouter(prefix="/admin/programmes/{programme_id}/grid", include_in_schema=False)


def _editor(
    request: Request,
    session: SessionDep,
    signed_in: SignedInDep,
    programme_id: int,
    message: str | None = None,
    problems: ApiError | None = None,
    posted: dict[str, object] | None = None,
) -> Response:
    editor = grids.grid_editor(session, signed_in.user, programme_id)
    document = posted if posted is not None else editor.document
    # Each problem links to its field, which says it beside itself.
    listed = (
        [(field_name(d.field, document), d.field, d.message) for d in problems.details] if problems else []
    )
    invalid = {name: text for name, _place, text in listed}
    return page(
        request,
        session,
        signed_in,
        "grid_editor.html",
        {
            "editor": editor,
            "document": document,
            "message": message,
            "problems": problems,
            "listed": listed,
            "invalid": invalid,
            "fixed_attributes": FIXED,
        },
        status_code=problems.status_code if problems else 200,
    )


@router.get("")
def editor(
    request: Request,
    programme_id: RowIdPath,
    signed_in: SignedInDep,
    session: SessionDep,
    message: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    return _editor(request, session, signed_in, programme_id, message)


@router.post("")
async def save(
    programme_id: RowIdPath, request: Request, session: SessionDep, signed_in: CsrfFormDep
) -> Response:
    fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    current = grids.grid_editor(session, signed_in.user, programme_id).document
    document = document_from_form(fields, current)
    with form_problems() as form:
        grids.save_draft_by(session, signed_in.user, programme_id, document)
    if form.error:
        return _editor(request, session, signed_in, programme_id, problems=form.error, posted=document)
    return back_to(
        f"/admin/programmes/{programme_id}/grid", "Brouillon enregistré : relisez-le, puis publiez-le."
    )


@router.post("/publish")
def publish(
    programme_id: RowIdPath, request: Request, session: SessionDep, signed_in: CsrfFormDep
) -> Response:
    with form_problems() as form:
        published = grids.publish_by(session, signed_in.user, programme_id)
    if form.error:
        return _editor(request, session, signed_in, programme_id, problems=form.error)
    done = (
        f"Version {published.number} publiée : les tablettes la reçoivent à leur prochaine synchronisation."
    )
    return back_to(f"/admin/programmes/{programme_id}/grid", done)


@router.get("/versions/{number}")
def download(
    programme_id: RowIdPath, number: RowIdPath, session: SessionDep, signed_in: SignedInDep
) -> Response:
    document = grids.export_by(session, signed_in.user, programme_id, number)
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="grille-{programme_id}-v{number}.json"'},
    )
