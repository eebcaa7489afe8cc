"""Running ``vigie serve`` as a child process and waiting until it answers.

Used by the benchmark and the tests that need a real server process, as deployed.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
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
