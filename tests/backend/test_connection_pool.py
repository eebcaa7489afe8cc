"""More requests at once than the server has worker threads, on a pool of one connection: every one is
answered. A request must never hold a connection while it waits for a thread (see
``backend.db.release_connection``); when one did, 200 tablets at once stalled on the pool's timeout and
got 503s (bench/load.py). A real uvicorn on PostgreSQL, as deployed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, create_engine

from backend.main import create_app
from backend.migrate import upgrade
from backend.settings import Settings
from backend.sync.devices import create_enrolment_code
from shared.sync import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests.databases import postgres_database
from tests.factories import make_site, observation
from tests.live_app import served_in_thread

pytestmark = pytest.mark.postgres

# More than the 40 threads FastAPI runs sync code on, so that some requests wait for a thread.
AT_ONCE = 90
POOL_TIMEOUT = 10  # seconds; a stall would end in 503s after this


@dataclass
class Served:
    base_url: str
    engine: Engine
    structure_id: int
    unit_id: int
    observer_id: int


@pytest.fixture
def served() -> Iterator[Served]:
    with postgres_database() as url:
        upgrade(url)
        engine = create_engine(
            url, pool_size=1, max_overflow=0, pool_timeout=POOL_TIMEOUT, pool_pre_ping=True
        )
        with Session(engine) as session:
            site = make_site(session, "CH Pool")
        app = create_app(Settings(database_url=url), engine=engine)
        try:
            with served_in_thread(app, log_level="warning") as base_url:
                yield Served(base_url, engine, site.structure_id, site.unit_ids[0], site.observer_ids[0])
        finally:
            engine.dispose()


def test_more_requests_than_threads_on_one_connection_are_all_answered(served: Served) -> None:
    with Session(served.engine) as session:
        code = create_enrolment_code(
            session, observer_id=served.observer_id, structure_id=served.structure_id
        ).code
    protocol = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    enrolled = httpx.post(
        f"{served.base_url}/api/v1/devices/enrol",
        json={"code": code, "installation_id": str(uuid.uuid4()), "label": "Pool"},
        headers=protocol,
        timeout=30,
    )
    assert enrolled.status_code == 201, enrolled.text
    body = enrolled.json()
    headers = protocol | {"Authorization": f"Bearer {body['device_token']}"}
    now = datetime.now(UTC).isoformat()
    visit = {
        "id": str(uuid.uuid4()),
        "structure_id": body["structure_id"],
        "unit_id": served.unit_id,
        "observer_id": body["observer_id"],
        "started_at": now,
        "created_at": now,
        "updated_at": now,
    }

    def push(number: int) -> int:
        mutations = [{"mutation_id": number * 2 + 1, "entity": "visit", "data": visit}]
        note = observation(visit["id"], occurred_at=now, created_at=now, updated_at=now)
        mutations.append({"mutation_id": number * 2 + 2, "entity": "observation", "data": note})
        answer = httpx.post(
            f"{served.base_url}/api/v1/sync/push",
            json={"device_time": now, "mutations": mutations},
            headers=headers,
            timeout=120,
        )
        return answer.status_code

    def pull(_number: int) -> int:
        return httpx.get(f"{served.base_url}/api/v1/sync/pull", headers=headers, timeout=120).status_code

    calls = [push if n % 3 == 0 else pull for n in range(AT_ONCE)]
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        answers = list(pool.map(lambda n: calls[n](n), range(AT_ONCE)))

    assert answers == [200] * AT_ONCE
    pulled = httpx.get(f"{served.base_url}/api/v1/sync/pull", headers=headers, timeout=30).json()
    assert len(pulled["observations"]) == AT_ONCE // 3  # every push went through, once
