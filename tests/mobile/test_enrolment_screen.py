"""Enrolling a tablet, driven through the real app in a real window against a real server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from backend.db import make_engine
from backend.models import Device
from backend.models import Visit as VisitRow
from backend.server_process import free_port
from mobile import theme
from mobile.store import Store
from mobile.sync_client import SyncClient
from shared.schema import Visit
from tests.conftest import DemoSite
from tests.mobile.conftest import AppRun, SilentServer, Tablet, issue_code

MIN_TOUCH_DP = 48


def tap(widget_id: str) -> dict[str, Any]:
    return {"do": "tap", "id": widget_id}


def type_in(widget_id: str, text: str, replace: bool = False) -> dict[str, Any]:
    return {"do": "type", "id": widget_id, "text": text, "replace": replace}


def wait_for(timeout: float = 10, **condition: Any) -> dict[str, Any]:
    return {"do": "wait_for", "timeout": timeout, **condition}


def snapshot(name: str) -> dict[str, Any]:
    return {"do": "snapshot", "name": name}


def screenshot(name: str) -> dict[str, Any]:
    return {"do": "screenshot", "name": name}


def home_says(widget_id: str, contains: str, shot: str, name: str = "home") -> list[dict[str, Any]]:
    """Back on the home screen, ``widget_id`` comes to say ``contains`` (a sync may take a while): recorded as
    ``name`` and photographed as ``shot``."""
    return [
        wait_for(screen="home"),
        wait_for(id=widget_id, contains=contains, timeout=20, snapshot=name),
        screenshot(shot),
    ]


def assert_drawn(run: AppRun, name: str, size: tuple[int, int] = (1280, 800)) -> None:
    """The display really shows the app: a white page with text on it, not a black or blank window."""
    shot = run.screenshots[name]
    assert shot["size"] == list(size)
    assert shot["black"] < 0.05, shot
    assert 0.6 < shot["white"] < 0.99, shot
    assert shot["colours"] > 20, shot


def assert_error_shown(run: AppRun, name: str, message: str) -> None:
    assert run.text(name, "message") == message
    assert run.widget(name, "message")["color"] == pytest.approx(theme.ERROR, abs=0.002)
    assert run.widget(name, "enrol_button")["disabled"] is False
    assert run.text(name, "enrol_button") == "Enrôler la tablette"


def test_enrolment_opens_home_and_a_restart_goes_straight_there(tablet: Tablet, demo_site: DemoSite) -> None:
    issued = issue_code(demo_site)

    first = tablet.run(
        "enrol",
        server_url=demo_site.url,
        steps=[
            snapshot("start"),
            screenshot("enrolment-empty"),
            type_in("code", issued.code.lower()),  # typed as read aloud; the case does not matter
            snapshot("filled"),
            screenshot("enrolment-filled"),
            tap("enrol_button"),
            wait_for(screen="home"),
            snapshot("home"),
            screenshot("home"),
        ],
    )

    assert first.screen("start") == "enrolment"
    assert first.snapshots["start"]["window"] == [1280, 800]
    assert first.text("start", "server_url") == demo_site.url  # proposed from VIGIE_SERVER_URL
    assert first.text("start", "title") == "Enrôler la tablette"
    for widget_id in ("server_url", "code", "enrol_button"):
        assert first.widget("start", widget_id)["size_dp"][1] >= MIN_TOUCH_DP
    assert first.text("filled", "code") == issued.code
    assert first.text("home", "enrolled_for") == f"Tablette enrôlée pour {issued.observer_name}"
    assert first.text("home", "pending") == "Modifications en attente d'envoi : 0"
    for name in ("enrolment-empty", "enrolment-filled", "home"):
        assert_drawn(first, name)

    store = Store(tablet.store_path)
    try:
        assert store.get_meta("observer_name") == issued.observer_name
        assert store.get_meta("server_url") == demo_site.url
        engine = make_engine(demo_site.database_url)
        with Session(engine) as session:
            device = session.exec(
                select(Device).where(Device.installation_id == uuid.UUID(store.installation_id))
            ).one()
        engine.dispose()
        assert device.revoked_at is None
        # The observer records a visit, not sent yet: the app sends it by itself after the restart.
        now = datetime.now(UTC)
        visit_id = uuid.uuid4()
        store.save_visit(
            Visit.begin(device.structure_id, issued.unit_ids[0], device.observer_id, now, id=visit_id)
        )
    finally:
        store.close()

    again = tablet.run(
        "restart",
        steps=[
            snapshot("start"),
            wait_for(id="pending", contains="envoi : 0", timeout=20),
            snapshot("synced"),
            screenshot("home-after-restart"),
        ],
    )

    assert again.screen("start") == "home"
    assert again.text("start", "enrolled_for") == f"Tablette enrôlée pour {issued.observer_name}"
    assert again.text("start", "server") == f"Serveur : {demo_site.url}"
    assert again.text("synced", "last_sync").startswith("Dernière synchronisation réussie : ")
    assert_drawn(again, "home-after-restart")
    engine = make_engine(demo_site.database_url)
    with Session(engine) as session:
        assert session.get(VisitRow, visit_id) is not None
    engine.dispose()


def test_refused_codes_show_the_servers_message_and_keep_what_was_typed(
    tablet: Tablet, demo_site: DemoSite, tmp_path: Path
) -> None:
    spent = issue_code(demo_site)
    other_tablet = Store(tmp_path / "other-tablet.db")
    SyncClient(other_tablet).enrol(demo_site.url, spent.code, label="autre tablette")
    other_tablet.close()

    run = tablet.run(
        "refused-codes",
        server_url=demo_site.url,
        steps=[
            type_in("code", "ZZZZ-ZZZZ"),
            tap("enrol_button"),
            wait_for(id="message", contains="inconnu"),
            wait_for(id="enrol_button", property="disabled", equals=False),
            snapshot("unknown"),
            screenshot("enrolment-unknown-code"),
            type_in("code", spent.code, replace=True),
            tap("enrol_button"),
            wait_for(id="message", contains="déjà servi"),
            wait_for(id="enrol_button", property="disabled", equals=False),
            snapshot("spent"),
        ],
    )

    assert run.screen("unknown") == "enrolment"
    assert_error_shown(run, "unknown", "Code d'enrôlement inconnu : vérifiez la saisie.")
    assert run.text("unknown", "code") == "ZZZZ-ZZZZ"
    assert run.text("unknown", "server_url") == demo_site.url
    assert_drawn(run, "enrolment-unknown-code")
    assert run.screen("spent") == "enrolment"
    assert_error_shown(run, "spent", "Ce code a déjà servi : demandez-en un nouveau.")
    assert run.text("spent", "code") == spent.code
    store = Store(tablet.store_path)
    assert store.get_meta("device_token") is None
    store.close()


def test_unreachable_server_is_reported_at_once_and_a_corrected_address_then_works(
    tablet: Tablet, demo_site: DemoSite
) -> None:
    issued = issue_code(demo_site)
    nobody_there = f"http://127.0.0.1:{free_port()}"

    run = tablet.run(
        "unreachable",
        steps=[
            type_in("server_url", nobody_there),
            type_in("code", issued.code),
            tap("enrol_button"),
            wait_for(id="message", contains="Serveur injoignable", timeout=5),
            snapshot("unreachable"),
            screenshot("enrolment-unreachable"),
            type_in("server_url", demo_site.url, replace=True),
            tap("enrol_button"),
            wait_for(screen="home"),
            snapshot("home"),
        ],
    )

    assert run.step_duration(3) < 3  # the refusal comes back without waiting for a timeout
    assert_error_shown(run, "unreachable", "Serveur injoignable : les observations restent sur la tablette.")
    assert run.text("unreachable", "server_url") == nobody_there
    assert run.text("unreachable", "code") == issued.code
    assert_drawn(run, "enrolment-unreachable")
    assert run.text("home", "enrolled_for") == f"Tablette enrôlée pour {issued.observer_name}"


def test_window_stays_responsive_while_the_server_does_not_answer(
    tablet: Tablet, silent_server: SilentServer
) -> None:
    run = tablet.run(
        "silent-server",
        steps=[
            type_in("server_url", silent_server.url),
            type_in("code", "ABCD-EFGH"),
            tap("enrol_button"),
            wait_for(id="message", contains="Connexion au serveur", timeout=2),
            snapshot("waiting"),
            tap("enrol_button"),  # a second tap while waiting must not send a second request
            type_in("code", "K"),  # and the observer can still type
            wait_for(id="code", contains="EFGHK", timeout=2),
            snapshot("still waiting"),
            screenshot("enrolment-waiting-for-server"),
        ],
    )

    waiting, later = run.snapshots["waiting"], run.snapshots["still waiting"]
    assert run.widget("waiting", "enrol_button")["disabled"] is True
    assert run.text("waiting", "enrol_button") == "Enrôlement en cours…"
    assert run.text("still waiting", "message") == "Connexion au serveur…"
    assert run.widget("still waiting", "enrol_button")["disabled"] is True
    assert run.text("still waiting", "code") == "ABCD-EFGHK"
    assert run.widget("still waiting", "code")["focus"] is True
    # The UI thread kept going while the request stayed open: a blocked one would have waited for the
    # client's 20 s read timeout before handling the tap and the key.
    assert later["t"] - waiting["t"] < 5
    assert later["frames_drawn"] > waiting["frames_drawn"]
    assert_drawn(run, "enrolment-waiting-for-server")
    assert len(silent_server.connections) == 1


def test_missing_or_malformed_fields_are_refused_on_the_tablet(tablet: Tablet) -> None:
    run = tablet.run(
        "local-checks",
        steps=[
            tap("enrol_button"),
            wait_for(id="message", contains="adresse du serveur"),
            snapshot("no address"),
            type_in("server_url", "192.168.1.10:8000"),  # no scheme: http:// is implied
            tap("enrol_button"),
            wait_for(id="message", contains="code d'enrôlement"),
            snapshot("no code"),
            type_in("code", "ABC-DE"),
            tap("enrol_button"),
            wait_for(id="message", contains="8 lettres"),
            snapshot("short code"),
            screenshot("enrolment-short-code"),
        ],
    )

    assert_error_shown(
        run, "no address", "Saisissez l'adresse du serveur (exemple : http://192.168.1.10:8000)."
    )
    assert_error_shown(run, "no code", "Saisissez le code d'enrôlement (exemple : ABCD-EFGH).")
    assert_error_shown(
        run, "short code", "Le code d'enrôlement compte 8 lettres ou chiffres (exemple : ABCD-EFGH)."
    )
    assert run.text("short code", "code") == "ABC-DE"
    assert_drawn(run, "enrolment-short-code")


def test_english_is_selectable(tablet: Tablet) -> None:
    run = tablet.run(
        "english",
        language="en",
        steps=[
            snapshot("start"),
            type_in("server_url", f"http://127.0.0.1:{free_port()}"),
            type_in("code", "ABCD-EFGH"),
            tap("enrol_button"),
            wait_for(id="message", contains="unreachable", timeout=5),
            snapshot("unreachable"),
            screenshot("enrolment-english"),
        ],
    )

    assert run.text("start", "title") == "Enrol this tablet"
    assert run.text("start", "enrol_button") == "Enrol the tablet"
    assert run.text("unreachable", "message") == "Server unreachable: observations stay on the tablet."
    assert_drawn(run, "enrolment-english")


def test_without_vigie_app_data_the_store_lives_in_the_users_data_folder(
    tablet: Tablet, tmp_path: Path
) -> None:
    home = tmp_path / "home"  # a fresh account: not even ~/.config yet
    home.mkdir()

    run = tablet.run("default-data-folder", home=home, steps=[snapshot("start")])

    assert run.screen("start") == "enrolment"
    assert (home / ".config" / "vigie" / "vigie.db").is_file()
    assert not tablet.store_path.exists()
