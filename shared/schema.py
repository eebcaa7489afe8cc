"""Visits and observations as both sides exchange them, with their validation rules.

Validation checks codes against a taxonomy version: the current one by default, or the one
passed as ``context={"taxonomy": ...}`` (the grid version of the record's visit). Records read back
from where they were already checked (the server's database, a pull, the tablet's store) pass
``CODES_CHECKED``: their codes belong to a grid version the reader may not hold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    Strict,
    ValidationInfo,
    field_validator,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from shared.messages import MESSAGES
from shared.taxonomy import Attribute, Taxonomy, current_taxonomy

NOTE_MAX_LENGTH = 2000
VISIT_CONTEXT_MAX_LENGTH = 1000
NAME_MAX_LENGTH = 200
CODE_MAX_LENGTH = 40
# Observation fields added within protocol 1 (the interruption model, the programme's own attributes): sent
# only when set, so that a record using none of them is what an older server accepts.
RESUMPTION_FIELDS = frozenset({"interrupted_id", "task_resumed", "resumed_at"})
OPTIONAL_FIELDS = RESUMPTION_FIELDS | {"grid_attributes"}

Code = Annotated[str, Field(min_length=1, max_length=CODE_MAX_LENGTH)]


CODES_CHECKED: dict[str, Any] = {"codes_checked": True}


def taxonomy_from(info: ValidationInfo) -> Taxonomy | None:
    """The grid to check codes against; None when they were checked where the record comes from."""
    context = info.context if isinstance(info.context, dict) else {}
    if context.get("codes_checked"):
        return None
    taxonomy = context.get("taxonomy")
    return taxonomy if isinstance(taxonomy, Taxonomy) else current_taxonomy()


def _error(error_code: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(error_code, MESSAGES[error_code]["fr"], context)


# What the server's database can hold: PostgreSQL's integer and bigint, text without a NUL character,
# times that stay representable once converted to UTC. Checked here, a stray value is a field error
# (found by fuzzing the API: each of these was a 500 on PostgreSQL).
DB_INT_MAX = 2**31 - 1
DB_BIGINT_MAX = 2**63 - 1
MOMENT_MIN = datetime(2, 1, 1, tzinfo=UTC)
MOMENT_MAX = datetime(9998, 12, 31, tzinfo=UTC)


def reject_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise _error("nul_character")
    return value


def representable_moment(value: datetime) -> datetime:
    try:
        in_utc: datetime | None = value.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not MOMENT_MIN <= in_utc <= MOMENT_MAX:
        minimum, maximum = MOMENT_MIN.date().isoformat(), MOMENT_MAX.date().isoformat()
        raise _error("out_of_range", minimum=minimum, maximum=maximum)
    return value


StoredText = Annotated[str, BeforeValidator(reject_nul)]
Moment = Annotated[AwareDatetime, AfterValidator(representable_moment)]
RowId = Annotated[int, Field(gt=0, le=DB_INT_MAX)]
# Records coming from tablets take numbers and yes/no as JSON numbers and booleans only: `true` is not a
# severity of 1 nor "yes" a deletion (lax coercion turned client bugs into stored data).
StrictRowId = Annotated[RowId, Strict()]
Version = Annotated[int, Field(ge=1, le=DB_INT_MAX), Strict()]
Flag = Annotated[bool, Strict()]


def check_code(taxonomy: Taxonomy | None, attribute: str, code: str) -> str:
    if taxonomy is None:
        return code
    known = taxonomy.category_codes if attribute == "category" else taxonomy.attribute(attribute).codes
    if code not in known:
        raise _error("unknown_code", code=code, attribute=attribute, version=taxonomy.version)
    return code


def check_codes(taxonomy: Taxonomy | None, attribute: str, codes: list[str]) -> list[str]:
    seen: set[str] = set()
    for code in codes:
        check_code(taxonomy, attribute, code)
        if code in seen:
            raise _error("duplicate_code", code=code, attribute=attribute)
        seen.add(code)
    return codes


def check_end_after_start(end: Any, start: Any) -> None:
    if end is not None and start is not None and end < start:
        raise _error("end_before_start", end=end.isoformat(), start=start.isoformat())


def ends_after(start_field: str) -> Callable[[AwareDatetime | None, ValidationInfo], AwareDatetime | None]:
    """A validator of ``ended_at``: not before the record's ``start_field``."""

    def check(value: AwareDatetime | None, info: ValidationInfo) -> AwareDatetime | None:
        check_end_after_start(value, info.data.get(start_field))
        return value

    return check


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


class SyncedRecord(BaseModel):
    """Fields every record created on a tablet carries: its identity and edit history."""

    # Text is kept exactly as the observer typed it (no stripping); codes must match exactly.
    model_config = ConfigDict(extra="forbid")

    id: UUID = Field(description="Chosen by the tablet (UUID), never reused.")
    created_at: Moment = Field(description="When the record was created, on the tablet's clock.")
    updated_at: Moment = Field(description="When this state was saved, on the tablet's clock.")
    version: Version = Field(default=1, description="The record's edit counter on the tablet.")
    deleted: Flag = Field(default=False, description="A deletion is the record's last state, final.")


class Visit(SyncedRecord):
    """A ward visit: one observer following one unit's staff for a stretch of time."""

    structure_id: StrictRowId = Field(description="The device's structure (from enrolment).")
    unit_id: StrictRowId = Field(description="A unit of that structure (from pull).")
    observer_id: StrictRowId = Field(description="The device's observer (from enrolment).")
    grid_version: StrictRowId | None = Field(
        default=None,
        description="The programme's grid version the visit is captured with (from pull); its observations "
        "are checked against it. None: the programme's current version.",
    )
    started_at: Moment
    ended_at: Moment | None = Field(default=None, description="Not before `started_at`.")
    observed_roles: list[Code] = Field(
        default_factory=list, max_length=20, description="Codes of the grid's `role` attribute, no repeats."
    )
    context_note: str | None = Field(
        default=None,
        max_length=VISIT_CONTEXT_MAX_LENGTH,
        description="Free text, kept exactly as sent; blank means none.",
    )

    _ends_after_start = field_validator("ended_at")(ends_after("started_at"))

    @field_validator("observed_roles")
    @classmethod
    def _known_roles(cls, value: list[str], info: ValidationInfo) -> list[str]:
        return check_codes(taxonomy_from(info), "role", value)

    _blank_context = field_validator("context_note", mode="before")(_blank_to_none)
    _no_nul_context = field_validator("context_note", mode="before")(reject_nul)

    @classmethod
    def begin(
        cls,
        structure_id: int,
        unit_id: int,
        observer_id: int,
        at: datetime,
        context: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Visit:
        """A new visit started at ``at``, created then, with a new id; ``fields`` adds the rest, checked
        against the grid in ``context`` (``{"taxonomy": ...}``) when one is given."""
        values: dict[str, Any] = {"id": uuid4(), "created_at": at, "updated_at": at, **fields}
        where = {
            "structure_id": structure_id,
            "unit_id": unit_id,
            "observer_id": observer_id,
            "started_at": at,
        }
        return cls.model_validate({**where, **values}, context=context)


class Observation(SyncedRecord):
    """One event seen during a visit, logged with a tap and enriched afterwards."""

    visit_id: UUID = Field(description="A visit of the same device's observer and structure.")
    occurred_at: Moment = Field(description="When it happened (a timer's start).")
    ended_at: Moment | None = Field(default=None, description="A timer's end; not before `occurred_at`.")
    category: Code = Field(description="A category code of the grid.")
    role: Code | None = Field(default=None, description="Grid attribute `role`.")
    tool: Code | None = Field(default=None, description="Grid attribute `tool`.")
    interruption_source: Code | None = Field(
        default=None, description="Grid attribute `interruption_source` (interruptions only)."
    )
    dimensions: list[Code] = Field(
        default_factory=list, max_length=20, description="Grid attribute `dimension`, several, no repeats."
    )
    effect: Code | None = Field(default=None, description="Grid attribute `effect`.")
    impacts: list[Code] = Field(
        default_factory=list, max_length=20, description="Grid attribute `impact`, several, no repeats."
    )
    severity: Annotated[int, Strict()] | None = Field(
        default=None, ge=1, le=3, description="Grid attribute `severity`, as a number."
    )
    grid_attributes: dict[Code, list[Code]] = Field(
        default_factory=dict,
        max_length=20,
        description="The attributes the programme added to its grid (not the fields above): attribute code → "
        "value codes (at most one for a single choice), kept sorted. Left out while empty.",
    )
    note: str | None = Field(
        default=None,
        max_length=NOTE_MAX_LENGTH,
        description="Free text, kept exactly as sent; blank means none. Checked by the privacy guard.",
    )
    # The interruption model of work-observation studies (WOMBAT): what was interrupted, and whether and
    # when it was taken up again. Optional, added in protocol 1 without breaking older tablets.
    interrupted_id: UUID | None = Field(
        default=None,
        description="Interruptions only: the observation (a timer of the same visit) this one interrupted.",
    )
    task_resumed: Flag | None = Field(
        default=None,
        description="Interruptions only: whether the interrupted task was resumed; null while not said.",
    )
    resumed_at: Moment | None = Field(
        default=None,
        description="When the interrupted task was resumed: only with `task_resumed: true`, not before "
        "`occurred_at`.",
    )

    @model_serializer(mode="wrap")
    def _without_unused_optional(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Left out while null or empty, so a record that uses none of them is what a server of the first
        # protocol 1 accepts (its records forbid fields it does not know).
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if k not in OPTIONAL_FIELDS or v not in (None, {})}

    _blank_note = field_validator("note", mode="before")(_blank_to_none)
    _no_nul_note = field_validator("note", mode="before")(reject_nul)

    @classmethod
    def logged(
        cls, visit_id: UUID, at: datetime, category: str, context: dict[str, Any] | None = None, **fields: Any
    ) -> Observation:
        """A new observation of ``category`` at ``at``, created then, new id; ``fields`` adds the rest,
        checked against the grid in ``context`` when one is given."""
        values: dict[str, Any] = {"id": uuid4(), "created_at": at, "updated_at": at, **fields}
        where = {"visit_id": visit_id, "occurred_at": at, "category": category}
        return cls.model_validate({**where, **values}, context=context)

    _ends_after_start = field_validator("ended_at")(ends_after("occurred_at"))

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str, info: ValidationInfo) -> str:
        return check_code(taxonomy_from(info), "category", value)

    @field_validator("role", "tool", "interruption_source", "effect")
    @classmethod
    def _known_single(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        taxonomy = taxonomy_from(info)
        assert info.field_name is not None
        if taxonomy is None:
            return value
        check_code(taxonomy, info.field_name, value)
        applies_to = taxonomy.attribute(info.field_name).applies_to
        category = info.data.get("category")
        if applies_to is not None and category is not None and category not in applies_to:
            raise _error(
                "attribute_not_applicable", attribute=info.field_name, categories=", ".join(applies_to)
            )
        return value

    @field_validator("interrupted_id", "task_resumed", "resumed_at")
    @classmethod
    def _interruptions_only(cls, value: Any, info: ValidationInfo) -> Any:
        # The categories the grid's interruption source applies to are its interruptions.
        taxonomy = taxonomy_from(info)
        if taxonomy is None:
            return value  # checked where the record comes from
        applies_to = taxonomy.attribute("interruption_source").applies_to
        category = info.data.get("category")
        if (
            value is not None
            and applies_to is not None
            and category is not None
            and category not in applies_to
        ):
            raise _error(
                "attribute_not_applicable", attribute=info.field_name, categories=", ".join(applies_to)
            )
        if info.field_name == "interrupted_id" and value is not None and value == info.data.get("id"):
            raise _error("interrupts_itself")
        if info.field_name == "resumed_at" and value is not None:
            if info.data.get("task_resumed") is not True:
                raise _error("resumed_at_without_resumption")
            check_end_after_start(value, info.data.get("occurred_at"))
        return value

    @field_validator("dimensions", "impacts")
    @classmethod
    def _known_multiple(cls, value: list[str], info: ValidationInfo) -> list[str]:
        attribute = {"dimensions": "dimension", "impacts": "impact"}[str(info.field_name)]
        return check_codes(taxonomy_from(info), attribute, value)

    @field_validator("grid_attributes")
    @classmethod
    def _known_grid_attributes(
        cls, value: dict[str, list[str]], info: ValidationInfo
    ) -> dict[str, list[str]]:
        """Each added attribute known to the visit's grid, applicable to the category, its values known, one
        at most for a single choice; empty ones dropped and values sorted, so a record reads back the same."""
        taxonomy = taxonomy_from(info)
        kept = {attribute: sorted(codes) for attribute, codes in sorted(value.items()) if codes}
        if taxonomy is None:
            return kept
        category = info.data.get("category")
        for attribute, codes in kept.items():
            if attribute in ATTRIBUTE_FIELDS:
                raise _error("fixed_attribute_in_grid_attributes", attribute=attribute)
            if attribute not in taxonomy.attribute_codes:
                raise _error("unknown_attribute", attribute=attribute, version=taxonomy.version)
            check_codes(taxonomy, attribute, codes)
            grid_attribute = taxonomy.attribute(attribute)
            if not grid_attribute.multiple and len(codes) > 1:
                raise _error("attribute_single_choice", attribute=attribute, count=len(codes))
            applies_to = grid_attribute.applies_to
            if applies_to is not None and category is not None and category not in applies_to:
                raise _error(
                    "attribute_not_applicable", attribute=attribute, categories=", ".join(applies_to)
                )
        return kept

    @field_validator("severity")
    @classmethod
    def _known_severity(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None:
            check_code(taxonomy_from(info), "severity", str(value))
        return value

    @property
    def duration_seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.occurred_at).total_seconds()


# Which schema field carries which taxonomy attribute: the taxonomy says whether an attribute
# takes several values, the schema must agree (checked by the tests).
ATTRIBUTE_FIELDS: dict[str, str] = {
    "role": "role",
    "tool": "tool",
    "interruption_source": "interruption_source",
    "dimension": "dimensions",
    "effect": "effect",
    "impact": "impacts",
    "severity": "severity",
}


def added_attributes(taxonomy: Taxonomy) -> tuple[Attribute, ...]:
    """The attributes a programme added to its grid: captured in ``Observation.grid_attributes``."""
    return tuple(a for a in taxonomy.attributes if a.code not in ATTRIBUTE_FIELDS)


def without_added_attributes(document: dict[str, Any]) -> dict[str, Any]:
    """A grid document as a tablet that predates added attributes can use (its screens know only the
    fields of the record), with the mappings that name them left out too."""
    kept = [a for a in document.get("attributes", []) if a.get("code") in ATTRIBUTE_FIELDS]
    mappings = [
        m for m in document.get("mappings", []) if m.get("attribute") in {"category", *ATTRIBUTE_FIELDS}
    ]
    trimmed = {**document, "attributes": kept}
    if "mappings" in document:
        trimmed["mappings"] = mappings
    return trimmed


class StructureType(StrEnum):
    HOSPITAL = "hospital"
    EHPAD = "ehpad"
    MEDICO_SOCIAL = "medico_social"


class ReviewStatus(StrEnum):
    """Where a facilitator stands with an observation; owned by the facilitator, never the tablet."""

    TO_REVIEW = "to_review"
    VALIDATED = "validated"
    TO_DISCUSS = "to_discuss"
    SET_ASIDE = "set_aside"


STRUCTURE_TYPE_LABELS: dict[StructureType, dict[str, str]] = {
    StructureType.HOSPITAL: {"fr": "Établissement de santé", "en": "Hospital"},
    StructureType.EHPAD: {"fr": "EHPAD", "en": "Nursing home (EHPAD)"},
    StructureType.MEDICO_SOCIAL: {"fr": "Structure médico-sociale", "en": "Medico-social service"},
}

REVIEW_STATUS_LABELS: dict[ReviewStatus, dict[str, str]] = {
    ReviewStatus.TO_REVIEW: {"fr": "À revoir", "en": "To review"},
    ReviewStatus.VALIDATED: {"fr": "Validée", "en": "Validated"},
    ReviewStatus.TO_DISCUSS: {"fr": "À discuter en atelier", "en": "To discuss in workshop"},
    ReviewStatus.SET_ASIDE: {"fr": "Écartée", "en": "Set aside"},
}


def check_finess(value: str) -> str:
    """FINESS numbers identify French health and social establishments: nine digits (2A/2B for Corsica)."""
    cleaned = value.replace(" ", "")
    head, tail = cleaned[:2], cleaned[2:]
    if len(cleaned) != 9 or not tail.isdigit() or not (head.isdigit() or head.upper() in {"2A", "2B"}):
        raise _error("invalid_finess", value=value)
    return cleaned.upper()
