"""Fixtures shared by the whole suite: databases of both kinds, the app, a live server."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.server_process import vigie_command, vigie_serve
from backend.settings import Settings
from tests.databases import DATABASE_KINDS, empty_database

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables), SQLite or PostgreSQL."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
def session(migrated_url: str) -> Iterator[Session]:
    engine = make_engine(migrated_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def client(migrated_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=migrated_url))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and other evidence go, kept after the run for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@dataclass(frozen=True)
class DemoSite:
    url: str
    database_url: str  # to act on the server's data directly, as a facilitator's tools would


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """A real ``vigie serve`` process on the demo data in a fresh SQLite file, as the README starts it."""
    workdir = tmp_path_factory.mktemp("demo-server")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIGIE_DATABASE_URL")}
    subprocess.run(vigie_command("demo"), cwd=workdir, env=env, check=True, capture_output=True)
    database_url = f"sqlite:///{workdir / 'vigie.db'}"
    with vigie_serve(database_url, workdir / "server.log") as base_url:
        yield DemoSite(url=base_url, database_url=database_url)


@pytest.fixture(scope="module")
def demo_server(demo_site: DemoSite) -> str:
    return demo_site.url
