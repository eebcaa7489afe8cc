"""One entry point for every export, whatever asks for it (API, CLI): check the scope, record who exports
what in the audit log, then produce the file's bytes in the requested format.

The audit event is committed before the first byte leaves, with the number of rows the filter selects,
so an export that is interrupted half-way is still on record.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlmodel import Session

from backend import models
from backend.audit.actions import AuditAction
from backend.audit.service import record_audit
from backend.dashboards.rate_comparison import RateComparison
from backend.exports.comparison_xlsx import comparison_workbook
from backend.exports.csv import Separator, csv_chunks
from backend.exports.json import json_chunks
from backend.exports.pdf import write_pdf
from backend.exports.pseudonyms import Pseudonyms
from backend.exports.rows import (
    ExportRow,
    ExportScope,
    count_export_rows,
    export_programme_ids,
    iter_export_rows,
    pseudonyms_for,
)
from backend.exports.small_cells import protected_rows, small_cells, threshold_for
from backend.exports.summary import discussion_cards, workshop_figures
from backend.exports.xlsx import write_xlsx
from backend.grids.terms import grid_labels
from backend.grids.versions import current_taxonomy_of
from backend.privacy.pending import screen_pending
from backend.problems import detail, invalid_fields
from backend.review.filters import check_filter_scope, filters_on_record
from backend.review.merged_categories import follow_merged_categories
from shared.taxonomy import current_taxonomy

FILE_CHUNK = 64 * 1024
PROGRESS_EVERY = 1000
Progress = Callable[[int], None]  # told the number of rows written so far


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"
    JSON = "json"


MEDIA_TYPES: dict[ExportFormat, str] = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.PDF: "application/pdf",
    ExportFormat.JSON: "application/json",
}


@dataclass(frozen=True)
class StartedExport:
    rows: int
    file_name: str
    media_type: str
    chunks: Iterator[bytes]


def check_export_scope(session: Session, scope: ExportScope) -> None:
    """Refuse an id that does not exist or lies outside the reader's scope (404 in both cases, so that
    its existence does not leak), then an unknown code."""
    check_filter_scope(session, scope.criteria, scope.allowed_structure_ids)
    follow_merged_categories(session, scope.criteria, scope.allowed_structure_ids)
    _check_codes(session, scope)


def _check_codes(session: Session, scope: ExportScope) -> None:
    """An unknown code would silently export nothing: say which one instead."""
    programme_ids = export_programme_ids(session, scope)
    # Any code of any version of the grid: old rows keep the codes they were captured with.
    taxonomy = current_taxonomy_of(session, programme_ids[0]) if programme_ids else current_taxonomy()
    codes = grid_labels(session, programme_ids[0]) if programme_ids else {}
    details = []
    for attribute, code in (
        ("category", scope.criteria.category),
        ("role", scope.criteria.role),
        ("tool", scope.criteria.tool),
        ("effect", scope.criteria.effect),
        ("dimension", scope.criteria.dimension),
        ("impact", scope.criteria.impact),
    ):
        if not code:
            continue
        known = taxonomy.category_codes if attribute == "category" else taxonomy.attribute(attribute).codes
        if code not in known and code not in codes.get(attribute, {}):
            details.append(
                detail(attribute, "unknown_code", code=code, attribute=attribute, version=taxonomy.version)
            )
    if scope.criteria.added:
        attribute, _, code = scope.criteria.added.partition(":")
        if code not in codes.get(attribute, {}):
            details.append(
                detail("added", "unknown_code", code=code, attribute=attribute, version=taxonomy.version)
            )
    if details:
        problems = " ".join(d.message for d in details)
        raise invalid_fields("invalid_filter", details, says="invalid_filter_codes", problems=problems)


def record_export(
    session: Session,
    scope: ExportScope,
    export_format: ExportFormat,
    rows: int,
    *,
    actor_user_id: int | None,
    via: str,
    separator: Separator | None = None,
) -> models.AuditEvent:
    criteria = scope.criteria
    target_type, target_id = (
        ("structure", criteria.structure_id)
        if criteria.structure_id is not None
        else ("programme", criteria.programme_id)
    )
    details: dict[str, object] = {
        "format": export_format.value,
        "filters": filters_on_record(criteria),
        "rows": rows,
        "anonymous_structures": scope.anonymous_structures,
        "via": via,
    }
    if separator is not None:
        details["separator"] = separator
    event = record_audit(
        session,
        AuditAction(f"export.{export_format.value}"),
        actor_user_id=actor_user_id,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
    session.commit()
    return event


def export_comparison(
    session: Session, user: models.User, comparison: RateComparison, asked: BaseModel
) -> tuple[bytes, str]:
    """A comparison's workbook and its file name, the export written to the audit log like the others."""
    workbook = comparison_workbook(comparison)
    target_type, target_id = ("structure", comparison.reference.structure_id)
    record_audit(
        session,
        AuditAction.EXPORT_XLSX,
        actor_user_id=user.id,
        target_type=target_type,
        target_id=target_id,
        details={
            "format": "xlsx",
            "comparison": comparison.kind,
            "filters": asked.model_dump(mode="json", exclude_none=True),
            "rows": len(comparison.rows) + 1,
        },
    )
    session.commit()
    return workbook, f"vigie-comparaison-{datetime.now(UTC).strftime('%Y-%m-%d')}.xlsx"


def file_name(export_format: ExportFormat, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    if export_format == ExportFormat.PDF:
        return f"vigie-dossier-atelier-{stamp}.pdf"
    return f"vigie-observations-{stamp}.{export_format.value}"


def _about(scope: ExportScope, rows: int) -> dict[str, object]:
    return {
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "filters": filters_on_record(scope.criteria),
        "anonymous_structures": scope.anonymous_structures,
        "count": rows,
    }


def _built_file(
    session: Session, scope: ExportScope, export_format: ExportFormat, progress: Progress | None = None
) -> Iterator[bytes]:
    """XLSX and PDF are built whole (into a spooled temporary file), then sent in chunks."""
    pseudonyms = pseudonyms_for(session, scope)
    figures = workshop_figures(session, scope, pseudonyms)
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        if export_format == ExportFormat.XLSX:
            write_xlsx(_rows(session, scope, pseudonyms, progress), figures, spool)
        else:
            cards, total = discussion_cards(session, scope, pseudonyms)
            threshold = threshold_for(session, export_programme_ids(session, scope))
            population = _counted(iter_export_rows(session, scope, pseudonyms), progress)
            cells = small_cells(population, cards, threshold)
            write_pdf(figures, cards, total, spool, cells)
        spool.seek(0)
        while chunk := spool.read(FILE_CHUNK):
            yield chunk


def _rows(
    session: Session,
    scope: ExportScope,
    pseudonyms: Pseudonyms | None = None,
    progress: Progress | None = None,
) -> Iterator[ExportRow]:
    """The rows of an export; with anonymous structures (material for outside readers) small cells are
    generalised (backend/exports/small_cells.py)."""
    if not scope.anonymous_structures:
        return _counted(iter_export_rows(session, scope, pseudonyms), progress)
    threshold = threshold_for(session, export_programme_ids(session, scope))
    return _counted(protected_rows(lambda: iter_export_rows(session, scope, pseudonyms), threshold), progress)


def _counted(rows: Iterator[ExportRow], progress: Progress | None) -> Iterator[ExportRow]:
    """The rows, telling ``progress`` how many went by every PROGRESS_EVERY rows and at the end."""
    if progress is None:
        return rows
    return _counting(rows, progress)


def _counting(rows: Iterator[ExportRow], progress: Progress) -> Iterator[ExportRow]:
    count = 0
    for count, row in enumerate(rows, start=1):
        if count % PROGRESS_EVERY == 0:
            progress(count)
        yield row
    progress(count)


def export_chunks(
    session: Session,
    scope: ExportScope,
    export_format: ExportFormat,
    rows: int,
    separator: Separator = ";",
    progress: Progress | None = None,
) -> Iterator[bytes]:
    """The file's bytes; ``progress`` is told how many rows went by (background exports show it)."""
    if export_format == ExportFormat.CSV:
        return csv_chunks(_rows(session, scope, progress=progress), separator)
    if export_format == ExportFormat.JSON:
        return json_chunks(_rows(session, scope, progress=progress), _about(scope, rows))
    return _built_file(session, scope, export_format, progress)


def start_export(
    session: Session,
    scope: ExportScope,
    export_format: ExportFormat,
    *,
    actor_user_id: int | None,
    via: str,
    separator: Separator = ";",
    checked_rows: int | None = None,
) -> StartedExport:
    """Check the scope, record the export, and return the bytes to send (lazily: nothing is read from
    the database until the chunks are consumed, with ``session`` still open). ``checked_rows``: the scope
    was checked and its rows counted already (``jobs.begin_export``)."""
    if checked_rows is None:
        check_export_scope(session, scope)
    screen_pending(session, scope.allowed_structure_ids)  # notes pushed a moment ago, in one batch
    rows = count_export_rows(session, scope) if checked_rows is None else checked_rows
    record_export(
        session,
        scope,
        export_format,
        rows,
        actor_user_id=actor_user_id,
        via=via,
        separator=separator if export_format == ExportFormat.CSV else None,
    )
    return StartedExport(
        rows=rows,
        file_name=file_name(export_format),
        media_type=MEDIA_TYPES[export_format],
        chunks=export_chunks(session, scope, export_format, rows, separator),
    )


def write_export_file(started: StartedExport, destination: str) -> None:
    """Write to a temporary file next to ``destination`` and rename it at the end, so a failed export
    never leaves a truncated file that looks complete."""
    directory = os.path.dirname(os.path.abspath(destination))
    with tempfile.NamedTemporaryFile("wb", dir=directory, delete=False, suffix=".part") as partial:
        try:
            for chunk in started.chunks:
                partial.write(chunk)
        except BaseException:
            partial.close()
            os.unlink(partial.name)
            raise
    os.replace(partial.name, destination)
