"""The worlds tests build: a site (programme, structure, units, observers), enrolled tablets that push and
pull through the real API, well-formed records, and signed-in personas on the demo programme."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from backend import models
from backend.admin.demo_data import (
    DEMO_ADMIN_EMAIL,
    DEMO_FACILITATOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_VIEWER_EMAIL,
    DEMO_VIEWER_STRUCTURE,
    DemoSummary,
    build_demo,
)
from backend.auth.users import UserRole, create_user
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.settings import Settings
from backend.sync.devices import create_enrolment_code
from backend.sync.sequence import SequenceAllocator
from shared.sync import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.databases import empty_database

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Site:
    programme_id: int
    structure_id: int
    unit_ids: list[int]
    observer_ids: list[int]


def make_site(
    session: Session, name: str = "CH Test", observers: int = 2, timezone: str = "Europe/Paris"
) -> Site:
    sequence = SequenceAllocator(session)
    programme = models.Programme(name=f"ACIA {name}", taxonomy_version="2026.1")
    session.add(programme)
    session.flush()
    assert programme.id is not None
    structure = models.Structure(
        programme_id=programme.id, name=name, kind="hospital", timezone=timezone, server_seq=sequence.next()
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


def add_visit(session: Session, site: Site, moment: datetime) -> models.Visit:
    """A visit row written straight to the database (no push): the site's first unit and observer."""
    visit = models.Visit(
        id=uuid.uuid4(),
        structure_id=site.structure_id,
        unit_id=site.unit_ids[0],
        observer_id=site.observer_ids[0],
        started_at=moment,
        created_at=moment,
        updated_at=moment,
    )
    session.add(visit)
    session.flush()
    return visit


def add_observation(session: Session, visit: models.Visit, **fields: Any) -> models.Observation:
    """An interruption at the visit's start, written straight to the database (no push, no screening)."""
    moment = visit.started_at
    row = models.Observation(
        **{
            "id": uuid.uuid4(),
            "visit_id": visit.id,
            "structure_id": visit.structure_id,
            "observer_id": visit.observer_id,
            "occurred_at": moment,
            "category": "interruption",
            "created_at": moment,
            "updated_at": moment,
            **fields,
        }
    )
    session.add(row)
    return row


def make_facilitator(
    session: Session, email: str, password: str, programme_id: int, full_name: str = "Autre animatrice"
) -> models.User:
    """A facilitator account of one programme (e.g. another programme's, who must not see ours)."""
    role = UserRole.FACILITATOR
    return create_user(
        session, email=email, full_name=full_name, role=role, password=password, programme_ids=[programme_id]
    )


def site_code(session: Session, site: Site, observer_index: int = 0) -> str:
    """A fresh enrolment code for one of the site's observers, on its structure."""
    observer_id = site.observer_ids[observer_index]
    return create_enrolment_code(session, observer_id=observer_id, structure_id=site.structure_id).code


@dataclass
class Tablet:
    """A device as the server sees it: its token and what it may write. Its client is a TestClient on the
    app, or an ``httpx.Client`` on a running server (``tablet_client``)."""

    client: httpx.Client
    token: str
    device_id: int
    observer_id: int
    structure_id: int
    unit_id: int
    next_mutation: int = 1
    cursor: int = 0
    installation_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def headers(self) -> dict[str, str]:
        return {PROTOCOL_HEADER: str(PROTOCOL_VERSION), "Authorization": f"Bearer {self.token}"}

    def mutation(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        mutation = {"mutation_id": self.next_mutation, "entity": entity, "data": data}
        self.next_mutation += 1
        return mutation

    def push(
        self,
        *mutations: dict[str, Any],
        device_time: datetime | None = None,
        captures: list[str] | None = None,
    ) -> Any:
        """``captures``: the optional parts the app knows (PushRequest); left out as an older app does."""
        body: dict[str, Any] = {
            "device_time": (device_time or datetime.now(UTC)).isoformat(),
            "mutations": list(mutations),
        }
        if captures is not None:
            body["captures"] = captures
        return self.client.post("/api/v1/sync/push", json=body, headers=self.headers)

    def pull(self, cursor: int = 0, limit: int = 500) -> Any:
        return self.client.get(f"/api/v1/sync/pull?cursor={cursor}&limit={limit}", headers=self.headers)

    def pull_new(self) -> list[dict[str, Any]]:
        """Every observation sent back since this tablet's last pull, page by page as the app does."""
        observations: list[dict[str, Any]] = []
        while True:
            page = self.pull(self.cursor).json()
            observations += page["observations"]
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return observations

    def visit(self, **overrides: Any) -> dict[str, Any]:
        return {**visit(self.structure_id, self.unit_id, self.observer_id), **overrides}


def visit(structure_id: int, unit_id: int | None, observer_id: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "structure_id": structure_id,
        "unit_id": unit_id,
        "observer_id": observer_id,
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


def post_enrolment(
    client: httpx.Client, code: str, installation: uuid.UUID | None = None, label: str = "Tablette"
) -> Any:
    """What the tablet sends when its observer types the code (no assertion: tests of refusals use it)."""
    return client.post(
        "/api/v1/devices/enrol",
        json={"code": code, "installation_id": str(installation or uuid.uuid4()), "label": label},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION)},
    )


def tablet_client(base_url: str, token: str | None = None, timeout: float = 30) -> httpx.Client:
    """An HTTP client to a running server that speaks the sync protocol, as the tablet holding ``token``."""
    headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout)


def enrolled_tablet(
    client: httpx.Client,
    session: Session,
    observer_id: int,
    structure_id: int,
    unit_id: int = 0,
    installation: uuid.UUID | None = None,
    label: str = "Tablette",
) -> Tablet:
    """A tablet enrolled through the real API with a fresh code for this observer and structure."""
    issued = create_enrolment_code(session, observer_id=observer_id, structure_id=structure_id)
    installation = installation or uuid.uuid4()
    response = post_enrolment(client, issued.code, installation, label)
    assert response.status_code == 201, response.text
    body = response.json()
    return Tablet(
        client=client,
        token=body["device_token"],
        device_id=body["device_id"],
        observer_id=body["observer_id"],
        structure_id=body["structure_id"],
        unit_id=unit_id,
        installation_id=installation,
    )


def enrol(
    client: TestClient,
    session: Session,
    site: Site,
    observer_index: int = 0,
    installation: uuid.UUID | None = None,
) -> Tablet:
    return enrolled_tablet(
        client, session, site.observer_ids[observer_index], site.structure_id, site.unit_ids[0], installation
    )


def statuses(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json()["results"]]


# Signed-in personas on the demo programme.

ADMIN, FACILITATOR, VIEWER = DEMO_ADMIN_EMAIL, DEMO_FACILITATOR_EMAIL, DEMO_VIEWER_EMAIL
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass
class Browser:
    """A TestClient holding one person's session cookie, with the CSRF token their pages carry."""

    client: TestClient
    csrf: str

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def form(self, path: str, data: dict[str, str] | None = None) -> Any:
        """Submit a form as our pages do: with the hidden CSRF field."""
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, follow_redirects=False)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, "Accept": "application/json", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


_Row = TypeVar("_Row", bound=SQLModel)


@dataclass
class DemoWeb:
    app: FastAPI
    engine: Engine
    url: str
    summary: DemoSummary

    def browser(self, email: str | None, password: str = DEMO_PASSWORD) -> Browser:
        # Browsers ask for HTML on every navigation and form: error pages answer in kind.
        client = TestClient(self.app, base_url="http://testserver", headers={"Accept": BROWSER_ACCEPT})
        if email is None:
            return Browser(client, "")
        response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return Browser(client, response.json()["csrf_token"])

    def session(self) -> Session:
        return Session(self.engine)

    def tablet(self, observer_index: int = 0) -> Tablet:
        """A tablet enrolled through the API for one of the programme's observers, in the read-only
        account's structure (so that what it pushes is also what that account may read)."""
        structure_id = self.user(DEMO_VIEWER_EMAIL).structure_id
        assert structure_id is not None
        with self.session() as session:
            structure = session.get_one(models.Structure, structure_id)
            observers = session.exec(
                select(models.Observer)
                .where(models.Observer.programme_id == structure.programme_id)
                .order_by(models.Observer.id)  # type: ignore[arg-type]
            ).all()
            unit = session.exec(select(models.Unit).where(models.Unit.structure_id == structure_id)).first()
            assert unit is not None and unit.id is not None
            observer_id = observers[observer_index].id
            assert observer_id is not None
            return enrolled_tablet(TestClient(self.app), session, observer_id, structure_id, unit.id)

    def user(self, email: str) -> models.User:
        with self.session() as session:
            return session.exec(select(models.User).where(models.User.email == email)).one()

    def structure_id(self, name: str) -> int:
        with self.session() as session:
            structure = session.exec(select(models.Structure).where(models.Structure.name == name)).one()
            assert structure.id is not None
            return structure.id

    def outside_viewer(self, model: type[_Row], structure_column: Any) -> _Row:
        """The first ``model`` row whose structure (``structure_column``) is not the read-only account's."""
        own = self.structure_id(DEMO_VIEWER_STRUCTURE)
        with self.session() as session:
            row = session.exec(select(model).where(structure_column != own)).first()
        assert row is not None
        return row


@contextmanager
def demo_web(kind: str, directory: Path) -> Iterator[DemoWeb]:
    with empty_database(kind, directory) as url:
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            summary = build_demo(session)
        app = create_app(Settings(database_url=url), engine=engine)
        try:
            yield DemoWeb(app=app, engine=engine, url=url, summary=summary)
        finally:
            engine.dispose()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)
