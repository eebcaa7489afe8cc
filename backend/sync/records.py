"""Turn the shared schema's visits and observations into table rows, and back."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, delete

from backend import models
from shared import schema
from shared.taxonomy import current_taxonomy

MULTI_VALUED = {"dimension": "dimensions", "impact": "impacts"}


def visit_row(visit: schema.Visit, device_id: int | None = None, server_seq: int = 0) -> models.Visit:
    return models.Visit(**visit.model_dump(), device_id=device_id, server_seq=server_seq)


def observation_row(
    observation: schema.Observation, visit: models.Visit | schema.Visit
) -> models.Observation:
    fields = observation.model_dump(exclude={"dimensions", "impacts", "grid_attributes"})
    return models.Observation(**fields, structure_id=visit.structure_id, observer_id=visit.observer_id)


def attribute_values(observation: schema.Observation, structure_id: int) -> list[dict[str, Any]]:
    """The ``observation_attribute_value`` rows of an observation, as plain rows for bulk inserts.

    They carry copies of the observation's structure, time and deletion, so that dashboards count
    them without a join: write them again whenever the observation is written. The attributes a programme
    added to its grid (``grid_attributes``) live there too, single and multiple choices alike: the table
    is keyed by attribute code, so they need no column of their own.
    """
    chosen = [
        (attribute, code) for attribute, field in MULTI_VALUED.items() for code in getattr(observation, field)
    ]
    chosen += [
        (attribute, code) for attribute, codes in observation.grid_attributes.items() for code in codes
    ]
    return [
        {
            "observation_id": observation.id,
            "attribute": attribute,
            "code": code,
            "structure_id": structure_id,
            "occurred_at": observation.occurred_at,
            "deleted": observation.deleted,
        }
        for attribute, code in chosen
    ]


def attribute_rows(
    observation: schema.Observation, structure_id: int
) -> list[models.ObservationAttributeValue]:
    return [models.ObservationAttributeValue(**row) for row in attribute_values(observation, structure_id)]


def save_observation(
    session: Session, observation: schema.Observation, visit: models.Visit | schema.Visit
) -> models.Observation:
    """Insert or replace an observation with its multi-valued attributes (caller commits)."""
    row = session.merge(observation_row(observation, visit))
    session.exec(
        delete(models.ObservationAttributeValue).where(
            models.ObservationAttributeValue.observation_id == observation.id  # type: ignore[arg-type]
        )
    )
    session.add_all(attribute_rows(observation, visit.structure_id))
    return row


def observation_from_row(
    row: models.Observation, values: list[models.ObservationAttributeValue]
) -> schema.Observation:
    taxonomy = current_taxonomy()
    multi: dict[str, list[str]] = {}
    for attribute, field in MULTI_VALUED.items():
        # The database keeps no order; give the grid's, so a record always reads back the same.
        order = [v.code for v in taxonomy.attribute(attribute).values]
        codes = [v.code for v in values if v.attribute == attribute]
        multi[field] = sorted(codes, key=lambda code: order.index(code) if code in order else len(order))
    added: dict[str, list[str]] = {}
    for value in values:
        if value.attribute not in MULTI_VALUED:
            added.setdefault(value.attribute, []).append(value.code)
    fields = row.model_dump(include=set(schema.Observation.model_fields) - set(multi) - {"grid_attributes"})
    return schema.Observation.model_validate(
        {**fields, **multi, "grid_attributes": added}, context=schema.CODES_CHECKED
    )
