"""What the OData feed offers: its entity sets, their properties with their EDM types, the SQL expression
a property is filtered and sorted by (None: neither), and how a page of rows is read.

Observations are the export's rows (``backend.exports.rows``): the same pseudonyms, masked notes, labels
and local times, so the feed says nothing an export would not. A property computed after the query
(a label, a pseudonym, a masked note) cannot be filtered: filtering on the stored text would tell, by
what it selects, what the masking hides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, type_coerce
from sqlmodel import Session, col, select

from backend import models
from backend.exports.pseudonyms import Pseudonyms
from backend.exports.rows import (
    COLUMN_KEYS,
    ExportScope,
    export_statement,
    iter_export_rows,
    local_iso,
    masked_free_text,
    pseudonyms_for,
    uuid_text,
)
from backend.privacy.pending import screen_pending
from backend.review.filters import ObservationFilter
from shared.taxonomy import load_taxonomy

GUID, STRING, INT, BOOL, TIME = "Edm.Guid", "Edm.String", "Edm.Int32", "Edm.Boolean", "Edm.DateTimeOffset"


@dataclass(frozen=True)
class Reader:
    """Who reads the feed: the structures in their scope (None: all, for administrators)."""

    user_id: int
    allowed_structure_ids: frozenset[int] | None

    def scope(self) -> ExportScope:
        return ExportScope(criteria=ObservationFilter(), allowed_structure_ids=self.allowed_structure_ids)


Row = dict[str, object]
# Reads the rows of a refined statement (filtered, ordered, one page of it).
ReadRows = Callable[[Session, Reader, Any], Iterator[Row]]


@dataclass(frozen=True)
class EntitySet:
    name: str  # in URLs: /odata/v4/<name>
    type_name: str  # in $metadata: Vigie.<type_name>
    key: str
    properties: dict[str, str]  # name: EDM type, in the order rows give them
    columns: Callable[[], dict[str, Any]]  # property: SQL expression, for $filter and $orderby
    statement: Callable[[Reader], Any] | None  # the base query in the reader's scope; None: not SQL
    read: ReadRows
    key_column: Callable[[], Any] | None = None  # for paging by key (None: the set is small)


def _attributes(model: Any, *names: str) -> dict[str, Any]:
    """The model's columns of those names, each under its own name."""
    return {name: getattr(model, name) for name in names}


# --- observations: the export's rows -----------------------------------------------------------------

_OBSERVATION_TYPES = {
    "observation_id": GUID,
    "occurred_at": TIME,
    "ended_at": TIME,
    "duration_seconds": INT,
    "severity": INT,
    "grid_version": INT,  # the grid version the visit was captured with
    "interrupted_id": GUID,
    "task_resumed": BOOL,
    "resumed_at": TIME,
    "privacy_flagged": BOOL,
    "verbatim_approved": BOOL,
    "visit_id": GUID,
}


def _observation_columns() -> dict[str, Any]:
    obs = models.Observation
    return {
        "observation_id": obs.id,
        "visit_id": obs.visit_id,
        "unit": models.Unit.name,
        "occurred_at": obs.occurred_at,
        "ended_at": obs.ended_at,
        "category_code": obs.category,
        "role_code": obs.role,
        "tool_code": obs.tool,
        "interruption_source_code": obs.interruption_source,
        "effect_code": obs.effect,
        "severity": obs.severity,
        "review_status_code": obs.review_status,
        "privacy_flagged": obs.privacy_flagged,
        "verbatim_approved": obs.verbatim_approved,
    }


def _read_observations(session: Session, reader: Reader, statement: Any) -> Iterator[Row]:
    screen_pending(session, reader.allowed_structure_ids)  # notes pushed a moment ago, as exports do
    for row in iter_export_rows(session, reader.scope(), statement=statement):
        yield row.as_dict()


# --- visits ---------------------------------------------------------------------------------------------


def _visit_columns() -> dict[str, Any]:
    visit = models.Visit
    return {
        "visit_id": visit.id,
        **_attributes(visit, "structure_id", "unit_id"),
        "unit": models.Unit.name,
        **_attributes(visit, "started_at", "ended_at"),
    }


# The visit's own columns as _read_visits reads them, after its id and before its unit's name and timezone.
_VISIT_STORED = (
    "structure_id",
    "unit_id",
    "observer_id",
    "started_at",
    "ended_at",
    "observed_roles",
    "context_note",
)


def _visits(reader: Reader) -> Any:
    visit = models.Visit
    stored = _attributes(visit, *_VISIT_STORED).values()
    columns = [type_coerce(visit.id, String), *stored, models.Unit.name, models.Structure.timezone]
    statement = (
        select(*columns)
        .join(models.Unit, col(models.Unit.id) == col(visit.unit_id))
        .join(models.Structure, col(models.Structure.id) == col(visit.structure_id))
        .where(visit.deleted == False)  # noqa: E712  (SQL expression)
    )
    if reader.allowed_structure_ids is not None:
        statement = statement.where(col(visit.structure_id).in_(sorted(reader.allowed_structure_ids)))
    return statement


def _read_visits(session: Session, reader: Reader, statement: Any) -> Iterator[Row]:
    pseudonyms: Pseudonyms = pseudonyms_for(session, reader.scope())
    for (
        visit_id,
        structure_id,
        unit_id,
        observer_id,
        started,
        ended,
        roles,
        context,
        unit,
        zone,
    ) in session.exec(statement):
        yield {
            "visit_id": uuid_text(visit_id),
            "structure_id": structure_id,
            "structure": pseudonyms.structure(structure_id),
            "unit_id": unit_id,
            "unit": unit,
            "observer": pseudonyms.observer(observer_id),
            "started_at": local_iso(started, zone),
            "ended_at": None if ended is None else local_iso(ended, zone),
            "observed_roles": "|".join(roles or []),
            "context": None if context is None else masked_free_text(context),
        }


# --- structures and units -------------------------------------------------------------------------------


def _structure_columns() -> dict[str, Any]:
    structure = models.Structure
    return {"structure_id": structure.id, **_attributes(structure, "name", "kind", "programme_id")}


def _structures(reader: Reader) -> Any:
    structure = models.Structure
    columns: list[Any] = [
        structure.id,
        structure.name,
        structure.kind,
        structure.timezone,
        structure.programme_id,
    ]
    statement = select(*columns)
    if reader.allowed_structure_ids is not None:
        statement = statement.where(col(structure.id).in_(sorted(reader.allowed_structure_ids)))
    return statement


def _read_structures(session: Session, reader: Reader, statement: Any) -> Iterator[Row]:
    for structure_id, name, kind, timezone, programme_id in session.exec(statement):
        yield {
            "structure_id": structure_id,
            "name": name,
            "kind": kind,
            "timezone": timezone,
            "programme_id": programme_id,
        }


def _unit_columns() -> dict[str, Any]:
    return {"unit_id": models.Unit.id, **_attributes(models.Unit, "structure_id", "name")}


def _units(reader: Reader) -> Any:
    unit = models.Unit
    statement = select(unit.id, unit.structure_id, unit.name)
    if reader.allowed_structure_ids is not None:
        statement = statement.where(col(unit.structure_id).in_(sorted(reader.allowed_structure_ids)))
    return statement


def _read_units(session: Session, reader: Reader, statement: Any) -> Iterator[Row]:
    for unit_id, structure_id, name in session.exec(statement):
        yield {"unit_id": unit_id, "structure_id": structure_id, "name": name}


# --- categories: the grids of the programmes in scope (no SQL) ------------------------------------------


def _read_categories(session: Session, reader: Reader, _statement: Any) -> Iterator[Row]:
    statement = select(models.Programme.taxonomy_version).join(
        models.Structure, col(models.Structure.programme_id) == col(models.Programme.id)
    )
    if reader.allowed_structure_ids is not None:
        statement = statement.where(col(models.Structure.id).in_(sorted(reader.allowed_structure_ids)))
    for version in sorted(set(session.exec(statement).all())):
        for category in load_taxonomy(version).categories:
            yield {
                "category_id": f"{version}:{category.code}",
                "grid_version": version,
                "code": category.code,
                "label": category.label.fr,
                "label_en": category.label.en,
                "colour": category.colour,
            }


_VISIT = {
    "visit_id": GUID,
    "structure_id": INT,
    "structure": STRING,
    "unit_id": INT,
    "unit": STRING,
    "observer": STRING,
    "started_at": TIME,
    "ended_at": TIME,
    "observed_roles": STRING,
    "context": STRING,
}
_STRUCTURE = {"structure_id": INT, "name": STRING, "kind": STRING, "timezone": STRING, "programme_id": INT}
_UNIT = {"unit_id": INT, "structure_id": INT, "name": STRING}
_CATEGORY = {
    "category_id": STRING,
    "grid_version": STRING,
    "code": STRING,
    "label": STRING,
    "label_en": STRING,
    "colour": STRING,
}
_OBSERVATION = {key: _OBSERVATION_TYPES.get(key, STRING) for key in COLUMN_KEYS}


def _observations(reader: Reader) -> Any:
    return export_statement(reader.scope())


# Name, type, key, properties, filterable columns, base query, reader of rows, key column (paging).
ENTITY_SETS: dict[str, EntitySet] = {
    entity.name: entity
    for entity in (
        EntitySet("observations", "Observation", "observation_id", _OBSERVATION, _observation_columns,
                  _observations, _read_observations, lambda: models.Observation.id),
        EntitySet("visits", "Visit", "visit_id", _VISIT, _visit_columns, _visits, _read_visits,
                  lambda: models.Visit.id),
        EntitySet("structures", "Structure", "structure_id", _STRUCTURE, _structure_columns, _structures,
                  _read_structures, lambda: models.Structure.id),
        EntitySet("units", "Unit", "unit_id", _UNIT, _unit_columns, _units, _read_units,
                  lambda: models.Unit.id),
        EntitySet("categories", "Category", "category_id", _CATEGORY, dict, None, _read_categories),
    )
}  # fmt: skip
