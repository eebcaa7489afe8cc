"""Sync protocol messages (version 1), shared by the tablet and the server. See docs/sync.md.

A device pushes *mutations*: the latest state of one visit or observation, numbered by the device's
own increasing mutation id. Deleting is pushing the record with ``deleted: true``. The server answers
with one result per mutation and remembers final results, so a re-sent batch gets the same answer.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.messages import FieldError, message
from shared.schema import (
    CODE_MAX_LENGTH,
    DB_BIGINT_MAX,
    DB_INT_MAX,
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    Moment,
    Observation,
    StoredText,
    Visit,
)
from shared.taxonomy import Language, Taxonomy, parse_taxonomy

PROTOCOL_VERSION = 1
MIN_PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "Vigie-Protocol"
MAX_BATCH = 500
# A push body is also limited in bytes (413 ``request_too_large`` past it): the client splits its backlog
# by both. The largest push the schema accepts fits: MAX_BATCH observations whose 2,000-character note
# takes 4 bytes a character in UTF-8 (emoji), both 20-code lists full, and 2 KiB of fields around them.
_MIB = 1024 * 1024
_LARGEST_OBSERVATION_BYTES = 4 * NOTE_MAX_LENGTH + 2 * 20 * (CODE_MAX_LENGTH + 3) + 2048
MAX_PUSH_BYTES = math.ceil(MAX_BATCH * _LARGEST_OBSERVATION_BYTES / _MIB) * _MIB  # 6 MiB
MAX_PULL_PAGE = 1000
ENROLMENT_CODE_LENGTH = 8
# Past this, a record's time is later than the server's "now" even allowing for a clock that drifts:
# the record is kept, flagged ``clock_suspect``.
FUTURE_TOLERANCE_SECONDS = 3600
# Past this difference between the server's clock and the device's, the push answer carries a
# ``clock_warning`` the app shows, so the observer sets the tablet's time right.
CLOCK_WARNING_SECONDS = 300

Entity = Literal["visit", "observation"]
# Optional parts of an observation a device may know. A device lists those it knows in each push: in its
# records an absent field then means « none » (the record serialises without empty optional fields). For a
# device that does not list one (an app older than it), an absent field keeps what the server holds, so an
# edit from that app never wipes what a newer tablet or the web recorded.
Capture = Literal["grid_attributes", "resumption"]
CAPTURES: tuple[Capture, ...] = ("grid_attributes", "resumption")
ENTITY_MODELS: dict[str, type[Visit] | type[Observation]] = {"visit": Visit, "observation": Observation}


class MutationStatus(StrEnum):
    APPLIED = "applied"  # the record now holds this state
    SUPERSEDED = "superseded"  # a newer state of the record was already there; nothing lost
    REJECTED = "rejected"  # invalid or not allowed; the observer must fix it (see code, details)


class ResultCode(BaseModel):
    """What a result code means for the client: the status it comes with and whether to send again."""

    status: MutationStatus
    retryable: bool
    meaning: str


# Every code a push result may carry (docs/sync.md is generated from this table). ``retryable``: the
# client keeps the mutation and sends it again unchanged later; otherwise the answer is final.
RESULT_CODES: dict[str, ResultCode] = {
    code: ResultCode(status=status, retryable=retryable, meaning=meaning)
    for code, status, retryable, meaning in [
        ("clock_suspect", MutationStatus.APPLIED, False,
         "Stored as sent, and flagged: one of its times is more than an hour ahead of the server's "
         "clock (the tablet's clock was probably wrong when it was recorded)."),
        ("stale_version", MutationStatus.SUPERSEDED, False,
         "This device already wrote a version of the record at least as new."),
        ("record_deleted", MutationStatus.SUPERSEDED, False,
         "The record is deleted, and a deletion is final; this state is kept in the record's history."),
        ("unknown_entity", MutationStatus.REJECTED, False, "`entity` is neither `visit` nor `observation`."),
        ("invalid_record", MutationStatus.REJECTED, False,
         "`data` breaks the record schema below; `details` names each field and its error code."),
        ("wrong_observer", MutationStatus.REJECTED, False, "A visit for another observer than the device's."),
        ("unit_not_found", MutationStatus.REJECTED, False,
         "A visit whose structure or unit is not the device's."),
        ("not_found", MutationStatus.REJECTED, False,
         "The record id, or an observation's visit id, belongs to records this device may not write."),
        ("visit_deleted", MutationStatus.REJECTED, False,
         "An observation (other than its deletion) whose visit is deleted; kept in the record's history."),
        ("mutation_id_reused", MutationStatus.REJECTED, False,
         "This mutation id already carried another record state (entity, id and version), in an earlier "
         "push or in this one. Nothing is written. Renumber the mutation above `last_mutation_id` and send "
         "it again."),
        ("visit_not_found", MutationStatus.REJECTED, True,
         "The observation's visit is not on the server yet: send the visit, then this again."),
        ("item_failed", MutationStatus.REJECTED, True,
         "The server failed on this one item (the rest of the push was applied): send it again later."),
    ]
}  # fmt: skip


class Mutation(BaseModel):
    """One record state to apply. ``data`` is checked item by item so one bad item spoils nothing else."""

    model_config = ConfigDict(extra="forbid")

    # The device keeps its last one in an integer column. Strict: "7" or 7.0 is a client bug, not an id.
    mutation_id: int = Field(
        gt=0, le=DB_INT_MAX, strict=True, description="The device's counter; bound to the state it carries."
    )
    entity: StoredText = Field(max_length=20, description="`visit` or `observation`.")
    data: dict[str, Any] = Field(description="The record's whole state: a Visit or an Observation.")


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_time: Moment = Field(description="The device's clock when sending, to measure its offset.")
    pulled_through: int | None = Field(
        default=None,
        ge=0,
        le=DB_BIGINT_MAX,
        description="The device's pull cursor: it holds every state numbered up to it (see `skip_own`).",
    )
    captures: list[Capture] = Field(
        default_factory=list,
        max_length=len(CAPTURES),
        description="The optional parts of an observation this device knows (`grid_attributes`: the "
        "attributes a programme adds; `resumption`: `interrupted_id`, `task_resumed`, `resumed_at`). In "
        "its records an absent field then means none; for a part not listed, an absent field keeps the "
        "stored one.",
    )
    mutations: list[Mutation]


class MutationResult(BaseModel):
    mutation_id: int
    status: MutationStatus
    entity: str
    record_id: UUID | None = Field(default=None, description="The record's id, when the data named one.")
    code: str | None = Field(default=None, description="See the table of result codes.")
    message: str | None = Field(default=None, description="In French; `shared.messages` has English.")
    details: list[dict[str, str]] = Field(
        default_factory=list, description="Per field: `field`, `code`, `message`."
    )
    retryable: bool = Field(
        default=False, description="Send the same mutation again later; otherwise the answer is final."
    )

    @classmethod
    def rejected(
        cls,
        mutation: Mutation,
        code: str,
        message: str,
        details: list[FieldError] | None = None,
        record_id: UUID | None = None,
    ) -> MutationResult:
        """A rejection; whether it is worth sending again comes from ``RESULT_CODES``."""
        return cls(
            mutation_id=mutation.mutation_id,
            status=MutationStatus.REJECTED,
            entity=mutation.entity,
            record_id=record_id,
            code=code,
            message=message,
            details=[d.as_dict() for d in details or []],
            retryable=RESULT_CODES[code].retryable,
        )


def clock_warning_text(offset_seconds: float, language: Language = "fr") -> str:
    """« L'horloge de la tablette retarde de 3 jours… », from server time minus device time."""
    gap = abs(offset_seconds)
    amount, unit = (
        (round(gap / 86400), ("jour", "day"))
        if gap >= 2 * 86400
        else (round(gap / 3600), ("heure", "hour"))
        if gap >= 2 * 3600
        else (max(1, round(gap / 60)), ("minute", "minute"))
    )
    word = unit[0] if language == "fr" else unit[1]
    plural = "s" if amount > 1 else ""
    behind = offset_seconds > 0  # the server is later than the tablet: the tablet's clock is slow
    direction = {
        ("fr", True): "retarde",
        ("fr", False): "avance",
        ("en", True): "behind",
        ("en", False): "ahead of",
    }
    return message(
        "device_clock_off", language, gap=f"{amount} {word}{plural}", direction=direction[(language, behind)]
    )


class ClockWarning(BaseModel):
    """The device's clock is far from the server's: the app asks the observer to set it right."""

    code: Literal["device_clock_off"] = "device_clock_off"
    message: str
    offset_seconds: float


class PushResponse(BaseModel):
    results: list[MutationResult]
    server_time: AwareDatetime
    clock_offset_seconds: float = Field(
        description="Server time minus device time, as measured on this push."
    )
    clock_warning: ClockWarning | None = Field(
        default=None,
        description=f"Set when the device's clock is more than {CLOCK_WARNING_SECONDS} s from the server's.",
    )
    last_mutation_id: int = Field(
        default=0,
        description="The highest mutation id the server has seen from this device: after a "
        "`mutation_id_reused` rejection the client numbers its next mutations above it.",
    )


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: StoredText = Field(min_length=1, max_length=32, description="The enrolment code, as typed.")
    installation_id: UUID = Field(description="Chosen once by the app; lets a retried enrolment succeed.")
    label: StoredText = Field(default="", max_length=100, description="A name for the tablet, for admins.")


class EnrolResponse(BaseModel):
    device_id: int
    device_token: str = Field(description="Sent as `Authorization: Bearer …` on every sync call.")
    observer_id: int
    observer_name: str
    structure_id: int
    programme_id: int


class StructureData(BaseModel):
    id: int
    name: str = Field(max_length=NAME_MAX_LENGTH)
    kind: str
    timezone: str
    programme_id: int
    taxonomy_version: str = Field(description="The grid version whose codes the device's records use.")


class UnitData(BaseModel):
    id: int
    structure_id: int
    name: str


class PulledVisit(Visit):
    model_config = ConfigDict(extra="ignore")  # newer servers may add fields

    server_seq: int = Field(description="Where this state stands in the server's sequence.")


class ReviewCommentData(BaseModel):
    """A facilitator's comment, shown to the observer on their own observation."""

    id: int
    body: str
    author_name: str
    created_at: AwareDatetime


class PulledObservation(Observation):
    """An observation with what the server adds: facilitator-owned fields a push never overwrites."""

    model_config = ConfigDict(extra="ignore")

    server_seq: int = Field(description="Where this state stands in the server's sequence.")
    review_status: str = Field(description="The facilitator's: to_review, validated, to_discuss, set_aside.")
    review_comments: list[ReviewCommentData] = Field(
        default_factory=list, description="The facilitators' comments, oldest first."
    )


class GridData(BaseModel):
    """A published version of the programme's observation grid, as tablets keep it."""

    programme_id: int
    number: int = Field(ge=1, description="The version's number in its programme: visits record it.")
    grid: dict[str, Any] = Field(description="The grid document (shared.taxonomy's JSON form).")

    def taxonomy(self) -> Taxonomy:
        return parse_taxonomy({**self.grid, "version": str(self.number)})


class PullResponse(BaseModel):
    structures: list[StructureData] = Field(default_factory=list, description="Reference data.")
    units: list[UnitData] = Field(default_factory=list, description="Reference data.")
    visits: list[PulledVisit] = Field(default_factory=list, description="Counted by `limit`.")
    observations: list[PulledObservation] = Field(default_factory=list, description="Counted by `limit`.")
    grid: GridData | None = Field(
        default=None,
        description="The programme's current published grid, when it is not the `grid_version` the "
        "tablet said it has.",
    )
    cursor: int = Field(description="Pass it back as ?cursor= to get what changed after this page.")
    has_more: bool
    server_time: AwareDatetime
