"""One set of filters for the review list, the dashboard and the exports, so that what a facilitator
sees on screen is exactly what they export."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col
from sqlmodel.sql.expression import Select, SelectOfScalar

from backend import models
from backend.local_time import local_hour, local_weekday
from backend.problems import not_found
from shared.schema import MOMENT_MAX, MOMENT_MIN, ReviewStatus, RowId, StoredText, reject_nul

_S = TypeVar("_S", Select[Any], SelectOfScalar[Any])

SEARCH_MAX_LENGTH = 200
# Role, tool or effect left empty: what a dashboard's « Non renseigné » row counts and links to. No grid code
# can be it (codes are lower-case letters, digits and underscores).
UNSET = "-"
UNSET_LABEL = "Non renseigné"
DAY_MIN, DAY_MAX = MOMENT_MIN.date(), MOMENT_MAX.date()  # a day after the last is still a date


class ObservationFilter(BaseModel):
    """What a facilitator narrowed the observations to. Every field is optional; empty means "all"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    programme_id: RowId | None = None
    structure_id: RowId | None = None
    unit_id: RowId | None = None
    category: StoredText | None = None
    role: StoredText | None = Field(default=None, description=f"A code, or « {UNSET} » for none recorded.")
    tool: StoredText | None = Field(default=None, description=f"A code, or « {UNSET} » for none recorded.")
    effect: StoredText | None = Field(default=None, description=f"A code, or « {UNSET} » for none recorded.")
    dimension: StoredText | None = Field(default=None, description="A work dimension the event touched.")
    impact: StoredText | None = None
    added: StoredText | None = Field(
        default=None,
        pattern=r"^[^:]+:[^:]+$",
        description="An attribute the programme added to its grid and one of its values: « attribute:value »",
    )
    hour: int | None = Field(
        default=None, ge=0, le=23, description="Hour of day, local time of each structure (8: 8:00–8:59)."
    )
    weekday: int | None = Field(
        default=None, ge=1, le=7, description="Day of week, local time of each structure (1: Monday)."
    )
    review_status: ReviewStatus | None = None
    date_from: date | None = Field(
        default=None, ge=DAY_MIN, le=DAY_MAX, description="First day included (UTC)."
    )
    date_to: date | None = Field(default=None, ge=DAY_MIN, le=DAY_MAX, description="Last day included (UTC).")
    text: str | None = Field(default=None, max_length=SEARCH_MAX_LENGTH, description="Words in the note.")
    tag: StoredText | None = None

    _no_nul_text = field_validator("text", mode="before")(reject_nul)
    # Whether ``text`` may search notes flagged as naming a patient: only for readers who see them
    # (``for_reader``). Never from a query string, and off unless said: a read-only account must not
    # learn, by searching, words of a note it is shown masked.
    _searches_flagged_notes: bool = PrivateAttr(default=False)
    # Old category codes a later grid version merged into ``category``, by programme
    # (backend/review/merged_categories.py): the list behind a dashboard's count holds the same rows.
    _merged_categories: dict[int, tuple[str, ...]] = PrivateAttr(default_factory=dict)

    def for_reader(self, reads_flagged_notes: bool) -> ObservationFilter:
        copy = self.model_copy()
        copy._searches_flagged_notes = reads_flagged_notes
        return copy

    @property
    def searches_flagged_notes(self) -> bool:
        return self._searches_flagged_notes


def check_filter_scope(
    session: Session, criteria: ObservationFilter, allowed_structure_ids: Collection[int] | None
) -> None:
    """Every id the filter names must exist within the reader's scope and agree with the others (404
    otherwise, so that its existence does not leak): a unit's name would otherwise be printed on an
    export's cover for anyone who guessed its id."""
    structure_ids: list[int] = []
    if criteria.unit_id is not None:
        unit = session.get(models.Unit, criteria.unit_id)
        if unit is None:
            raise not_found()
        structure_ids.append(unit.structure_id)
    if criteria.structure_id is not None:
        structure_ids.append(criteria.structure_id)
    for structure_id in set(structure_ids):
        structure = session.get(models.Structure, structure_id)
        if (
            structure is None
            or (allowed_structure_ids is not None and structure_id not in allowed_structure_ids)
            or (criteria.programme_id is not None and structure.programme_id != criteria.programme_id)
        ):
            raise not_found()
    if len(set(structure_ids)) > 1:  # a unit of another structure than the one asked for
        raise not_found()
    if criteria.programme_id is not None:
        programme_structures = select(col(models.Structure.id)).where(
            col(models.Structure.programme_id) == criteria.programme_id
        )
        if allowed_structure_ids is not None:
            programme_structures = programme_structures.where(
                col(models.Structure.id).in_(list(allowed_structure_ids))
            )
        visible = session.get(models.Programme, criteria.programme_id) is not None and (
            allowed_structure_ids is None or session.scalar(programme_structures.limit(1)) is not None
        )
        if not visible:
            raise not_found()


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
    if criteria.category and criteria.category != UNSET and criteria._merged_categories:
        conditions.append(_category_with_merged_codes(criteria.category, criteria._merged_categories))
    elif criteria.category:
        conditions.append(obs.category == criteria.category)
    for column, wanted in (
        (obs.role, criteria.role),
        (obs.tool, criteria.tool),
        (obs.effect, criteria.effect),
    ):
        if wanted == UNSET:
            conditions.append(col(column).is_(None))
        elif wanted:
            conditions.append(column == wanted)
    value = models.ObservationAttributeValue
    attribute_values = [("dimension", criteria.dimension), ("impact", criteria.impact)]
    if criteria.added:
        added_attribute, _, added_code = criteria.added.partition(":")
        attribute_values.append((added_attribute, added_code))
    for attribute, code in attribute_values:
        if code:
            conditions.append(
                exists().where(
                    col(value.observation_id) == obs.id,
                    col(value.attribute) == attribute,
                    col(value.code) == code,
                )
            )
    conditions += _local_time_conditions(criteria)
    if criteria.review_status is not None:
        conditions.append(obs.review_status == criteria.review_status.value)
    if criteria.date_from is not None:
        conditions.append(obs.occurred_at >= _day_start(criteria.date_from))
    if criteria.date_to is not None:
        conditions.append(obs.occurred_at < _day_start(criteria.date_to + timedelta(days=1)))
    if criteria.text:
        # Every word must appear somewhere in the note, case-insensitively, on both databases; in a
        # note the reader may read (flagged notes are masked for read-only accounts).
        words = criteria.text.lower().split()
        conditions.append(
            and_(*(func.lower(col(obs.note)).contains(word, autoescape=True) for word in words))
        )
        if not criteria.searches_flagged_notes:
            # A note not screened yet may name someone too (backend/privacy/pending.py).
            conditions += [obs.privacy_flagged == False, obs.privacy_pending == False]  # noqa: E712
    if criteria.tag:
        tag = models.ObservationTag
        conditions.append(
            exists().where(and_(col(tag.observation_id) == obs.id, col(tag.tag) == criteria.tag))
        )
    return statement.where(*conditions)


def _category_with_merged_codes(category: str, merged: dict[int, tuple[str, ...]]) -> Any:
    """The category, or in a programme that merged old codes into it, one of those codes."""
    obs = models.Observation
    structure = models.Structure
    return or_(
        col(obs.category) == category,
        *(
            and_(
                col(obs.category).in_(codes),
                col(obs.structure_id).in_(
                    select(col(structure.id)).where(col(structure.programme_id) == programme_id)
                ),
            )
            for programme_id, codes in sorted(merged.items())
        ),
    )


def _local_time_conditions(criteria: ObservationFilter) -> list[Any]:
    """Hour of day and weekday in the time zone of the observation's structure, as the charts count them."""
    if criteria.hour is None and criteria.weekday is None:
        return []
    obs = models.Observation
    moment = col(obs.occurred_at)
    # Aliases: the statement may join the structure or unit itself.
    structure = aliased(models.Structure)

    def local(zone: Any) -> list[Any]:
        wanted = []
        if criteria.hour is not None:
            wanted.append(local_hour(moment, zone) == criteria.hour)
        if criteria.weekday is not None:
            wanted.append(local_weekday(moment, zone) == criteria.weekday)
        return wanted

    # One structure (or unit) asked for: its zone read once, not row by row.
    if criteria.structure_id is not None or criteria.unit_id is not None:
        zone: Any = select(col(structure.timezone))
        if criteria.structure_id is not None:
            zone = zone.where(col(structure.id) == criteria.structure_id)
        else:
            unit = aliased(models.Unit)
            zone = zone.join(unit, col(unit.structure_id) == col(structure.id))
            zone = zone.where(col(unit.id) == criteria.unit_id)
        return local(zone.scalar_subquery())
    # Otherwise each row's structure: a semi-join with the (few) structures, which the database runs as a
    # hash join rather than a lookup per row.
    return [
        exists()
        .where(col(structure.id) == obs.structure_id, *local(col(structure.timezone)))
        .correlate_except(structure)
    ]


def filters_on_record(criteria: ObservationFilter) -> dict[str, object]:
    """The filters as an export's header and the audit log keep them: that a text search was used, never
    the words searched (they may be a patient's name)."""
    recorded: dict[str, object] = criteria.model_dump(mode="json", exclude_none=True, exclude={"text"})
    if criteria.text:
        recorded["text_search"] = True
    return recorded
