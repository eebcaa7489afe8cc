"""Talks to the server: enrolment, then push the outbox and pull changes (protocol in docs/sync.md).

Plain httpx and the local store, no Kivy: the app runs ``sync`` on a background thread and reports
back to the UI with ``Clock.schedule_once``. Any failure leaves the outbox as it was, so the next
attempt resends the same mutations and the server's exactly-once rule does the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from mobile.store import Store
from shared.messages import message
from shared.schema import CODES_CHECKED
from shared.sync import (
    CAPTURES,
    MAX_BATCH,
    MAX_PULL_PAGE,
    MAX_PUSH_BYTES,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    EnrolRequest,
    EnrolResponse,
    PullResponse,
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
class PushBatch:
    body: bytes  # the request, ready to send
    last_mutation_id: int  # where the next page starts


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
        self._last_response: PushResponse | None = None

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
        """Send the outbox oldest first, page after page. Returns (settled, rejected).

        Pipelined: the next page is read and serialised while the server answers the previous one, and
        sent as soon as that answer is in, before its results are written here; a page is sent only once
        the server committed the one before (so a visit always lands before its observations). Pages
        carry the records' JSON as saved at the tap: nothing is parsed or serialised again.
        ``progress(sent, total)`` is called after each page (on this thread); ``total`` counts what was
        pending when the push began. Passes go on while they settle something (an observation whose
        visit was not there yet is sent again in the next pass).
        """
        settled = rejected = renumbered = 0
        total = self.store.pending_count()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigie-push") as sender:
            while True:
                moved_before, renumbered_before = settled, renumbered
                batch = self._next_batch(after=0)
                in_flight = None if batch is None else sender.submit(self._post_push, batch.body)
                while batch is not None and in_flight is not None:
                    response = in_flight.result()
                    reused = [r for r in response.results if r.code == "mutation_id_reused"]
                    following = None if reused else self._next_batch(after=batch.last_mutation_id)
                    in_flight = None if following is None else sender.submit(self._post_push, following.body)
                    if reused and renumbered < MAX_RENUMBERING:
                        # Our counter is behind what the server has seen (data restored from an older copy):
                        # send those records again under fresh ids rather than leave them refused.
                        renumbered += 1
                        self.store.renumber([r.mutation_id for r in reused], above=response.last_mutation_id)
                        # This data is an older copy: what this tablet pushed since then is missing here.
                        self.store.set_meta(cursor="0", own_pushes_missing="1")
                        results = [r for r in response.results if r.code != "mutation_id_reused"]
                    else:
                        results = response.results
                    self.store.apply_results(results)
                    retry_later = sum(1 for r in results if r.retryable)
                    settled += len(results) - retry_later
                    rejected += sum(1 for r in results if r.status == "rejected" and not r.retryable)
                    if progress is not None:
                        progress(min(settled, total), total)
                    batch = following
                    self._last_response = response
                if self._last_response is not None:
                    self._note_clock(self._last_response)
                nothing_moved = settled == moved_before and renumbered == renumbered_before
                if nothing_moved or not self.store.pending_count():
                    return settled, rejected  # done, or nothing moved: try again at the next sync

    def _post_push(self, body: bytes) -> PushResponse:
        sent = self._send(
            "POST", "/api/v1/sync/push", content=body, headers={"Content-Type": "application/json"}
        )
        return PushResponse.model_validate_json(sent.content)

    def _next_batch(self, after: int) -> PushBatch | None:
        """The next push body after mutation ``after``: up to ``batch_size`` pending entries, fewer if they
        weigh more than the server's limit in bytes (500 long notes of emoji would); None when none is left.
        The body is assembled from the JSON saved with each entry: the same bytes ``PushRequest`` would
        give, without building and serialising every record again."""
        rows = self.store.pending_page(after, self.batch_size)
        if not rows:
            return None
        head = (
            f'{{"device_time":{json.dumps(self.clock().isoformat())},'
            f'"pulled_through":{self.store.cursor},"captures":{json.dumps(list(CAPTURES))},"mutations":['
        ).encode()
        size = len(head) + 2
        items: list[bytes] = []
        for mutation_id, entity, data in rows:
            item = f'{{"mutation_id":{mutation_id},"entity":{json.dumps(entity)},"data":{data}}}'.encode()
            if items and size + len(item) + 1 > MAX_PUSH_BYTES:
                break
            items.append(item)
            size += len(item) + 1
        last = rows[len(items) - 1][0]
        return PushBatch(body=head + b",".join(items) + b"]}", last_mutation_id=last)

    def _note_clock(self, response: PushResponse) -> None:
        """Keep what the server measured of our clock, for the home screen's warning."""
        warning = response.clock_warning
        self.store.set_meta(clock_offset_seconds="" if warning is None else str(warning.offset_seconds))

    def pull(self) -> int:
        """Pull pages from the stored cursor; the next page is asked for while this one is written.

        The server is asked not to send back what this tablet pushed itself (``skip_own``), unless its
        data was restored from an older copy: then everything comes once, from the start."""
        received = 0
        skip_own = not self.store.get_meta("own_pushes_missing")
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigie-pull") as fetcher:
            page = self._pull_page(self.store.cursor, skip_own)
            while True:
                following = fetcher.submit(self._pull_page, page.cursor, skip_own) if page.has_more else None
                self.store.apply_pull(page)
                received += len(page.visits) + len(page.observations) + len(page.units) + len(page.structures)
                if following is None:
                    if not skip_own:
                        self.store.set_meta(own_pushes_missing="")
                    return received
                page = following.result()

    def _pull_page(self, cursor: int, skip_own: bool) -> PullResponse:
        params: dict[str, int | str] = {"cursor": cursor, "limit": MAX_PULL_PAGE, "added_attributes": "true"}
        if skip_own:
            params["skip_own"] = "true"
        if (grid_version := self.store.newest_full_grid_number()) is not None:
            params["grid_version"] = grid_version  # the grid comes only when a newer one is published
        response = self._send("GET", "/api/v1/sync/pull", params=params)
        # Records come back as the server checked them, against grid versions this tablet may lack.
        return PullResponse.model_validate_json(response.content, context=CODES_CHECKED)

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
