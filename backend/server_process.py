"""Running ``vigie serve`` as a child process and waiting until it answers.

Used by the benchmark and the tests that need a real server process, as deployed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


class ServerDidNotStart(RuntimeError):  # noqa: N818 (reads as what happened)
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vigie_command(*args: str) -> list[str]:
    """The ``vigie`` command run by this interpreter, whatever the PATH says."""
    return [sys.executable, "-m", "backend.cli", *args]


def wait_until_up(
    base_url: str, process: subprocess.Popen[Any], timeout: float = 30, log_path: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace")[-2000:] if log_path else ""
            raise ServerDidNotStart(f"server exited with {process.returncode}\n{log}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise ServerDidNotStart(f"server at {base_url} not up after {timeout:g} s")


@contextmanager
def vigie_serve(
    database_url: str,
    log_path: Path,
    workers: int = 1,
    timeout: float = 30,
    settings: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """``vigie serve --workers N`` on a free port of 127.0.0.1, as deployed; yields its address and stops
    it, workers included, on the way out whatever happens. It runs in the log's folder with only
    ``DATABASE_URL`` and the given ``settings`` (``VIGIE_*`` variables) set: no ``.env`` or ``VIGIE_*``
    setting of the caller's shell changes what it does."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_") and k != "DATABASE_URL"}
    env |= {**(settings or {}), "DATABASE_URL": database_url}
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (this interpreter running vigie, no shell)
            vigie_command("serve", "--workers", str(workers), "--port", str(port)),
            cwd=log_path.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers go with it
        )
    try:
        wait_until_up(base_url, process, timeout=timeout, log_path=log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
