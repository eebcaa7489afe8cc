"""Helpers for the web app tests: the demo programme behind the app, and signed-in browsers per role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from backend import models
from backend.admin.demo_data import (
    DEMO_ADMIN_EMAIL,
    DEMO_FACILITATOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_VIEWER_EMAIL,
    DemoSummary,
    build_demo,
)
from backend.db import make_engine
from backend.main import create_app
from backend.migrate import upgrade
from backend.settings import Settings
from tests.databases import empty_database

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

    def user(self, email: str) -> models.User:
        with self.session() as session:
            return session.exec(select(models.User).where(models.User.email == email)).one()

    def structure_id(self, name: str) -> int:
        with self.session() as session:
            structure = session.exec(select(models.Structure).where(models.Structure.name == name)).one()
            assert structure.id is not None
            return structure.id


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
