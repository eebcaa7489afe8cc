"""Sync protocol messages (version 1), shared by the tablet and the server. See docs/sync.md.

A device pushes *mutations*: the latest state of one visit or observation, numbered by the device's
own increasing mutation id. Deleting is pushing the record with ``deleted: true``. The server answers
with one result per mutation and remembers final results, so a re-sent batch gets the same answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.messages import FieldError
from shared.schema import DB_INT_MAX, NAME_MAX_LENGTH, Moment, Observation, StoredText, Visit

PROTOCOL_VERSION = 1
MIN_PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "Vigie-Protocol"
MAX_BATCH = 500
MAX_PULL_PAGE = 1000
ENROLMENT_CODE_LENGTH = 8
# Past this, a timestamp is in the future even allowing for a device clock that drifts.
FUTURE_TOLERANCE_SECONDS = 3600

Entity = Literal["visit", "observation"]
ENTITY_MODELS: dict[str, type[Visit] | type[Observation]] = {"visit": Visit, "observation": Observation}


class MutationStatus(StrEnum):
    APPLIED = "applied"  # the record now holds this state
    SUPERSEDED = "superseded"  # a newer state of the record was already there; nothing lost
    REJECTED = "rejected"  # invalid or not allowed; the observer must fix it (see code, details)


class Mutation(BaseModel):
    """One record state to apply. ``data`` is checked item by item so one bad item spoils nothing else."""

    model_config = ConfigDict(extra="forbid")

    mutation_id: int = Field(gt=0, le=DB_INT_MAX)  # the device keeps its last one in an integer column
    entity: StoredText = Field(max_length=20)
    data: dict[str, Any]


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_time: Moment = Field(description="The device's clock when sending, to measure its offset.")
    mutations: list[Mutation]


class MutationResult(BaseModel):
    mutation_id: int
    status: MutationStatus
    entity: str
    record_id: UUID | None = None
    code: str | None = None
    message: str | None = None
    details: list[dict[str, str]] = Field(default_factory=list)
    # True when the same mutation may succeed later unchanged (e.g. its visit has not arrived yet).
    retryable: bool = False

    @classmethod
    def rejected(
        cls,
        mutation: Mutation,
        code: str,
        message: str,
        details: list[FieldError] | None = None,
        retryable: bool = False,
        record_id: UUID | None = None,
    ) -> MutationResult:
        return cls(
            mutation_id=mutation.mutation_id,
            status=MutationStatus.REJECTED,
            entity=mutation.entity,
            record_id=record_id,
            code=code,
            message=message,
            details=[d.as_dict() for d in details or []],
            retryable=retryable,
        )


class PushResponse(BaseModel):
    results: list[MutationResult]
    server_time: AwareDatetime
    clock_offset_seconds: float = Field(
        description="Server time minus device time, as measured on this push."
    )


class EnrolRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: StoredText = Field(min_length=1, max_length=32)
    installation_id: UUID = Field(description="Chosen once by the app; lets a retried enrolment succeed.")
    label: StoredText = Field(default="", max_length=100)


class EnrolResponse(BaseModel):
    device_id: int
    device_token: str
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
    taxonomy_version: str


class UnitData(BaseModel):
    id: int
    structure_id: int
    name: str


class PulledVisit(Visit):
    model_config = ConfigDict(extra="ignore")  # newer servers may add fields

    server_seq: int


class ReviewCommentData(BaseModel):
    """A facilitator's comment, shown to the observer on their own observation."""

    id: int
    body: str
    author_name: str
    created_at: AwareDatetime


class PulledObservation(Observation):
    """An observation with what the server adds: facilitator-owned fields a push never overwrites."""

    model_config = ConfigDict(extra="ignore")

    server_seq: int
    review_status: str
    review_comments: list[ReviewCommentData] = Field(default_factory=list)


class PullResponse(BaseModel):
    structures: list[StructureData] = Field(default_factory=list)
    units: list[UnitData] = Field(default_factory=list)
    visits: list[PulledVisit] = Field(default_factory=list)
    observations: list[PulledObservation] = Field(default_factory=list)
    cursor: int = Field(description="Pass it back as ?cursor= to get what changed after this page.")
    has_more: bool
    server_time: AwareDatetime
