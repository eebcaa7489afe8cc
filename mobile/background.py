"""Runs slow work (network, big queries) off the UI thread and hands the outcome back to it.

The outcome always comes back through ``Clock.schedule_once``, so callbacks run on the UI thread
and may touch widgets; every failure comes back too, or a screen would wait forever.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from kivy.clock import Clock  # type: ignore[import-untyped]

T = TypeVar("T")


def run_in_background(
    work: Callable[[], T],
    on_success: Callable[[T], None],
    on_failure: Callable[[Exception], None],
    name: str,
) -> threading.Thread:
    def target() -> None:
        try:
            result = work()
        except Exception as error:
            Clock.schedule_once(partial(_deliver, on_failure, error), 0)
        else:
            Clock.schedule_once(partial(_deliver, on_success, result), 0)

    # A daemon thread: closing the app must not wait for a server that does not answer.
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def _deliver(callback: Callable[[Any], None], value: object, _dt: float) -> None:
    callback(value)
