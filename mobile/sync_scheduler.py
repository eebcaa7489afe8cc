"""When the tablet syncs: on a timer, soon after something is recorded, on demand, and again and again
(with growing delays) while the network is away, so the backlog leaves as soon as it comes back.

The sync itself (``SyncClient.sync``) runs on a background thread; its progress and outcome come back to
the UI thread through ``Clock.schedule_once`` and land in Kivy properties the screens bind to.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock  # type: ignore[import-untyped]
from kivy.event import EventDispatcher  # type: ignore[import-untyped]
from kivy.logger import Logger  # type: ignore[import-untyped]
from kivy.properties import BooleanProperty, NumericProperty, StringProperty  # type: ignore[import-untyped]

from mobile.background import run_in_background
from mobile.i18n import error_text, tr
from mobile.store import Store
from mobile.sync_client import SyncClient, SyncError, SyncReport

SOON_SECONDS = 5.0  # after a tap: long enough to gather a burst of taps into one push
RETRY_DELAYS = (5.0, 15.0, 30.0, 60.0)


class SyncScheduler(EventDispatcher):  # type: ignore[misc]
    running = BooleanProperty(False)
    pending = NumericProperty(0)
    rejected = NumericProperty(0)
    sent = NumericProperty(0)  # progress of the push under way: sent out of total
    total = NumericProperty(0)
    last_success = StringProperty("")  # ISO time of the last complete sync, "" if never
    error = StringProperty("")  # why the last attempt failed, in the observer's language
    completed = NumericProperty(0)  # bumped after each successful sync: lists refresh on it

    def __init__(self, store: Store, client: SyncClient, interval: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.client = client
        self.interval = interval
        self._again = False
        self._failures = 0
        self._retry: Any = None
        self._soon: Any = None
        self._periodic: Any = None
        self.last_success = store.get_meta("last_sync_at", "") or ""

    def start(self) -> None:
        """Sync now and then every ``interval`` seconds, as long as the app runs."""
        self.refresh_counts()
        if self._periodic is None:
            self._periodic = Clock.schedule_interval(lambda _dt: self.request(), self.interval)
        self.request()

    def stop(self) -> None:
        for event in (self._periodic, self._retry, self._soon):
            if event is not None:
                event.cancel()
        self._periodic = self._retry = self._soon = None

    def refresh_counts(self) -> None:
        """Cheap counts (indexed), called after each change the observer makes."""
        self.pending = self.store.pending_count()
        self.rejected = len(self.store.rejected())

    def soon(self) -> None:
        """Something was recorded: count it now, send it shortly (one push for a burst of taps)."""
        self.refresh_counts()
        if self._soon is None and self._periodic is not None:
            self._soon = Clock.schedule_once(self._soon_due, SOON_SECONDS)

    def _soon_due(self, _dt: float) -> None:
        self._soon = None
        self.request()

    def request(self) -> None:
        """Sync now; if a sync is already under way, once more right after it (it may miss new changes)."""
        if self.store.get_meta("device_token") is None:
            return
        if self.running:
            self._again = True
            return
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        self.running = True
        self.sent, self.total = 0, self.store.pending_count()
        run_in_background(
            lambda: self.client.sync(progress=self._progress_from_thread),
            self._succeeded,
            self._failed,
            name="sync",
        )

    def _progress_from_thread(self, sent: int, total: int) -> None:
        Clock.schedule_once(lambda _dt: self._show_progress(sent, total), 0)

    def _show_progress(self, sent: int, total: int) -> None:
        self.sent, self.total = sent, total

    def _succeeded(self, _report: SyncReport) -> None:
        self.running = False
        self._failures = 0
        self.error = ""
        self.last_success = self.store.get_meta("last_sync_at", "") or ""
        self.refresh_counts()
        self.completed += 1
        self._after_attempt()

    def _failed(self, error: Exception) -> None:
        self.running = False
        if isinstance(error, SyncError):
            self.error = error_text(error.code, error.message)
            retry = error.retryable
        else:
            Logger.exception("Sync: unexpected failure", exc_info=error)
            self.error = tr("error.unexpected", detail=type(error).__name__)
            retry = True
        self.refresh_counts()
        if retry and not self._again:
            # The network may come back any moment: try again soon, then less and less often.
            delay = min(RETRY_DELAYS[min(self._failures, len(RETRY_DELAYS) - 1)], self.interval)
            self._failures += 1
            self._retry = Clock.schedule_once(lambda _dt: self.request(), delay)
        self._after_attempt()

    def _after_attempt(self) -> None:
        if self._again:
            self._again = False
            self.request()
