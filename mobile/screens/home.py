"""What an enrolled tablet opens on: whose tablet it is, the visit to start or resume, and the sync:
what waits to be sent, when it last worked, what the server refused and what facilitators said."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.lang import Builder  # type: ignore[import-untyped]
from kivy.properties import BooleanProperty, StringProperty  # type: ignore[import-untyped]
from kivy.uix.screenmanager import Screen  # type: ignore[import-untyped]

from mobile import formatting
from mobile.capture import can_reopen, reopen_visit
from mobile.i18n import current_language, error_text, tr
from mobile.screens import forget_ids, running_app
from mobile.store import RejectedEntry, VisitLine
from shared.schema import Observation
from shared.sync import clock_warning_text

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

LISTED = 5  # rejected items and commented observations shown; the rest wait their turn
VISITS_LISTED = 4


class HomeScreen(Screen):  # type: ignore[misc]
    enrolled_for = StringProperty("")
    pending = StringProperty("")
    server = StringProperty("")
    last_sync = StringProperty("")
    sync_state = StringProperty("")
    sync_failed = BooleanProperty(False)
    clock_warning = StringProperty("")  # the server found the tablet's clock far off: ask to set it
    visit_under_way = BooleanProperty(False)
    rejected_title = StringProperty("")
    comments_title = StringProperty("")
    visits_title = StringProperty("")
    notice = StringProperty("")  # set by the app: what just happened (a visit ended)

    def on_kv_post(self, base_widget: Any) -> None:
        sync = running_app().sync
        sync.bind(
            pending=self._sync_changed,
            running=self._sync_changed,
            sent=self._sync_changed,
            error=self._sync_changed,
            last_success=self._sync_changed,
            completed=lambda *_args: self.refresh(),
        )

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()
        self.ids.scroll.scroll_y = 1  # the page from its top, wherever it was left

    def refresh(self) -> None:
        app = running_app()
        store = app.store
        self.enrolled_for = tr("home.enrolled_for", observer=store.get_meta("observer_name", "") or "")
        self.server = tr("home.server", url=store.get_meta("server_url", "") or "")
        self.visit_under_way = store.current_visit() is not None
        app.sync.refresh_counts()
        self._sync_changed()
        self._list_visits(store.recent_visits(VISITS_LISTED))
        self._list_rejected(store.rejected())
        self._list_commented(store.commented_observations(LISTED))

    def _sync_changed(self, *_args: Any) -> None:
        sync = running_app().sync
        self.pending = tr("home.pending", count=sync.pending)
        self.last_sync = (
            tr(
                "home.last_sync",
                when=formatting.local_day_and_time(
                    datetime.fromisoformat(sync.last_success), current_language()
                ),
            )
            if sync.last_success
            else tr("home.never_synced")
        )
        self.sync_failed = bool(sync.error) and not sync.running
        self.clock_warning = _clock_warning(running_app().store.get_meta("clock_offset_seconds"))
        if sync.running:
            self.sync_state = (
                tr("home.sync_progress", sent=sync.sent, total=sync.total)
                if sync.total
                else tr("home.sync_running")
            )
        else:
            self.sync_state = tr("home.sync_error", reason=sync.error) if sync.error else ""

    def _list_rejected(self, rejected: list[RejectedEntry]) -> None:
        self.rejected_title = tr("home.rejected_title", count=len(rejected)) if rejected else ""
        box = self.ids.rejected_list
        box.clear_widgets()
        forget_ids(self, "rejected_open_", "rejected_row_")
        store = running_app().store
        for index, entry in enumerate(rejected[:LISTED]):
            reason = error_text(entry.code, entry.message)
            details = "; ".join(d.get("message", "") for d in entry.details if d.get("message"))
            row = _list_row(
                tr("home.rejected_item", what=self._describe(entry, store), reason=reason)
                + (f" ({details})" if details else "")
            )
            if entry.entity == "observation":
                self._add_open_button(row, f"rejected_open_{index}", uuid.UUID(entry.record_id))
            box.add_widget(row)
            self.ids[f"rejected_row_{index}"] = row

    def _list_visits(self, lines: list[VisitLine]) -> None:
        """Today's and recent visits with their counts and sync state; an ended one reopens within a day."""
        self.visits_title = tr("home.visits_title") if lines else ""
        box = self.ids.visits_list
        box.clear_widgets()
        forget_ids(self, "visit_row_", "visit_reopen_")
        store = running_app().store
        units = {unit_id: name for unit_id, _structure, name in store.units()}
        under_way = store.current_visit()
        language = current_language()
        for index, line in enumerate(lines):
            visit = line.visit
            state = (
                tr("home.visit_under_way")
                if visit.ended_at is None
                else tr("home.visit_unsent", count=line.unsent)
                if line.unsent
                else tr("home.visit_sent")
            )
            row = _list_row(
                tr(
                    "home.visit_line",
                    when=formatting.local_day_and_time(visit.started_at, language),
                    unit=units.get(visit.unit_id, "?"),
                    count=line.observations,
                    state=state,
                )
            )
            if under_way is None and can_reopen(visit):
                button = Factory.SmallButton(text=tr("home.reopen"))
                button.bind(on_release=lambda *_args, visit_id=visit.id: self.reopen(visit_id))
                row.add_widget(button)
                self.ids[f"visit_reopen_{index}"] = button
            box.add_widget(row)
            self.ids[f"visit_row_{index}"] = row

    def reopen(self, visit_id: uuid.UUID) -> None:
        app = running_app()
        reopen_visit(app.store, visit_id)
        app.recorded()
        app.show("capture")

    def _list_commented(self, observations: list[Observation]) -> None:
        self.comments_title = tr("home.comments_title") if observations else ""
        box = self.ids.comments_list
        box.clear_widgets()
        forget_ids(self, "commented_open_", "commented_row_")
        store = running_app().store
        for index, observation in enumerate(observations):
            comments = store.review_comments(observation.id)
            latest = comments[-1]
            row = _list_row(
                f"{self._observation_title(observation)} — "
                + tr(
                    "observation.comment",
                    author=latest.author_name,
                    when=formatting.local_day_and_time(latest.created_at, current_language()),
                    body=latest.body,
                )
            )
            self._add_open_button(row, f"commented_open_{index}", observation.id)
            box.add_widget(row)
            self.ids[f"commented_row_{index}"] = row

    def _add_open_button(self, row: Any, widget_id: str, observation_id: uuid.UUID) -> None:
        button = Factory.SmallButton(text=tr("home.open"))
        button.bind(on_release=lambda *_args: running_app().open_observation(observation_id, "home"))
        row.add_widget(button)
        self.ids[widget_id] = button

    def _describe(self, entry: RejectedEntry, store: Any) -> str:
        if entry.entity == "observation":
            observation = store.observation(uuid.UUID(entry.record_id))
            if observation is not None:
                return self._observation_title(observation)
        visit = store.visit(uuid.UUID(entry.record_id))
        when = visit.started_at if visit is not None else None
        return tr(
            "home.visit_item", when=formatting.local_day_and_time(when, current_language()) if when else "?"
        )

    @staticmethod
    def _observation_title(observation: Observation) -> str:
        category = running_app().taxonomy.category(observation.category).label(current_language())
        return f"{category} {formatting.local_day_and_time(observation.occurred_at, current_language())}"

    def on_leave(self, *_args: Any) -> None:
        self.notice = ""  # said once

    def open_visit(self) -> None:
        running_app().show("capture" if running_app().store.current_visit() is not None else "visit_start")

    def switch_language(self) -> None:
        running_app().switch_language("en" if current_language() == "fr" else "fr")


def _list_row(text: str) -> Any:
    # Properties a KV rule declares exist only once the rule is applied: set them after construction.
    row = Factory.ListRow()
    row.text = text
    return row


def _clock_warning(offset_seconds: str | None) -> str:
    """The warning for a tablet clock the server measured far off at the last push; "" if none."""
    if not offset_seconds:
        return ""
    return clock_warning_text(float(offset_seconds), current_language())
