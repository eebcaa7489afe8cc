"""One set of filters for the review list, the dashboard and the exports, so that what a facilitator
sees on screen is exactly what they export."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, exists, func, select
from sqlmodel import col
from sqlmodel.sql.expression import Select, SelectOfScalar

from backend import models
from shared.schema import MOMENT_MAX, MOMENT_MIN, ReviewStatus, RowId, StoredText, reject_nul

_S = TypeVar("_S", Select[Any], SelectOfScalar[Any])

SEARCH_MAX_LENGTH = 200
DAY_MIN, DAY_MAX = MOMENT_MIN.date(), MOMENT_MAX.date()  # a day after the last is still a date


class ObservationFilter(BaseModel):
    """What a facilitator narrowed the observations to. Every field is optional; empty means "all"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    programme_id: RowId | None = None
    structure_id: RowId | None = None
    unit_id: RowId | None = None
    category: StoredText | None = None
    role: StoredText | None = None
    tool: StoredText | None = None
    review_status: ReviewStatus | None = None
    date_from: date | None = Field(
        default=None, ge=DAY_MIN, le=DAY_MAX, description="First day included (UTC)."
    )
    date_to: date | None = Field(default=None, ge=DAY_MIN, le=DAY_MAX, description="Last day included (UTC).")
    text: str | None = Field(default=None, max_length=SEARCH_MAX_LENGTH, description="Words in the note.")
    tag: StoredText | None = None

    _no_nul_text = field_validator("text", mode="before")(reject_nul)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def apply_observation_filter(
    statement: _S, criteria: ObservationFilter, allowed_structure_ids: Collection[int] | None
) -> _S:
    """Narrow a statement over ``observation`` to what the criteria ask and the reader may see.

    ``allowed_structure_ids`` is the reader's scope (None: everything, for admins); it is applied here
    too, so that no caller can forget it. Deleted observations are never listed.
    """
    obs = models.Observation
    conditions: list[Any] = [obs.deleted == False]  # noqa: E712  (SQL expression)
    if allowed_structure_ids is not None:
        conditions.append(col(obs.structure_id).in_(list(allowed_structure_ids)))
    if criteria.programme_id is not None:
        conditions.append(
            col(obs.structure_id).in_(
                select(col(models.Structure.id)).where(
                    col(models.Structure.programme_id) == criteria.programme_id
                )
            )
        )
    if criteria.structure_id is not None:
        conditions.append(obs.structure_id == criteria.structure_id)
    if criteria.unit_id is not None:
        conditions.append(
            col(obs.visit_id).in_(
                select(col(models.Visit.id)).where(col(models.Visit.unit_id) == criteria.unit_id)
            )
        )
    for column, wanted in (
        (obs.category, criteria.category),
        (obs.role, criteria.role),
        (obs.tool, criteria.tool),
    ):
        if wanted:
            conditions.append(column == wanted)
    if criteria.review_status is not None:
        conditions.append(obs.review_status == criteria.review_status.value)
    if criteria.date_from is not None:
        conditions.append(obs.occurred_at >= _day_start(criteria.date_from))
    if criteria.date_to is not None:
        conditions.append(obs.occurred_at < _day_start(criteria.date_to + timedelta(days=1)))
    if criteria.text:
        # Every word must appear somewhere in the note, case-insensitively, on both databases.
        words = criteria.text.lower().split()
        conditions.append(
            and_(*(func.lower(col(obs.note)).contains(word, autoescape=True) for word in words))
        )
    if criteria.tag:
        tag = models.ObservationTag
        conditions.append(
            exists().where(and_(col(tag.observation_id) == obs.id, col(tag.tag) == criteria.tag))
        )
    return statement.where(*conditions)
