"""Talks to the server: enrolment, then push the outbox and pull changes (protocol in docs/sync.md).

Plain httpx and the local store, no Kivy: the app runs ``sync`` on a background thread and reports
back to the UI with ``Clock.schedule_once``. Any failure leaves the outbox as it was, so the next
attempt resends the same mutations and the server's exactly-once rule does the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from mobile.store import Store
from shared.messages import message
from shared.schema import CODES_CHECKED
from shared.sync import (
    MAX_BATCH,
    MAX_PUSH_BYTES,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    EnrolRequest,
    EnrolResponse,
    Mutation,
    PullResponse,
    PushRequest,
    PushResponse,
)

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# Renumbering after ``mutation_id_reused`` happens once for a tablet whose counter went back; a server
# that kept refusing would otherwise make a loop of it.
MAX_RENUMBERING = 3
Progress = Callable[[int, int], None]


class SyncError(Exception):
    """A sync that did not complete; ``message`` is in French for the observer."""

    def __init__(self, code: str, message: str, retryable: bool):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True)
class SyncReport:
    pushed: int
    rejected: int
    pulled: int
    pending: int


class SyncClient:
    def __init__(
        self,
        store: Store,
        client: httpx.Client | None = None,
        batch_size: int = MAX_BATCH,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.store = store
        self._client = client
        self.batch_size = min(batch_size, MAX_BATCH)
        self.clock = clock  # the tablet's clock, sent as ``device_time`` (tests set it wrong on purpose)

    def _http(self) -> httpx.Client:
        if self._client is None:
            server = self.store.get_meta("server_url")
            if not server:
                raise SyncError(
                    "not_enrolled", "Tablette non enrôlée : saisissez l'adresse du serveur et le code.", False
                )
            self._client = httpx.Client(base_url=server, timeout=TIMEOUT)
        return self._client

    def _headers(self) -> dict[str, str]:
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        token = self.store.get_meta("device_token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            headers = {**self._headers(), **kwargs.pop("headers", {})}
            response = self._http().request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise SyncError("network", message("network"), True) from exc
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def enrol(self, server_url: str, code: str, label: str = "") -> EnrolResponse:
        # The observer may correct the address after a failed try: always talk to the one given now.
        if self._client is None or str(self._client.base_url).rstrip("/") != server_url.rstrip("/"):
            self._client = httpx.Client(base_url=server_url, timeout=TIMEOUT)
        request = EnrolRequest(code=code, installation_id=self.store.installation_id, label=label)
        response = self._send("POST", "/api/v1/devices/enrol", json=request.model_dump(mode="json"))
        enrolled = EnrolResponse.model_validate(response.json())
        self.store.set_meta(
            server_url=server_url,
            device_token=enrolled.device_token,
            device_id=str(enrolled.device_id),
            observer_id=str(enrolled.observer_id),
            observer_name=enrolled.observer_name,
            structure_id=str(enrolled.structure_id),
        )
        return enrolled

    def push(self, progress: Progress | None = None) -> tuple[int, int]:
        """Send the outbox oldest first, batch after batch. Returns (settled, rejected).

        ``progress(sent, total)`` is called after each batch (on this thread), so a large backlog shows
        how far it got; ``total`` counts what was pending when the push began.
        """
        settled = rejected = renumbered = 0
        total = self.store.pending_count()
        while True:
            body = self._next_batch()
            if body is None:
                return settled, rejected
            sent = self._send(
                "POST", "/api/v1/sync/push", content=body, headers={"Content-Type": "application/json"}
            )
            response = PushResponse.model_validate(sent.json())
            self._note_clock(response)
            reused = [r for r in response.results if r.code == "mutation_id_reused"]
            if reused and renumbered < MAX_RENUMBERING:
                # Our counter is behind what the server has seen (data restored from an older copy):
                # send those records again under fresh ids rather than leave them refused.
                renumbered += 1
                self.store.renumber([r.mutation_id for r in reused], above=response.last_mutation_id)
                results = [r for r in response.results if r.code != "mutation_id_reused"]
            else:
                results = response.results
            self.store.apply_results(results)
            retry_later = [r for r in results if r.retryable]
            settled += len(results) - len(retry_later)
            rejected += sum(1 for r in results if r.status == "rejected" and not r.retryable)
            if progress is not None:
                progress(min(settled, total), total)
            if len(retry_later) == len(response.results):
                return settled, rejected  # nothing moved: try again at the next sync

    def _next_batch(self) -> bytes | None:
        """The next push body: up to ``batch_size`` pending entries, fewer if they weigh more than the
        server's limit in bytes (500 long notes of emoji would); None when nothing is pending."""
        count = self.batch_size
        while True:
            entries = self.store.pending(count)
            if not entries:
                return None
            request = PushRequest(
                device_time=self.clock(),
                mutations=[
                    Mutation(mutation_id=e.mutation_id, entity=e.entity, data=e.data) for e in entries
                ],
            )
            body = request.model_dump_json().encode()
            if len(body) <= MAX_PUSH_BYTES or len(entries) == 1:
                return body
            count = max(1, len(entries) // 2)

    def _note_clock(self, response: PushResponse) -> None:
        """Keep what the server measured of our clock, for the home screen's warning."""
        warning = response.clock_warning
        self.store.set_meta(clock_offset_seconds="" if warning is None else str(warning.offset_seconds))

    def pull(self) -> int:
        received = 0
        while True:
            params = {"cursor": self.store.cursor, "limit": 500}
            if (grid_version := self.store.newest_grid_number()) is not None:
                params["grid_version"] = grid_version  # the grid comes only when a newer one is published
            response = self._send("GET", "/api/v1/sync/pull", params=params)
            # Records come back as the server checked them, against grid versions this tablet may lack.
            page = PullResponse.model_validate(response.json(), context=CODES_CHECKED)
            self.store.apply_pull(page)
            received += len(page.visits) + len(page.observations) + len(page.units) + len(page.structures)
            if not page.has_more:
                return received

    def sync(self, progress: Progress | None = None) -> SyncReport:
        pushed, rejected = self.push(progress)
        pulled = self.pull()
        self.store.set_meta(last_sync_at=datetime.now(UTC).isoformat())  # shown to the observer
        return SyncReport(pushed=pushed, rejected=rejected, pulled=pulled, pending=self.store.pending_count())


def _error_from(response: httpx.Response) -> SyncError:
    try:
        body = response.json()
        code, message = str(body["code"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        code, message = (
            "server_error",
            f"Erreur du serveur ({response.status_code}) : nouvel essai plus tard.",
        )
    # Server trouble and overload are worth retrying; a refused token or an outdated app are not.
    retryable = response.status_code >= 500 or response.status_code in (408, 429)
    return SyncError(code, message, retryable)
