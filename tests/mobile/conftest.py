"""The tablet app in a real window: an Xvfb display, a tablet data folder, a demo server to enrol on.

Each app run is a subprocess (``tests/mobile/app_driver.py``) playing a scripted scenario; the tests
assert on what it saw. Screenshots land in test-artifacts/mobile/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, Unpack

import pytest
from sqlmodel import Session
from sqlmodel import select as select_rows

from backend.db import make_engine
from backend.models import Observer, Structure, Unit
from backend.sync.devices import create_enrolment_code
from tests.conftest import DemoSite

REPO = Path(__file__).resolve().parents[2]
# Big enough for a 10" tablet either way up (1280×800, 800×1280) and the 1920×1200 check; screenshots keep
# only the app's window.
SCREEN_SIZE = "1920x1280x24"
APP_RUN_TIMEOUT = 60


@dataclass(frozen=True)
class Display:
    name: str  # for DISPLAY, e.g. ":3"
    framebuffer: Path  # the screen's pixels, kept up to date by Xvfb


@pytest.fixture(scope="session")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Display]:
    """An Xvfb server on a display number it picks itself (-displayfd), so parallel runs never clash."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is missing: apt-get install xvfb (scripts/test.sh does it).")
    if importlib.util.find_spec("kivy") is None:
        pytest.fail("Kivy is missing: pip install -e '.[mobile]'.")
    fbdir = tmp_path_factory.mktemp("xvfb")
    read_end, write_end = os.pipe()
    log = (fbdir / "xvfb.log").open("wb")
    command = ["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN_SIZE, "-fbdir", str(fbdir)]
    process = subprocess.Popen(
        [*command, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 15)
        number = os.read(read_end, 32).decode().strip() if ready else ""
        if not number.isdigit():
            pytest.fail(f"Xvfb did not start: {(fbdir / 'xvfb.log').read_text(errors='replace')}")
        yield Display(name=f":{number}", framebuffer=fbdir / "Xvfb_screen0")
    finally:
        os.close(read_end)
        process.terminate()
        process.wait(timeout=10)
        log.close()


@dataclass(frozen=True)
class AppRun:
    """What one run of the app saw: named snapshots of the screen and the screenshots taken."""

    snapshots: dict[str, Any]
    screenshots: dict[str, Any]
    steps: list[dict[str, Any]]

    def screen(self, snapshot: str) -> str:
        return str(self.snapshots[snapshot]["screen"])

    def widget(self, snapshot: str, widget_id: str) -> dict[str, Any]:
        widget: dict[str, Any] = self.snapshots[snapshot]["widgets"][widget_id]
        return widget

    def text(self, snapshot: str, widget_id: str) -> str:
        return str(self.widget(snapshot, widget_id)["text"])

    def step_duration(self, index: int) -> float:
        return float(self.steps[index]["ended"] - self.steps[index]["began"])


class AppOptions(TypedDict, total=False):
    """How ``start`` runs the app (see its parameters)."""

    server_url: str | None
    language: str | None
    home: Path | None
    sync_interval: float | None
    timeout: float


@dataclass
class Tablet:
    """One tablet: its data folder survives from one app run to the next, as on a real device."""

    display: Display
    data_dir: Path
    kivy_home: Path
    workdir: Path
    artifacts: Path
    runs: int = field(default=0)

    @property
    def store_path(self) -> Path:
        return self.data_dir / "vigie.db"

    def run(
        self, name: str, steps: list[dict[str, Any]], crashes: bool = False, **options: Unpack[AppOptions]
    ) -> AppRun:
        """Run the app once, started as ``start`` says; ``crashes``: the scenario ends with a ``crash`` step,
        so the process must die of SIGKILL."""
        return self.start(name, steps, **options).finish(crashes=crashes)

    def start(
        self,
        name: str,
        steps: list[dict[str, Any]],
        server_url: str | None = None,
        language: str | None = None,
        home: Path | None = None,
        sync_interval: float | None = None,
        timeout: float = APP_RUN_TIMEOUT,
    ) -> RunningApp:
        """Start the app and return at once, for tests that act on the world while it runs; with ``home``, no
        VIGIE_APP_DATA: the store goes to the user data folder."""
        self.runs += 1
        scenario = self.workdir / f"{self.runs}-{name}.json"
        result_path = self.workdir / f"{self.runs}-{name}-result.json"
        scenario.write_text(
            json.dumps(
                {
                    "name": name,
                    "steps": steps,
                    "framebuffer": str(self.display.framebuffer),
                    "artifacts": str(self.artifacts),
                    "timeout": timeout - 10,
                }
            ),
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KIVY_", "KCFG_", "VIGIE_", "SDL_"))}
        env.pop("WAYLAND_DISPLAY", None)
        env.update(
            DISPLAY=self.display.name,
            SDL_VIDEODRIVER="x11",
            KIVY_HOME=str(self.kivy_home),
            KIVY_NO_ARGS="1",
            KIVY_NO_CONSOLELOG="1",  # Kivy's log goes to KIVY_HOME/logs; Python errors still reach stderr
            KIVY_LOG_MODE="MIXED",
            KIVY_WINDOW="sdl2",
            KIVY_METRICS_DENSITY="1",
            # The window at the screen's top left corner, not centred: turned to portrait, it must stay whole
            # on the X screen that the screenshots read.
            KCFG_GRAPHICS_POSITION="custom",
            KCFG_GRAPHICS_LEFT="0",
            KCFG_GRAPHICS_TOP="0",
            VIGIE_APP_DATA=str(self.data_dir),
        )
        if home is not None:
            del env["VIGIE_APP_DATA"]
            env.pop("XDG_CONFIG_HOME", None)
            env["HOME"] = str(home)
        if server_url is not None:
            env["VIGIE_SERVER_URL"] = server_url
        if language is not None:
            env["VIGIE_LANG"] = language
        if sync_interval is not None:
            env["VIGIE_SYNC_INTERVAL"] = str(sync_interval)
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.mobile.app_driver", str(scenario), str(result_path)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return RunningApp(self, name, process, result_path, timeout)

    def kivy_log(self) -> str:
        logs = sorted((self.kivy_home / "logs").glob("*.txt"), key=lambda p: p.stat().st_mtime)
        return logs[-1].read_text(errors="replace")[-4000:] if logs else "(none)"


@dataclass
class RunningApp:
    tablet: Tablet
    name: str
    process: subprocess.Popen[str]
    result_path: Path
    timeout: float

    def finish(self, crashes: bool = False) -> AppRun:
        try:
            _stdout, stderr = self.process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _stdout, stderr = self.process.communicate()
        result = json.loads(self.result_path.read_text(encoding="utf-8")) if self.result_path.exists() else {}
        expected = -signal.SIGKILL if crashes else 0
        if self.process.returncode != expected or result.get("error"):
            pytest.fail(
                f"app run {self.name!r} failed (exit {self.process.returncode}, expected {expected}):\n"
                f"{result.get('error')}\n--- stderr ---\n{stderr[-4000:]}\n"
                f"--- Kivy log ---\n{self.tablet.kivy_log()}",
                pytrace=False,
            )
        return AppRun(result["snapshots"], result["screenshots"], result["steps"])


@pytest.fixture(scope="session")
def kivy_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kivy-home")


@pytest.fixture
def tablet(display: Display, kivy_home: Path, tmp_path: Path, artifacts: Path) -> Tablet:
    return Tablet(
        display=display,
        data_dir=tmp_path / "tablet-data",
        kivy_home=kivy_home,
        workdir=tmp_path,
        artifacts=artifacts / "mobile",
    )


@dataclass(frozen=True)
class EnrolmentCode:
    code: str  # formatted ABCD-EFGH
    observer_name: str
    observer_id: int
    structure_id: int
    unit_ids: list[int]  # the structure's units, as the tablet will pull them


def issue_code(site: DemoSite) -> EnrolmentCode:
    """A fresh single-use code for the demo programme's first observer, as a facilitator would create."""
    engine = make_engine(site.database_url)
    try:
        with Session(engine) as session:
            observer = session.exec(select_rows(Observer).order_by(Observer.id)).first()  # type: ignore[arg-type]
            assert observer is not None and observer.id is not None
            structure = session.exec(
                select_rows(Structure)
                .where(Structure.programme_id == observer.programme_id)
                .order_by(Structure.id)  # type: ignore[arg-type]
            ).first()
            assert structure is not None and structure.id is not None
            issued = create_enrolment_code(session, observer_id=observer.id, structure_id=structure.id)
            units = session.exec(
                select_rows(Unit).where(Unit.structure_id == structure.id).order_by(Unit.id)  # type: ignore[arg-type]
            ).all()
            return EnrolmentCode(
                code=issued.code,
                observer_name=observer.display_name,
                observer_id=observer.id,
                structure_id=structure.id,
                unit_ids=[u.id for u in units if u.id is not None],
            )
    finally:
        engine.dispose()


@dataclass
class SilentServer:
    """Accepts connections and never answers: a server hung, or a network that swallows replies."""

    url: str
    connections: list[socket.socket] = field(default_factory=list)


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    server = SilentServer(url=f"http://127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            server.connections.append(connection)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield server
    finally:
        stop.set()
        acceptor.join(timeout=5)
        listener.close()
        for connection in server.connections:
            connection.close()
