"""Fixtures of the backend tests: a site (programme, structure, units, observers) and its enrolled tablet;
the demo programme behind the whole app, once per module and database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.databases import DATABASE_KINDS
from tests.factories import DemoWeb, Site, Tablet, demo_web, enrol, make_site


@pytest.fixture
def site(session: Session) -> Site:
    return make_site(session)


@pytest.fixture
def tablet(client: TestClient, session: Session, site: Site) -> Tablet:
    return enrol(client, session, site)


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    with demo_web(request.param, tmp_path_factory.mktemp("demo")) as web:
        yield web
