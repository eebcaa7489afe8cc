"""The tablet without a network, killed mid-visit, and refused by the server: nothing recorded is lost,
the backlog leaves by itself when the server comes back, and refusals are shown with their reason."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from backend.db import make_engine
from backend.models import Observation as ObservationRow
from backend.models import Visit as VisitRow
from backend.server_process import free_port, vigie_command, wait_until_up
from mobile.capture import start_visit
from mobile.store import Store
from mobile.sync_client import SyncClient
from shared.schema import Observation, Visit
from tests.conftest import DemoSite
from tests.mobile.conftest import EnrolmentCode, Tablet, issue_code
from tests.mobile.test_enrolment_screen import assert_drawn, home_says, screenshot, snapshot, tap, wait_for

SYNC_INTERVAL = 2  # seconds; the app's default is a minute


class OwnServer:
    """A ``vigie serve`` on demo data that the test stops and starts again on the same port and file."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite:///{workdir / 'vigie.db'}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIGIE_DATABASE_URL")}
        self.process: subprocess.Popen[bytes] | None = None
        subprocess.run(vigie_command("demo"), cwd=workdir, env=self.env, check=True, capture_output=True)

    def start(self) -> None:
        log = self.workdir / "server.log"
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                vigie_command("serve", "--port", str(self.port)),
                cwd=self.workdir,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(self.url, self.process, log_path=log)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    @property
    def site(self) -> DemoSite:
        return DemoSite(url=self.url, database_url=self.database_url)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[OwnServer]:
    workdir = tmp_path / "server"
    workdir.mkdir()
    server = OwnServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def enrolled_tablet_in_a_visit(
    tablet: Tablet, site: DemoSite, clock_error: timedelta = timedelta(0), end_and_sync: bool = False
) -> tuple[EnrolmentCode, Visit]:
    """A tablet enrolled and synced (units on board), with a visit under way, as after the visit screen;
    or ended and synced, with the tablet's clock ``clock_error`` off."""
    issued = issue_code(site)
    tablet.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(tablet.store_path)
    try:
        client = SyncClient(store, clock=lambda: datetime.now(UTC) + clock_error)
        client.enrol(site.url, issued.code, label="tablette de test")
        client.sync()
        visit = start_visit(
            store,
            structure_id=issued.structure_id,
            unit_id=issued.unit_ids[0],
            observer_id=issued.observer_id,
            observed_roles=["ide"],
            context_note=None,
        )
        if end_and_sync:
            store.edit_visit(visit.id, ended_at=datetime.now(UTC))
            client.sync()
            assert store.pending_count() == 0
        return issued, visit
    finally:
        store.close()


def test_killed_in_the_middle_of_a_visit_the_app_comes_back_with_everything(
    tablet: Tablet, own_server: OwnServer
) -> None:
    _issued, visit = enrolled_tablet_in_a_visit(tablet, own_server.site)
    own_server.stop()  # no network in this ward: nothing leaves the tablet

    tablet.run(
        "crash",
        crashes=True,
        steps=[
            wait_for(screen="capture"),
            tap("category_interruption"),
            tap("category_alert"),
            tap("category_double_entry"),  # a timer, running when the tablet dies
            wait_for(id="counter", contains=": 3"),
            snapshot("before"),
            {"do": "crash"},
        ],
    )
    again = tablet.run(
        "after-crash",
        steps=[
            wait_for(screen="capture"),
            snapshot("after"),
            screenshot("capture-after-crash"),
        ],
    )

    assert again.text("after", "counter") == "Événements : 3"
    assert again.text("after", "pending") == "À envoyer : 4"  # the visit and its three observations
    assert again.widget("after", "category_double_entry")["text"].endswith("toucher pour arrêter")
    assert "Alerte ou notification" in again.text("after", "recent_1")
    store = Store(tablet.store_path)
    try:
        observations = store.observations(visit.id)
        assert [o.category for o in observations] == ["interruption", "alert", "double_entry"]
        assert observations[2].ended_at is None
        assert {e.record_id for e in store.pending(10)} == {str(visit.id)} | {str(o.id) for o in observations}
    finally:
        store.close()


def test_capture_goes_on_offline_and_the_backlog_leaves_once_the_server_is_back(
    tablet: Tablet, own_server: OwnServer, tmp_path: Path
) -> None:
    _issued, visit = enrolled_tablet_in_a_visit(tablet, own_server.site)
    own_server.stop()
    offline_seen, server_back = tmp_path / "offline-seen", tmp_path / "server-back"

    running = tablet.start(
        "offline",
        sync_interval=SYNC_INTERVAL,
        timeout=90,
        steps=[
            wait_for(screen="capture"),
            tap("category_interruption"),
            snapshot("one"),
            tap("category_workaround"),
            tap("category_equipment"),
            wait_for(id="counter", contains=": 3"),
            snapshot("three"),
            tap("home_button"),
            *home_says("sync_state", "Serveur injoignable", "home-offline", name="offline"),
            {"do": "signal", "path": str(offline_seen)},
            {"do": "wait_for", "file": str(server_back), "timeout": 30},
            wait_for(id="pending", contains="envoi : 0", timeout=30),
            wait_for(id="sync_state", property="text", equals="", timeout=10, snapshot="online"),
            screenshot("home-back-online"),
            tap("visit_button"),
            wait_for(screen="capture"),
            tap("category_paper"),  # capture carries on, and this one leaves too
            wait_for(id="pending", contains=": 0", timeout=30, snapshot="after"),
        ],
    )
    restarted = threading.Thread(target=_restart_when(own_server, offline_seen, server_back), daemon=True)
    restarted.start()
    run = running.finish()
    restarted.join(timeout=5)

    assert run.text("one", "pending") == "À envoyer : 2"
    assert run.text("three", "pending") == "À envoyer : 4"  # the count grows, tap after tap
    assert run.text("offline", "pending") == "Modifications en attente d'envoi : 4"
    assert run.text("offline", "last_sync").startswith(
        "Dernière synchronisation réussie"
    )  # the one at enrolment
    assert run.text("offline", "sync_state") == (
        "Échec de la dernière tentative : Serveur injoignable : les observations restent sur la tablette."
    )
    assert run.text("offline", "visit_button") == "Reprendre la visite en cours"
    assert_drawn(run, "home-offline")
    assert run.text("online", "pending") == "Modifications en attente d'envoi : 0"
    assert run.text("after", "counter") == "Événements : 4"

    engine = make_engine(own_server.database_url)
    try:
        with Session(engine) as session:
            assert session.get(VisitRow, visit.id) is not None
            rows = session.exec(
                select(ObservationRow.category, func.count())
                .where(ObservationRow.visit_id == visit.id)
                .group_by(col(ObservationRow.category))
            ).all()
    finally:
        engine.dispose()
    assert sorted(rows) == [("equipment", 1), ("interruption", 1), ("paper", 1), ("workaround", 1)]


def _restart_when(server: OwnServer, seen: Path, back: Path) -> Any:
    def restart() -> None:
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while not seen.exists() and datetime.now(UTC) < deadline:
            threading.Event().wait(0.2)
        if seen.exists():
            server.start()
            back.touch()

    return restart


def test_a_refused_observation_is_listed_with_the_servers_reason_and_opens(
    tablet: Tablet, demo_site: DemoSite
) -> None:
    _issued, visit = enrolled_tablet_in_a_visit(tablet, demo_site)
    # An observation recorded, then its visit deleted before either was sent: the server refuses the
    # observation (a child of a deleted visit) and keeps it in its history.
    store = Store(tablet.store_path)
    refused = Observation.logged(
        visit.id,
        datetime.now(UTC) - timedelta(minutes=5),
        "alert",
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )
    store.save_observation(refused)
    store.edit_visit(visit.id, ended_at=datetime.now(UTC), deleted=True)
    store.close()

    run = tablet.run(
        "refused",
        sync_interval=SYNC_INTERVAL,
        steps=[
            *home_says("rejected_title", "Refusées", "home-refused"),
            tap("rejected_open_0"),
            wait_for(screen="observation"),
            snapshot("observation"),
            screenshot("observation-refused"),
            tap("back"),
            wait_for(screen="home"),
            tap("language"),  # the observer switches to English; the choice stays on the tablet
            wait_for(id="sync_now", contains="Sync now"),
            snapshot("english"),
            screenshot("home-english"),
        ],
    )

    assert run.text("home", "rejected_title") == "Refusées par le serveur, à corriger : 1"
    row = run.text("home", "rejected_row_0")
    assert row.startswith("Alerte ou notification ")
    assert "Visite supprimée : cette observation est conservée dans l'historique." in row
    assert run.text("home", "pending") == "Modifications en attente d'envoi : 0"
    assert run.text("observation", "rejection").startswith(
        "Refusée par le serveur : Visite supprimée : cette observation est conservée dans l'historique."
    )
    assert_drawn(run, "home-refused")
    assert run.text("english", "rejected_title") == "Refused by the server, to fix: 1"
    assert run.text("english", "language") == "Français"
    assert run.text("english", "pending") == "Changes waiting to be sent: 0"
    assert_drawn(run, "home-english")


def test_a_tablet_clock_far_off_is_shown_on_the_home_screen(tablet: Tablet, demo_site: DemoSite) -> None:
    # The visit is ended and synced with the clock three days ahead: the server measures it and says so.
    enrolled_tablet_in_a_visit(tablet, demo_site, clock_error=timedelta(days=3), end_and_sync=True)

    run = tablet.run(
        "clock",
        sync_interval=SYNC_INTERVAL,
        steps=[
            *home_says("clock_warning", "horloge", "home-clock-warning"),
        ],
    )
    assert run.text("home", "clock_warning") == (
        "L'horloge de la tablette avance de 3 jours sur le serveur : réglez sa date et son heure."
    )
    assert_drawn(run, "home-clock-warning")
