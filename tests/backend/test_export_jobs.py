"""Exports of large selections asked from a page: queued rather than held open, their progress shown, the
file offered when ready to its requester only, and removed once its time is up. Scripts calling the API
still get the file in the answer."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, func, select

from backend import models
from backend.admin.demo_data import DEMO_FACILITATOR_EMAIL, DEMO_PASSWORD, DEMO_VIEWER_EMAIL, build_demo
from backend.db import make_engine
from backend.db_types import utcnow
from backend.exports.jobs import purge_expired_exports
from backend.main import create_app
from backend.migrate import upgrade
from backend.settings import Settings
from tests.databases import DATABASE_KINDS, empty_database
from tests.factories import BROWSER_ACCEPT, DemoWeb, demo_web

THRESHOLD = 50


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWeb]:
    """The demo behind an app that sends exports of more than THRESHOLD rows to the background."""
    directory = tmp_path_factory.mktemp("export-jobs")
    with demo_web(request.param, directory) as demo:
        settings = Settings(
            database_url=demo.url, export_async_rows=THRESHOLD, export_dir=str(directory / "out")
        )
        demo.app = create_app(settings, engine=demo.engine)
        yield demo


def _wait_until_done(browser_get: Callable[[str], Any], path: str) -> str:
    deadline = time.monotonic() + 120
    while True:
        page = browser_get(path)
        assert page.status_code == 200
        if 'data-status="queued"' not in page.text and 'data-status="running"' not in page.text:
            return str(page.text)
        assert time.monotonic() < deadline, "the export did not finish"
        assert 'http-equiv="refresh"' in page.text  # the page refreshes itself meanwhile
        time.sleep(0.2)


def test_a_large_export_asked_from_a_page_is_built_in_the_background(site: DemoWeb) -> None:
    browser = site.browser(DEMO_FACILITATOR_EMAIL)
    queued = browser.get("/api/v1/exports/observations.xlsx")
    assert queued.status_code == 303
    job_page = queued.headers["location"]
    assert job_page.startswith("/exports/")
    done = _wait_until_done(browser.get, job_page)
    assert 'data-status="ready"' in done and "Télécharger" in done
    with site.session() as session:
        job = session.get_one(models.ExportJob, int(job_page.rsplit("/", 1)[1]))
        assert job.rows > THRESHOLD and job.rows_done == job.rows  # progress went to the end
        assert job.expires_at is not None and job.expires_at > utcnow() + timedelta(hours=23)
        recorded = session.exec(
            select(func.count())
            .select_from(models.AuditEvent)
            .where(models.AuditEvent.action == "export.xlsx")
        ).one()
    assert recorded >= 1

    file = browser.get(f"{job_page}/file")
    assert file.status_code == 200 and "attachment" in file.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(file.content))["Observations"]
    assert sheet.max_row == job.rows + 1

    other = site.browser(DEMO_VIEWER_EMAIL)  # not theirs: as if it did not exist
    assert other.get(job_page).status_code == 404
    assert other.get(f"{job_page}/file").status_code == 404


def test_scripts_and_small_selections_get_the_file_at_once(site: DemoWeb) -> None:
    browser = site.browser(DEMO_FACILITATOR_EMAIL)
    script = browser.client.get("/api/v1/exports/observations.csv", headers={"Accept": "*/*"})
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/csv")
    with site.session() as session:
        unit_id = session.exec(select(models.Unit.id)).first()
    small = browser.get(f"/api/v1/exports/observations.csv?unit_id={unit_id}&category=login")
    assert small.status_code == 200 and small.content.count(b"\r\n") <= THRESHOLD + 1


def test_a_file_is_removed_when_its_time_is_up(site: DemoWeb) -> None:
    browser = site.browser(DEMO_FACILITATOR_EMAIL)
    job_page = browser.get("/api/v1/exports/observations.csv").headers["location"]
    _wait_until_done(browser.get, job_page)
    job_id = int(job_page.rsplit("/", 1)[1])
    settings: Settings = site.app.state.settings
    path = settings.export_directory / f"export-{job_id}.csv"
    assert path.is_file()
    with site.session() as session:
        job = session.get_one(models.ExportJob, job_id)
        job.expires_at = utcnow() - timedelta(minutes=1)
        session.add(job)
        session.commit()
        assert purge_expired_exports(session, settings) == 1
    assert not path.exists()
    assert 'data-status="expired"' in browser.get(job_page).text
    assert browser.get(f"{job_page}/file").status_code == 404


def test_a_failed_export_says_so(tmp_path: Path) -> None:
    with empty_database("sqlite", tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            build_demo(session)
        # The export directory cannot be created (a file stands in its way): the job fails, cleanly.
        (tmp_path / "blocked").write_text("")
        settings = Settings(
            database_url=url, export_async_rows=1, export_dir=str(tmp_path / "blocked" / "out")
        )
        client = TestClient(create_app(settings, engine=engine), headers={"Accept": BROWSER_ACCEPT})
        login = client.post(
            "/api/v1/auth/login", json={"email": DEMO_FACILITATOR_EMAIL, "password": DEMO_PASSWORD}
        )
        assert login.status_code == 200, login.text
        job_page = client.get("/api/v1/exports/observations.json", follow_redirects=False).headers["location"]
        page = _wait_until_done(lambda path: client.get(path, follow_redirects=False), job_page)
        assert 'data-status="failed"' in page and "L'export a échoué" in page
        engine.dispose()
