"""Pseudonyms for exports: workshops see who observed as O1, O2… and, when they compare anonymously,
structures as S1, S2…; devices are never exported at all.

Numbers follow the order observers and structures were created in their programme, so the same person
is the same O-number in every export of a programme, whatever the filters.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend import models


@dataclass(frozen=True)
class Pseudonyms:
    observers: dict[int, str]
    structures: dict[int, str]  # the structure's name, or S1, S2… when exported anonymously

    def observer(self, observer_id: int) -> str:
        return self.observers.get(observer_id, "O?")

    def structure(self, structure_id: int) -> str:
        return self.structures.get(structure_id, "S?")


def build_pseudonyms(
    session: Session, programme_ids: Collection[int], *, anonymous_structures: bool
) -> Pseudonyms:
    wanted = sorted(programme_ids)
    observer_ids = session.exec(
        select(models.Observer.id)
        .where(col(models.Observer.programme_id).in_(wanted))
        .order_by(col(models.Observer.programme_id), col(models.Observer.id))
    ).all()
    structures = session.exec(
        select(models.Structure.id, models.Structure.name)
        .where(col(models.Structure.programme_id).in_(wanted))
        .order_by(col(models.Structure.programme_id), col(models.Structure.id))
    ).all()
    return Pseudonyms(
        observers={
            observer_id: f"O{n}" for n, observer_id in enumerate(observer_ids, start=1) if observer_id
        },
        structures={
            structure_id: f"S{n}" if anonymous_structures else name
            for n, (structure_id, name) in enumerate(structures, start=1)
            if structure_id is not None
        },
    )
