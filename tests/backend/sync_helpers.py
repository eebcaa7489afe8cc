"""Helpers for sync tests: a programme with two structures, enrolled devices, well-formed records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from backend import models
from backend.sync.devices import create_enrolment_code
from backend.sync.sequence import SequenceAllocator
from shared.sync import PROTOCOL_HEADER, PROTOCOL_VERSION

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Site:
    programme_id: int
    structure_id: int
    unit_ids: list[int]
    observer_ids: list[int]


def make_site(session: Session, name: str = "CH Test", observers: int = 2) -> Site:
    sequence = SequenceAllocator(session)
    programme = models.Programme(name=f"ACIA {name}", taxonomy_version="2026.1")
    session.add(programme)
    session.flush()
    assert programme.id is not None
    structure = models.Structure(
        programme_id=programme.id, name=name, kind="hospital", server_seq=sequence.next()
    )
    session.add(structure)
    session.flush()
    assert structure.id is not None
    units = [
        models.Unit(structure_id=structure.id, name=n, server_seq=sequence.next())
        for n in ("Cardio", "Urgences")
    ]
    people = [models.Observer(programme_id=programme.id, display_name=f"Obs {i}") for i in range(observers)]
    session.add_all([*units, *people])
    sequence.save()
    session.commit()
    return Site(programme.id, structure.id, [u.id or 0 for u in units], [p.id or 0 for p in people])


@dataclass
class Tablet:
    """A device as the server sees it: its token and what it may write."""

    client: TestClient
    token: str
    device_id: int
    observer_id: int
    structure_id: int
    unit_id: int
    next_mutation: int = 1
    installation_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def headers(self) -> dict[str, str]:
        return {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "Authorization": f"Bearer {self.token}"}

    def mutation(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        mutation = {"mutation_id": self.next_mutation, "entity": entity, "data": data}
        self.next_mutation += 1
        return mutation

    def push(self, *mutations: dict[str, Any], device_time: datetime | None = None) -> Any:
        body = {"device_time": (device_time or datetime.now(UTC)).isoformat(), "mutations": list(mutations)}
        return self.client.post("/api/v1/sync/push", json=body, headers=self.headers)

    def pull(self, cursor: int = 0, limit: int = 500) -> Any:
        return self.client.get(f"/api/v1/sync/pull?cursor={cursor}&limit={limit}", headers=self.headers)

    def visit(self, **overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "structure_id": self.structure_id,
            "unit_id": self.unit_id,
            "observer_id": self.observer_id,
            "started_at": (NOW - timedelta(hours=1)).isoformat(),
            "observed_roles": ["ide"],
            "created_at": NOW.isoformat(),
            "updated_at": NOW.isoformat(),
        }
        data.update(overrides)
        return data


def observation(visit_id: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "visit_id": visit_id,
        "occurred_at": (NOW - timedelta(minutes=30)).isoformat(),
        "category": "interruption",
        "interruption_source": "phone",
        "dimensions": ["rhythm"],
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
    }
    data.update(overrides)
    return data


def enrol(
    client: TestClient,
    session: Session,
    site: Site,
    observer_index: int = 0,
    installation: uuid.UUID | None = None,
) -> Tablet:
    issued = create_enrolment_code(
        session, observer_id=site.observer_ids[observer_index], structure_id=site.structure_id
    )
    installation = installation or uuid.uuid4()
    response = client.post(
        "/api/v1/devices/enrol",
        json={"code": issued.code, "installation_id": str(installation), "label": "Tablette"},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Tablet(
        client=client,
        token=body["device_token"],
        device_id=body["device_id"],
        observer_id=body["observer_id"],
        structure_id=body["structure_id"],
        unit_id=site.unit_ids[0],
        installation_id=installation,
    )


def statuses(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json()["results"]]
