"""The app under a real uvicorn, in a thread of the test process: real sockets and real concurrency, with
the test's own settings, engine and log capture (``backend.server_process`` runs ``vigie serve`` as a
separate process instead)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

from backend.server_process import free_port


@contextmanager
def served_in_thread(app: FastAPI, **config: Any) -> Iterator[str]:
    """Yields the server's base URL; ``config`` goes to ``uvicorn.Config`` (log level and the like)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
