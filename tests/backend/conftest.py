"""Fixtures of the backend tests: a site (programme, structure, units, observers) and its enrolled tablet."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import Site, Tablet, enrol, make_site


@pytest.fixture
def site(session: Session) -> Site:
    return make_site(session)


@pytest.fixture
def tablet(client: TestClient, session: Session, site: Site) -> Tablet:
    return enrol(client, session, site)
