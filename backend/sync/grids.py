"""Which version of the programme's grid checks each pushed record: a visit's own, its observations'."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlmodel import Session, col, select

from backend import models
from backend.grids.versions import programme_taxonomies
from shared.sync import Mutation
from shared.taxonomy import Taxonomy


def device_programme_id(session: Session, device: models.Device) -> int:
    return session.exec(
        select(models.Structure.programme_id).where(models.Structure.id == device.structure_id)
    ).one()


@lru_cache(maxsize=4096)
def _parsed(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _uuid(value: Any) -> UUID | None:
    """The visit id a record names (hundreds of records of a push name the same few: parsed once)."""
    return _parsed(value) if isinstance(value, str) else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class PushGrids:
    """The grids a push needs, read in two queries: the versions its visits name (in the push or stored)."""

    def __init__(self, session: Session, device: models.Device, mutations: list[Mutation]):
        self.visit_numbers: dict[UUID, int | None] = {}
        for mutation in mutations:
            visit_id = _uuid(mutation.data.get("id"))
            if mutation.entity == "visit" and visit_id is not None:
                self.visit_numbers[visit_id] = _number(mutation.data.get("grid_version"))
        stored = {
            visit_id
            for mutation in mutations
            if mutation.entity == "observation"
            and (visit_id := _uuid(mutation.data.get("visit_id"))) is not None
            and visit_id not in self.visit_numbers
        }
        if stored:
            rows = session.exec(
                select(models.Visit.id, models.Visit.grid_version).where(col(models.Visit.id).in_(stored))
            ).all()
            self.visit_numbers.update(dict(rows))
        programme_id = device_programme_id(session, device)
        self.grids = programme_taxonomies(session, programme_id, self.visit_numbers.values())

    def for_mutation(self, mutation: Mutation) -> tuple[Taxonomy | None, int | None]:
        """The grid checking this record, or None with the version number it names that is unknown."""
        if mutation.entity == "visit":
            number = _number(mutation.data.get("grid_version"))
        else:
            visit_id = _uuid(mutation.data.get("visit_id"))
            number = self.visit_numbers.get(visit_id) if visit_id is not None else None
        return self.grids.get(number), number
