"""Applying pushed mutations exactly once, and serving pulls by cursor. Protocol: docs/sync.md."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Insert, Uuid, any_, bindparam, insert, or_, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select

from backend import models
from backend.db import release_connection
from backend.grids.versions import current_version
from backend.privacy.detector import mask_notes
from backend.problems import too_large
from backend.sync.grids import PushGrids, device_programme_id
from backend.sync.records import MULTI_VALUED, attribute_rows, attribute_values, observation_from_row
from backend.sync.sequence import SequenceAllocator, last_seq
from shared import schema
from shared.messages import FieldError, field_errors, message
from shared.schema import RESUMPTION_FIELDS, ReviewStatus
from shared.sync import (
    CLOCK_WARNING_SECONDS,
    ENTITY_MODELS,
    FUTURE_TOLERANCE_SECONDS,
    MAX_BATCH,
    MAX_PULL_PAGE,
    ClockWarning,
    GridData,
    Mutation,
    MutationResult,
    MutationStatus,
    PulledObservation,
    PulledVisit,
    PullResponse,
    PushRequest,
    PushResponse,
    StructureData,
    UnitData,
    clock_warning_text,
)
from shared.taxonomy import Taxonomy

log = logging.getLogger(__name__)

TIME_FIELDS = {"visit": ("started_at", "ended_at"), "observation": ("occurred_at", "ended_at")}
OBSERVED_VISIT_FIELDS = set(schema.Visit.model_fields) - {"id"}
# Multi-valued fields and the programme's added attributes live in observation_attribute_value.
_MULTI_VALUED_FIELDS = {*MULTI_VALUED.values(), "grid_attributes"}
OBSERVED_OBSERVATION_FIELDS = set(schema.Observation.model_fields) - {"id", *_MULTI_VALUED_FIELDS}

Record = schema.Visit | schema.Observation


def _bound_record(mutation: Mutation) -> str:
    """What a mutation id is bound to for ever: the record state it carried ("observation/<uuid>/v2").

    The version is part of it: a tablet whose counter went back could otherwise send a newer state of
    the same record under an id that carried an older one, and be told "applied" for it.
    """
    return f"{mutation.entity}/{_record_id(mutation)}/v{mutation.data.get('version', 1)}"


def _carried(stored: str | None, legacy: str, mutation: Mutation) -> bool:
    """Whether ``mutation`` is the one its id was bound to. Results stored before revision 0007 name
    only the entity and record id (``legacy``), or nothing at all for runs (trusted, as they were)."""
    if stored is not None:
        return stored == _bound_record(mutation)
    return not legacy or _bound_record(mutation).startswith(legacy + "/v")


class _Batch:
    """What one push needs in memory: the records it touches, loaded in a few queries."""

    def __init__(
        self,
        session: Session,
        device: models.Device,
        mutations: list[Mutation],
        pulled_through: int | None,
        captures: frozenset[str] = frozenset(),
    ):
        self.session = session
        self.device = device
        self.pulled_through = pulled_through
        self.captures = captures  # the optional parts of an observation the device knows (PushRequest)
        self.visits: dict[UUID, models.Visit] = {}
        self.observations: dict[UUID, models.Observation] = {}
        # New observations, their attribute values and the results to remember are written as plain rows in
        # bulk at the end of the push: building ORM objects for them cost ten times the database work.
        self.new_observations: dict[UUID, dict[str, Any]] = {}
        self.new_values: list[dict[str, Any]] = []
        # New observations already written (a later state of one of them is an update of a stored row).
        self.written: set[UUID] = set()
        self.results_to_remember: list[dict[str, Any]] = []
        self.applied: dict[int, str] = {}  # mutation id -> the record it carried
        self.recorded, self.applied_runs = _remembered_results(session, device, mutations)

    @cached_property
    def unit_ids(self) -> set[int | None]:
        """The units of the device's structure, read for the first visit: most pushes carry none."""
        return set(
            self.session.exec(
                select(models.Unit.id).where(models.Unit.structure_id == self.device.structure_id)
            )
        )

    def load(self, records: list[Record]) -> None:
        """Read the stored visits and observations the checked records touch, in two queries.

        Each query names only the ids it can find: a batch of observations shares one or two visits,
        and a 500-id IN list costs as much to bind as the rows it would return.
        """
        visit_ids = {r.id if isinstance(r, schema.Visit) else r.visit_id for r in records}
        observation_ids = {r.id for r in records if isinstance(r, schema.Observation)}
        self.visits = {
            v.id: v
            for v in self.session.exec(select(models.Visit).where(col(models.Visit.id).in_(visit_ids)))
        }
        dialect = self.session.get_bind().dialect.name
        self.observations = {
            o.id: o
            for o in self.session.exec(
                select(models.Observation).where(_one_of(models.Observation.id, observation_ids, dialect))
            )
        }

    def replay(self, mutation: Mutation) -> MutationResult | None:
        """The result this mutation got when it came before, or None if it is new.

        A mutation id is bound to the record it first carried: the same id with another record is a
        client bug, answered ``mutation_id_reused`` (never ``applied`` for a record that is not stored).
        """
        recorded = self.recorded.get(mutation.mutation_id)
        if recorded is not None:
            binding = recorded.records[0] if recorded.records else None
            if not _carried(binding, f"{recorded.entity}/{recorded.record_id}", mutation):
                return _reused(mutation)
            return _replay(recorded)
        for first, last, records in self.applied_runs:
            if first <= mutation.mutation_id <= last:
                binding = records[mutation.mutation_id - first] if records else None
                if not _carried(binding, "", mutation):
                    return _reused(mutation)
                return MutationResult(
                    mutation_id=mutation.mutation_id,
                    status=MutationStatus.APPLIED,
                    entity=mutation.entity,
                    record_id=_record_id(mutation),
                )
        return None

    def remember(self, mutation: Mutation, result: MutationResult, now: datetime) -> None:
        if result.status == MutationStatus.APPLIED:
            self.applied[result.mutation_id] = _bound_record(mutation)
        else:
            self.results_to_remember.append(_remembered(self.device, mutation, result, now))

    def write_results(self, now: datetime) -> None:
        """One row per run of consecutive applied ids (with the record each carried), one per other result."""
        rows = self.results_to_remember + [
            {
                "device_id": self.device.id,
                "mutation_id": first,
                "last_mutation_id": last,
                "entity": "*",
                "record_id": None,
                "status": MutationStatus.APPLIED.value,
                "code": None,
                "message": None,
                "details": [],
                "received_at": now,
                "records": [self.applied[number] for number in range(first, last + 1)],
            }
            for first, last in _runs(list(self.applied))
        ]
        if rows:
            self.session.execute(_core_insert(models.SyncMutation), rows)

    def write_new_rows(self) -> None:
        if self.new_observations:
            self.session.execute(_core_insert(models.Observation), list(self.new_observations.values()))
            self.written.update(self.new_observations)
            self.new_observations.clear()
        if self.new_values:
            self.session.execute(_core_insert(models.ObservationAttributeValue), self.new_values)
            self.new_values = []

    def existing_observation(self, observation_id: UUID) -> models.Observation | None:
        """The stored observation (preloaded with the batch), or None for a new one.

        A record created earlier in this batch is written first and then read back, so that any
        interleaving of several records' states in one push is applied in order.
        """
        if observation_id in self.new_observations:
            self.write_new_rows()
        if observation_id in self.written and observation_id not in self.observations:
            self.observations[observation_id] = self.session.get_one(models.Observation, observation_id)
        return self.observations.get(observation_id)

    def forget(self, record: Record) -> None:
        """After an item's savepoint was rolled back: drop what memory holds of it, read it again."""
        self.new_observations.clear()
        self.new_values = []
        cache: dict[UUID, Any] = self.visits if isinstance(record, schema.Visit) else self.observations
        model: type[SQLModel] = models.Visit if isinstance(record, schema.Visit) else models.Observation
        self.written.discard(record.id)
        stored = self.session.get(model, record.id, populate_existing=True)
        if stored is None:
            cache.pop(record.id, None)
        else:
            cache[record.id] = stored


def _one_of(column: Any, ids: set[UUID], dialect: str) -> ColumnElement[bool]:
    """``column IN ids``. PostgreSQL gets the ids as one array parameter: bound one by one, a batch's
    500 ids took longer to send and plan than the index lookups they asked for."""
    if dialect == "postgresql":
        return col(column) == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Uuid())))
    return col(column).in_(ids)


def _core_insert(model: type[SQLModel]) -> Insert:
    """A plain table INSERT run as one executemany. The ORM's bulk insert splits rows into runs of
    identical non-null columns, which on varied observations meant one statement per row."""
    return insert(models.metadata.tables[str(model.__tablename__)])


def _remembered_results(
    session: Session, device: models.Device, mutations: list[Mutation]
) -> tuple[dict[int, models.SyncMutation], list[tuple[int, int, list[str] | None]]]:
    """Results stored for this batch's mutation ids: single rows by id, and runs of applied ids."""
    ids = {m.mutation_id for m in mutations}
    if not ids:
        return {}, []
    # A run never spans more than one batch, so it starts at most MAX_BATCH ids before the lowest id here:
    # the read stays a short range scan of the primary key, however long the device's history.
    rows = session.exec(
        select(models.SyncMutation).where(
            models.SyncMutation.device_id == device.id,
            col(models.SyncMutation.mutation_id).between(min(ids) - MAX_BATCH, max(ids)),
        )
    ).all()
    singles = {r.mutation_id: r for r in rows if r.last_mutation_id is None and r.mutation_id in ids}
    runs = [(r.mutation_id, r.last_mutation_id, r.records) for r in rows if r.last_mutation_id is not None]
    return singles, runs


def _runs(ids: list[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive integers: [3, 4, 5, 9] -> [(3, 5), (9, 9)]."""
    runs: list[tuple[int, int]] = []
    for number in sorted(set(ids)):
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def _record_id(mutation: Mutation) -> UUID | None:
    """The record id a mutation names, when it is one, even if the rest of the record is invalid."""
    value = mutation.data.get("id")
    try:
        return UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _reused(mutation: Mutation) -> MutationResult:
    return MutationResult.rejected(
        mutation, "mutation_id_reused", message("mutation_id_reused"), record_id=_record_id(mutation)
    )


def _database_unavailable(exc: Exception) -> bool:
    """Failures of the database itself, not of one item: the whole push answers 503 and is retried."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def push(session: Session, device: models.Device, request: PushRequest, now: datetime) -> PushResponse:
    """Apply a batch in one transaction. Final results are stored so a re-sent batch gets the same answer.

    Should the batch fail as a whole for a reason other than the database being unavailable, it is
    applied again item by item, each in a savepoint: one bad item is answered ``item_failed``
    (retryable) and never holds back the rest of the tablet's backlog.
    """
    if len(request.mutations) > MAX_BATCH:
        raise too_large("batch_too_large", max_batch=MAX_BATCH)
    try:
        return _apply_push(session, device, request, now, isolate_items=False)
    except Exception as exc:
        if _database_unavailable(exc):
            raise
        log.exception("push of device %s failed as one transaction; applying it item by item", device.id)
        session.rollback()
    return _apply_push(session, device, request, now, isolate_items=True)


def _apply_push(
    session: Session,
    device: models.Device,
    request: PushRequest,
    now: datetime,
    isolate_items: bool,
) -> PushResponse:
    allocator = SequenceAllocator(session)  # first statement: serialises writers, see sequence.py
    offset = (now - request.device_time).total_seconds()
    batch = _Batch(session, device, request.mutations, request.pulled_through, frozenset(request.captures))
    grids = PushGrids(session, device, request.mutations)

    # First check every new mutation on its own, then read what the valid ones touch, then apply in order.
    replayed: dict[int, MutationResult] = {}
    checked: dict[int, MutationResult | Record] = {}
    for mutation in request.mutations:
        if mutation.mutation_id in replayed or mutation.mutation_id in checked:
            continue
        earlier = batch.replay(mutation)
        if earlier is not None:
            replayed[mutation.mutation_id] = earlier
        else:
            checked[mutation.mutation_id] = _check(mutation, *grids.for_mutation(mutation))
    batch.load([r for r in checked.values() if not isinstance(r, MutationResult)])

    results: list[MutationResult] = []
    first_seen: dict[int, Mutation] = {}
    in_batch: dict[int, MutationResult] = {}
    for mutation in request.mutations:
        first = first_seen.setdefault(mutation.mutation_id, mutation)
        if first is not mutation and _bound_record(first) != _bound_record(mutation):
            results.append(_reused(mutation))  # the same id twice in this push, for two records
            continue
        if mutation.mutation_id in in_batch:
            results.append(in_batch[mutation.mutation_id])
            continue
        if mutation.mutation_id in replayed:
            results.append(replayed[mutation.mutation_id])
            continue
        record = checked[mutation.mutation_id]
        if isinstance(record, MutationResult):
            result = record
        else:
            apply = partial(_apply_one, batch, mutation, record, allocator, now, offset)
            result = _apply_isolated(batch, mutation, record, apply) if isolate_items else apply()
        in_batch[mutation.mutation_id] = result
        if not result.retryable:
            batch.remember(mutation, result, now)
        results.append(result)

    batch.write_new_rows()
    batch.write_results(now)
    device.last_seen_at = now
    device.clock_offset_seconds = offset
    device.last_mutation_id = max([device.last_mutation_id, *(m.mutation_id for m in request.mutations)])
    last_mutation_id = device.last_mutation_id
    session.add(device)
    allocator.save()
    session.commit()
    return PushResponse(
        results=results,
        server_time=now,
        clock_offset_seconds=offset,
        clock_warning=_clock_warning(offset),
        last_mutation_id=last_mutation_id,
    )


def _apply_one(
    batch: _Batch,
    mutation: Mutation,
    record: Record,
    allocator: SequenceAllocator,
    now: datetime,
    offset: float,
) -> MutationResult:
    if isinstance(record, schema.Visit):
        return _apply_visit(batch, mutation, record, allocator, now, offset)
    return _apply_observation(batch, mutation, record, allocator, now)


def _apply_isolated(
    batch: _Batch, mutation: Mutation, record: Record, apply: Callable[[], MutationResult]
) -> MutationResult:
    """One item in its own savepoint: if it fails, it alone is rolled back and sent again later."""
    try:
        with batch.session.begin_nested():
            result = apply()
            batch.write_new_rows()
    except Exception as exc:
        if _database_unavailable(exc):
            raise
        log.exception("push item %s of device %s failed", mutation.mutation_id, batch.device.id)
        batch.forget(record)
        return MutationResult.rejected(mutation, "item_failed", message("item_failed"), record_id=record.id)
    return result


def _clock_warning(offset: float) -> ClockWarning | None:
    if abs(offset) <= CLOCK_WARNING_SECONDS:
        return None
    return ClockWarning(message=clock_warning_text(offset), offset_seconds=offset)


def _check(mutation: Mutation, taxonomy: Taxonomy | None, grid_number: int | None) -> MutationResult | Record:
    """The validated record (checked against the grid version of its visit), or the rejection saying what
    is wrong with it."""
    model = ENTITY_MODELS.get(mutation.entity)
    if model is None:
        return MutationResult.rejected(
            mutation, "unknown_entity", message("unknown_entity", entity=mutation.entity)
        )
    if taxonomy is None:
        text = message("unknown_grid_version", number=grid_number)
        return MutationResult.rejected(
            mutation,
            "invalid_record",
            message("invalid_record"),
            [FieldError(field="grid_version", code="unknown_grid_version", message=text)],
            record_id=_record_id(mutation),
        )
    try:
        record = model.model_validate(mutation.data, context={"taxonomy": taxonomy})
    except ValidationError as exc:
        return MutationResult.rejected(
            mutation,
            "invalid_record",
            message("invalid_record"),
            field_errors(exc),
            record_id=_record_id(mutation),
        )
    if isinstance(record, schema.Visit) and record.grid_version is None:
        # A tablet older than programme grids: its visit keeps the version current when it arrived.
        record = record.model_copy(update={"grid_version": int(taxonomy.version)})
    return record


def _ahead_of_server(record: Record, now: datetime) -> bool:
    """Whether one of the record's times is later than the server's "now" (with tolerance).

    The tablet's clock at recording time is unknown: the offset measured at this push says only what the
    clock says now, and it may have been set right (or wrong) since. So such a record is neither
    rejected nor corrected: it is stored as sent and flagged for facilitators, and the push answer's
    ``clock_warning`` asks the observer to fix the clock. Observed data is never lost to a clock.
    """
    limit = now + timedelta(seconds=FUTURE_TOLERANCE_SECONDS)
    entity = "visit" if isinstance(record, schema.Visit) else "observation"
    return any((value := getattr(record, name)) is not None and value > limit for name in TIME_FIELDS[entity])


def _outcome(
    mutation: Mutation, record_id: UUID, status: MutationStatus, code: str | None = None
) -> MutationResult:
    return MutationResult(
        mutation_id=mutation.mutation_id,
        status=status,
        entity=mutation.entity,
        record_id=record_id,
        code=code,
        message=message(code) if code else None,
    )


def _applied(mutation: Mutation, record_id: UUID, clock_suspect: bool) -> MutationResult:
    return _outcome(mutation, record_id, MutationStatus.APPLIED, "clock_suspect" if clock_suspect else None)


def _conflict(
    batch: _Batch,
    mutation: Mutation,
    existing: models.Visit | models.Observation,
    incoming: Record,
    snapshot: dict[str, Any],
) -> MutationResult | None:
    """Decide whether an incoming state replaces the stored one; keep whatever loses (never a silent loss)."""
    device_id = batch.device.id
    if existing.device_id == device_id and incoming.version <= existing.version:
        # An older state from the tablet that wrote the stored one: its newer intention is already here.
        return _outcome(mutation, incoming.id, MutationStatus.SUPERSEDED, "stale_version")
    if existing.deleted:
        # A tombstone is final: neither an edit nor another deletion replaces it; the state is kept.
        _keep_revision(batch, mutation.entity, incoming, device_id, "edit_after_delete")
        return _outcome(mutation, incoming.id, MutationStatus.SUPERSEDED, "record_deleted")
    if existing.device_id != device_id:
        # Another device (or the server) wrote last: the server's order wins, the overwritten state is kept.
        batch.session.add(
            models.RecordRevision(
                entity=mutation.entity,
                record_id=existing.id,
                version=existing.version,
                device_id=existing.device_id,
                reason="overwritten_by_other_device",
                data=snapshot,
            )
        )
    return None


def _keep_revision(batch: _Batch, entity: str, incoming: Record, device_id: int | None, reason: str) -> None:
    batch.session.add(
        models.RecordRevision(
            entity=entity,
            record_id=incoming.id,
            version=incoming.version,
            device_id=device_id,
            reason=reason,
            data=incoming.model_dump(mode="json"),
        )
    )


def _apply_visit(
    batch: _Batch,
    mutation: Mutation,
    visit: schema.Visit,
    allocator: SequenceAllocator,
    now: datetime,
    offset: float,
) -> MutationResult:
    device = batch.device
    if visit.observer_id != device.observer_id:
        return MutationResult.rejected(
            mutation,
            "wrong_observer",
            message("wrong_observer"),
            record_id=visit.id,
        )
    if visit.structure_id != device.structure_id or visit.unit_id not in batch.unit_ids:
        return MutationResult.rejected(
            mutation,
            "unit_not_found",
            message("unit_not_found"),
            record_id=visit.id,
        )
    existing = batch.visits.get(visit.id)
    if existing is not None:
        if existing.structure_id != device.structure_id or existing.observer_id != device.observer_id:
            return MutationResult.rejected(mutation, "not_found", message("not_found"), record_id=visit.id)
        snapshot = schema.Visit.model_validate(existing.model_dump(include=set(schema.Visit.model_fields)))
        if "grid_version" not in mutation.data and existing.grid_version is not None:
            # An app older than programme grids edits a stored visit: it keeps the version it was captured
            # with (its observations are read with that grid), not the one current today.
            visit = visit.model_copy(update={"grid_version": existing.grid_version})
        decided = _conflict(batch, mutation, existing, visit, snapshot.model_dump(mode="json"))
        if decided is not None:
            return decided
        row = existing
        for name in OBSERVED_VISIT_FIELDS:
            setattr(row, name, getattr(visit, name))
    else:
        row = models.Visit(**visit.model_dump())
        batch.visits[visit.id] = row
    suspect = _ahead_of_server(visit, now)
    own_before = existing is None or _holds_all_of(existing, batch)
    row.device_id = device.id
    row.received_at = now
    row.device_clock_offset_seconds = offset
    row.clock_suspect = suspect
    row.server_seq = allocator.next()
    row.pushed_seq = row.server_seq if own_before else None
    batch.session.add(row)
    if existing is None:
        # Without ORM relationships the flush does not order tables: write the visit before its observations.
        batch.session.flush()
    return _applied(mutation, visit.id, suspect)


def _unknown_parts_kept(
    observation: schema.Observation,
    stored: schema.Observation,
    sent: dict[str, Any],
    captures: frozenset[str],
) -> schema.Observation:
    """An edit from an app that does not know an optional part of the record (older than added attributes,
    or than the resumption of interrupted tasks) leaves that part as stored: read as « none », its absence
    would wipe what a newer tablet or the web recorded. A device that lists the part in ``captures`` means
    « none » when it leaves it out."""
    kept: dict[str, Any] = {}
    if "grid_attributes" not in captures and "grid_attributes" not in sent and stored.grid_attributes:
        kept["grid_attributes"] = stored.grid_attributes
    if "resumption" not in captures and not RESUMPTION_FIELDS & set(sent):
        kept |= {name: getattr(stored, name) for name in RESUMPTION_FIELDS}
    return observation.model_copy(update=kept) if kept else observation


def _interrupts_another_visit(batch: _Batch, observation: schema.Observation) -> bool:
    """Whether the task an interruption names is known here and belongs to another visit. One not known
    yet is accepted: the timer may come in a later push, or never have been kept."""
    task_id = observation.interrupted_id
    if task_id is None:
        return False
    pending = batch.new_observations.get(task_id)
    if pending is not None:
        return bool(pending["visit_id"] != observation.visit_id)
    task = batch.observations.get(task_id) or batch.session.get(models.Observation, task_id)
    return task is not None and task.visit_id != observation.visit_id


def _apply_observation(
    batch: _Batch,
    mutation: Mutation,
    observation: schema.Observation,
    allocator: SequenceAllocator,
    now: datetime,
) -> MutationResult:
    device = batch.device
    visit = batch.visits.get(observation.visit_id)
    if visit is None:
        # Perhaps its visit is still on the way: the tablet keeps it and sends it again later.
        return MutationResult.rejected(
            mutation, "visit_not_found", message("visit_not_found"), record_id=observation.id
        )
    if visit.structure_id != device.structure_id or visit.observer_id != device.observer_id:
        # A visit that exists elsewhere never becomes this device's: a retry cannot help.
        return MutationResult.rejected(mutation, "not_found", message("not_found"), record_id=observation.id)
    if visit.deleted and not observation.deleted:
        _keep_revision(batch, mutation.entity, observation, device.id, "visit_deleted")
        return MutationResult.rejected(
            mutation, "visit_deleted", message("visit_deleted"), record_id=observation.id
        )
    if _interrupts_another_visit(batch, observation):
        text = message("interrupted_in_another_visit")
        return MutationResult.rejected(
            mutation,
            "invalid_record",
            message("invalid_record"),
            [FieldError(field="interrupted_id", code="interrupted_in_another_visit", message=text)],
            record_id=observation.id,
        )
    suspect = _ahead_of_server(observation, now)
    existing = batch.existing_observation(observation.id)
    if existing is None:
        # Every row of the bulk insert has every column: its executemany takes the first row's keys, and a
        # record serialises without its empty optional fields, so an interruption after a plain tap in the
        # same push would otherwise lose the task it interrupted.
        fields = {**dict.fromkeys(RESUMPTION_FIELDS), **observation.model_dump(exclude=_MULTI_VALUED_FIELDS)}
        seq = allocator.next()
        batch.new_observations[observation.id] = {
            **fields,
            "structure_id": visit.structure_id,
            "observer_id": visit.observer_id,
            "device_id": device.id,
            "received_at": now,
            "server_seq": seq,
            "pushed_seq": seq,  # the tablet holds this state: its pull skips it
            "review_status": ReviewStatus.TO_REVIEW.value,
            **_unscreened_note(observation.note),
            "clock_suspect": suspect,
        }
        batch.new_values += attribute_values(observation, visit.structure_id)
        return _applied(mutation, observation.id, suspect)

    if existing.structure_id != device.structure_id or existing.observer_id != device.observer_id:
        return MutationResult.rejected(mutation, "not_found", message("not_found"), record_id=observation.id)
    values = batch.session.exec(
        select(models.ObservationAttributeValue).where(
            models.ObservationAttributeValue.observation_id == existing.id
        )
    ).all()
    stored = observation_from_row(existing, list(values))
    snapshot = stored.model_dump(mode="json")
    observation = _unknown_parts_kept(observation, stored, mutation.data, batch.captures)
    decided = _conflict(batch, mutation, existing, observation, snapshot)
    if decided is not None:
        return decided
    if existing.note != observation.note:
        existing.verbatim_approved = False  # approved for workshops was the earlier text, not this one
    for name in OBSERVED_OBSERVATION_FIELDS:
        setattr(existing, name, getattr(observation, name))
    for value in values:
        batch.session.delete(value)
    batch.session.flush()
    own_before = _holds_all_of(existing, batch)
    existing.structure_id = visit.structure_id
    existing.observer_id = visit.observer_id
    existing.device_id = device.id
    for name, value in _unscreened_note(observation.note).items():
        setattr(existing, name, value)
    existing.clock_suspect = suspect
    existing.received_at = now
    existing.server_seq = allocator.next()
    existing.pushed_seq = existing.server_seq if own_before else None
    batch.session.add(existing)
    batch.session.add_all(attribute_rows(observation, visit.structure_id))
    return _applied(mutation, observation.id, suspect)


def _holds_all_of(existing: models.Visit | models.Observation, batch: _Batch) -> bool:
    """Whether the pushing device holds the whole stored state: one it pushed itself and nobody changed
    since, or one it has pulled (numbered up to its ``pulled_through``). The state it pushes on top may
    then be left out of its pulls; otherwise (a facilitator's review or another device's state it has not
    pulled yet) the new state goes back to it, with the server's fields it did not have."""
    if batch.pulled_through is not None and existing.server_seq <= batch.pulled_through:
        return True
    return existing.device_id == batch.device.id and existing.pushed_seq == existing.server_seq


def _unscreened_note(note: str | None) -> dict[str, Any]:
    """A note is screened after the push (backend/privacy/pending.py): the name model would otherwise be
    the slowest part of it. Until then nothing reads it out unscreened; the observer and the facilitators
    see it as written, everything that leaves the server gets the masked form."""
    return {"privacy_flagged": False, "note_masked": None, "privacy_pending": bool(note)}


def _remembered(
    device: models.Device, mutation: Mutation, result: MutationResult, now: datetime
) -> dict[str, Any]:
    """A ``sync_mutation`` row, so that the same mutation id gets the same answer forever."""
    return {
        "device_id": device.id,
        "mutation_id": result.mutation_id,
        "last_mutation_id": None,  # every row of one executemany must name the same columns
        "entity": result.entity,
        "record_id": result.record_id,
        "status": result.status.value,
        "code": result.code,
        "message": result.message,
        "details": result.details,
        "received_at": now,
        "records": [_bound_record(mutation)],
    }


def _replay(recorded: models.SyncMutation) -> MutationResult:
    return MutationResult(
        mutation_id=recorded.mutation_id,
        status=MutationStatus(recorded.status),
        entity=recorded.entity,
        record_id=recorded.record_id,
        code=recorded.code,
        message=recorded.message,
        details=recorded.details,
    )


def pull(
    session: Session,
    device: models.Device,
    cursor: int,
    limit: int,
    now: datetime,
    grid_version: int | None = None,
    skip_own: bool = False,
    added_attributes: bool = False,
) -> PullResponse:
    """Everything this device may see that changed after ``cursor``, oldest first, one page at a time,
    with the programme's current grid when it is not ``grid_version``, the one the device has; with
    ``skip_own``, without the states the device pushed itself that nobody changed since.

    A device that does not say it captures ``added_attributes`` gets the grid without them: its screens
    know only the record's own fields (docs/sync.md)."""
    limit = max(1, min(limit, MAX_PULL_PAGE))
    # Read the high-water mark first: every change numbered up to it is committed (see sequence.py),
    # so the page below can never hide a change the next cursor would skip.
    ceiling = last_seq(session)
    window = (cursor, ceiling)

    # The device's own structure and its units are a handful of rows: they come with every page whose
    # window holds their change and do not count toward ``limit``, which counts visits and observations.
    structures = session.exec(
        _changed(select(models.Structure), models.Structure.server_seq, window).where(
            models.Structure.id == device.structure_id
        )
    ).all()
    units = session.exec(
        _changed(select(models.Unit), models.Unit.server_seq, window).where(
            models.Unit.structure_id == device.structure_id
        )
    ).all()
    visits = session.exec(
        _changed(select(models.Visit), models.Visit.server_seq, window, limit).where(
            models.Visit.observer_id == device.observer_id,
            models.Visit.structure_id == device.structure_id,
            _not_its_own_push(models.Visit, device, skip_own),
        )
    ).all()
    observations, values = _observations_with_values(
        session,
        _changed(select(models.Observation), models.Observation.server_seq, window, limit).where(
            models.Observation.observer_id == device.observer_id,
            models.Observation.structure_id == device.structure_id,
            _not_its_own_push(models.Observation, device, skip_own),
        ),
    )

    seqs = sorted(r.server_seq for group in (visits, observations) for r in group)
    has_more = len(seqs) > limit
    # A full page ends at its last record; otherwise everything up to the ceiling has been seen.
    page_end = seqs[limit - 1] if has_more else ceiling

    def keep(seq: int) -> bool:
        return seq <= page_end

    programme_id = device_programme_id(session, device)
    taxonomy_version = session.get_one(models.Programme, programme_id).taxonomy_version
    grid_number, grid_document = current_version(session, programme_id)
    grid = (
        None
        if grid_number == grid_version
        else GridData(
            programme_id=programme_id,
            number=grid_number,
            grid=grid_document if added_attributes else schema.without_added_attributes(grid_document),
        )
    )
    comments = _review_comments(session, [o.id for o in observations if keep(o.server_seq)])
    release_connection(session)  # everything is read; the answer is validated in another thread trip
    return PullResponse(
        structures=[
            StructureData(
                id=s.id or 0,
                name=s.name,
                kind=s.kind,
                timezone=s.timezone,
                programme_id=s.programme_id,
                taxonomy_version=taxonomy_version,
            )
            for s in structures
            if keep(s.server_seq)
        ],
        units=[
            UnitData(id=u.id or 0, structure_id=u.structure_id, name=u.name)
            for u in units
            if keep(u.server_seq)
        ],
        visits=[
            PulledVisit.model_validate(
                {**v.model_dump(include=set(PulledVisit.model_fields))}, context=schema.CODES_CHECKED
            )
            for v in visits
            if keep(v.server_seq)
        ],
        observations=[
            PulledObservation.model_validate(
                {
                    **observation_from_row(o, values.get(o.id, [])).model_dump(),
                    "server_seq": o.server_seq,
                    "review_status": o.review_status,
                    "review_comments": comments.get(o.id, []),
                },
                context=schema.CODES_CHECKED,
            )
            for o in observations
            if keep(o.server_seq)
        ],
        grid=grid,
        cursor=max(page_end, cursor),
        has_more=has_more,
        server_time=now,
    )


def _not_its_own_push(
    model: type[models.Visit] | type[models.Observation], device: models.Device, skip_own: bool
) -> Any:
    """Leave out the states this device pushed itself and nobody changed since: it holds them already.
    Sending its whole backlog back to it doubled the time of a large sync; what a facilitator or another
    device changed afterwards has a new ``server_seq`` and still comes. Only when the device asks: an
    older app, or one whose data was restored from an older copy, still wants its own states back."""
    if not skip_own:
        return true()
    return or_(
        col(model.pushed_seq).is_(None),
        col(model.device_id).is_distinct_from(device.id),
        col(model.pushed_seq) != col(model.server_seq),
    )


def _changed(query: Any, seq_column: Any, window: tuple[int, int], limit: int | None = None) -> Any:
    low, high = window
    changed = query.where(seq_column > low, seq_column <= high).order_by(seq_column)
    return changed if limit is None else changed.limit(limit + 1)


def _review_comments(session: Session, observation_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """The facilitators' comments on these observations, oldest first.

    Adding a comment gives its observation a new sequence number, so a comment is always pulled with
    (or after) the observation state that shows it.
    """
    comments: dict[UUID, list[dict[str, Any]]] = {}
    if not observation_ids:
        return comments
    rows = session.exec(
        select(models.ReviewComment, models.User.full_name)
        .join(models.User, col(models.User.id) == col(models.ReviewComment.author_user_id))
        .where(col(models.ReviewComment.observation_id).in_(observation_ids))
        .order_by(col(models.ReviewComment.created_at), col(models.ReviewComment.id))
    ).all()
    # Comments written before they were screened may name someone: the tablet gets them masked.
    bodies = mask_notes([comment.body for comment, _author in rows])
    for (comment, author), body in zip(rows, bodies, strict=True):
        comments.setdefault(comment.observation_id, []).append(
            {"id": comment.id, "body": body, "author_name": author, "created_at": comment.created_at}
        )
    return comments


def _observations_with_values(
    session: Session, query: Any
) -> tuple[list[models.Observation], dict[UUID, list[models.ObservationAttributeValue]]]:
    """Observations and their multi-valued attributes read in ONE statement.

    Two statements could straddle a concurrent edit and mix the fields of one version with the
    dimensions of another; a single statement sees one snapshot on SQLite and PostgreSQL alike.
    """
    page = query.subquery()
    observation = aliased(models.Observation, page)
    value_table = models.ObservationAttributeValue
    rows = session.exec(
        select(observation, value_table)
        .outerjoin(value_table, col(value_table.observation_id) == observation.id)
        .order_by(page.c.server_seq)
    ).all()
    observations: dict[UUID, models.Observation] = {}
    values: dict[UUID, list[models.ObservationAttributeValue]] = {}
    for row, value in rows:
        observations.setdefault(row.id, row)
        if value is not None:
            values.setdefault(row.id, []).append(value)
    return list(observations.values()), values
