"""Exports for the signed-in facilitator: the observations of the filtered list or dashboard as CSV,
XLSX, JSON or the workshop pack (PDF). Same filters as the list, limited to the reader's structures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from backend import models
from backend.auth.deps import (
    FILTER_QUERY_DOC,
    NOT_FILTERS,
    AskedByDep,
    CurrentUserDep,
    ScopeDep,
    reader_filter,
)
from backend.dashboards.deps import PeriodsQuery, StructuresQuery
from backend.dashboards.rate_comparison import (
    compare_periods,
    compare_structures,
)
from backend.db import SessionDep
from backend.exports.jobs import begin_export, run_in_background
from backend.exports.rows import ExportScope
from backend.exports.service import ExportFormat, export_comparison
from backend.params import RowIdPath
from backend.review.filters import ObservationFilter

router = APIRouter(prefix="/api/v1/exports", tags=["web: exports"])

EXPORT_OPTIONS = frozenset({"separator", "anonymous_structures"})


def export_filter(
    request: Request, session: SessionDep, user: CurrentUserDep, allowed: ScopeDep
) -> ObservationFilter:
    """The list's filters from the query string, the export's own options left aside."""
    values = {
        key: value
        for key, value in request.query_params.items()
        if value.strip() and key not in NOT_FILTERS and key not in EXPORT_OPTIONS
    }
    return reader_filter(values, session, user, allowed)


ExportFilterDep = Annotated[ObservationFilter, Depends(export_filter)]


@router.get(
    "/observations.{export_format}",
    response_class=StreamingResponse,
    response_model=None,
    openapi_extra=FILTER_QUERY_DOC,
)
def export_observations(
    export_format: ExportFormat,
    request: Request,
    user: CurrentUserDep,
    allowed: ScopeDep,
    criteria: ExportFilterDep,
    separator: Annotated[Literal[";", ","], Query(description="CSV : ';' (Excel français) ou ','")] = ";",
    anonymous_structures: Annotated[bool, Query(description="Structures désignées S1, S2…")] = False,
) -> StreamingResponse | RedirectResponse:
    scope = ExportScope(
        criteria=criteria,
        allowed_structure_ids=None if allowed is None else frozenset(allowed),
        anonymous_structures=anonymous_structures,
    )
    # The body is read after this function returns: it gets a session of its own, closed at the end.
    database = Session(request.app.state.engine)
    settings = request.app.state.settings
    from_a_page = "text/html" in request.headers.get("Accept", "")
    try:
        started = begin_export(
            database, scope, export_format, user, settings, separator=separator, from_a_page=from_a_page
        )
    except BaseException:
        database.close()
        raise
    if isinstance(started, models.ExportJob):  # a large selection: built in the background
        database.close()
        assert started.id is not None
        run_in_background(request.app.state.engine, started.id, settings)
        return RedirectResponse(f"/exports/{started.id}", status_code=303)

    def body() -> Iterator[bytes]:
        try:
            yield from started.chunks
        finally:
            database.close()

    return StreamingResponse(
        body(),
        media_type=started.media_type,
        headers={"Content-Disposition": f'attachment; filename="{started.file_name}"'},
    )


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook_response(workbook: bytes, name: str) -> Response:
    return Response(
        workbook,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/structures/{structure_id}/before-after.xlsx", response_class=Response)
def export_before_after(structure_id: RowIdPath, who: AskedByDep, asked: PeriodsQuery) -> Response:
    """The before/after comparison (or two periods) as a workbook: both rates, the ratio, its interval."""
    comparison = compare_periods(who.session, who.user, structure_id, asked)
    return _workbook_response(*export_comparison(who.session, who.user, comparison, asked))


@router.get("/programmes/{programme_id}/structures-compared.xlsx", response_class=Response)
def export_structures_compared(programme_id: RowIdPath, who: AskedByDep, asked: StructuresQuery) -> Response:
    comparison = compare_structures(who.session, who.user, programme_id, asked)
    return _workbook_response(*export_comparison(who.session, who.user, comparison, asked))
