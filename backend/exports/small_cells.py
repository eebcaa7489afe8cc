"""Small cells in workshop material: a situation card, or a row of an export whose structures are anonymous,
must not let a reader single out a professional (« the only night IDE of unit X »). As public statistics
do, where the exported observations of one unit, one profession and one moment of the day are fewer than
the programme's threshold, neither the professional nor the hour is given (the date stays), and the
document says so."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend import models
from backend.exports.rows import ExportRow

DEFAULT_THRESHOLD = 5
SUPPRESSED_ROLE = "non précisé (petit effectif)"

Cell = tuple[str, str | None, str | None, str]


def moment_of_day(local_iso: str) -> str:
    """Morning (6 h-14 h), afternoon (14 h-22 h) or night: the shifts of a ward."""
    hour = datetime.fromisoformat(local_iso).hour
    return "matin" if 6 <= hour < 14 else "après-midi" if 14 <= hour < 22 else "nuit"


def cell_of(row: ExportRow) -> Cell:
    return (row.structure, row.unit, row.role_code, moment_of_day(row.occurred_at))


@dataclass(frozen=True)
class SmallCells:
    threshold: int
    protected: frozenset[str]  # ids of the cards whose professional and hour are not given


def small_cells(population: Iterable[ExportRow], cards: list[ExportRow], threshold: int) -> SmallCells:
    """The cards falling in a cell (structure × unit × profession × moment of the day) of fewer than
    ``threshold`` observations among ``population`` (every observation the document covers)."""
    counts = Counter(cell_of(row) for row in population if row.role_code is not None)
    protected = frozenset(
        card.observation_id
        for card in cards
        if card.role_code is not None and counts[cell_of(card)] < threshold
    )
    return SmallCells(threshold, protected)


def threshold_for(session: Session, programme_ids: list[int]) -> int:
    """The strictest threshold of the programmes a document covers."""
    if not programme_ids:
        return DEFAULT_THRESHOLD
    values = session.exec(
        select(models.Programme.small_cell_threshold).where(col(models.Programme.id).in_(programme_ids))
    ).all()
    return max(values, default=DEFAULT_THRESHOLD)


def protected_rows(rows: Callable[[], Iterator[ExportRow]], threshold: int) -> Iterator[ExportRow]:
    """Export rows with small cells generalised: no profession, the date without the hour, no end time
    (the duration stays). Two passes over the rows: the cells are counted first."""
    counts = Counter(cell_of(row) for row in rows() if row.role_code is not None)
    for row in rows():
        if row.role_code is not None and counts[cell_of(row)] < threshold:
            yield row._replace(
                role_code=None,
                role=SUPPRESSED_ROLE,
                occurred_at=row.occurred_at[:10],
                ended_at=None,
                resumed_at=None,
            )
        else:
            yield row
