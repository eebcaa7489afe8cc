"""The capture screen: one large colour-coded button per category; a tap logs an observation now.

The tap handler writes one small SQLite transaction and updates the screen from memory: no network,
no query over the visit. Timed categories run as timers (tap to start, tap again to stop; several
categories may run at once). The last items logged are listed with "Compléter" and "Annuler".
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kivy.clock import Clock  # type: ignore[import-untyped]
from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.lang import Builder  # type: ignore[import-untyped]
from kivy.logger import Logger  # type: ignore[import-untyped]
from kivy.properties import (  # type: ignore[import-untyped]
    BooleanProperty,
    ColorProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior  # type: ignore[import-untyped]
from kivy.uix.label import Label  # type: ignore[import-untyped]
from kivy.uix.screenmanager import Screen  # type: ignore[import-untyped]

from mobile import formatting, theme
from mobile.capture import log_observation, running_timers, stop_timer, undo
from mobile.i18n import current_language, tr
from mobile.screens import running_app
from mobile.store import Review
from shared.schema import Observation, Visit
from shared.taxonomy import Category

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

RECENT_ROWS = 4
TICK_SECONDS = 0.5


class CategoryButton(ButtonBehavior, Label):  # type: ignore[misc]
    fill = ColorProperty((0, 0, 0, 1))
    running = BooleanProperty(False)

    def __init__(self, category: Category, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.category = category
        self.fill = theme.hex_colour(category.colour)


class CaptureScreen(Screen):  # type: ignore[misc]
    clock_text = StringProperty("")
    counter_text = StringProperty("")
    last_action = StringProperty("")
    last_action_failed = BooleanProperty(False)
    empty = BooleanProperty(True)

    def on_kv_post(self, base_widget: Any) -> None:
        self.visit: Visit | None = None
        self.count = 0
        self.timers: dict[str, Observation] = {}  # category code -> its running timer
        self.recent: list[Observation] = []
        self.reviews: dict[uuid.UUID, Review] = {}
        self._tick_event: Any = None
        self.buttons: dict[str, CategoryButton] = {}
        language = current_language()
        for category in running_app().taxonomy.active_categories:
            button = CategoryButton(category)
            button.bind(on_release=lambda b: self.tap(b.category.code))
            self.buttons[category.code] = button
            self.ids.categories.add_widget(button)
            self.ids[f"category_{category.code}"] = button
            button.text = self._button_text(category, None, language)
        self.rows = []
        for index in range(RECENT_ROWS):
            row = Factory.RecentRow()
            row.ids.edit.bind(on_release=lambda _b, i=index: self.edit(i))
            row.ids.undo.bind(on_release=lambda _b, i=index: self.undo(i))
            self.ids.recent.add_widget(row)
            self.ids[f"recent_{index}"] = row
            self.ids[f"recent_{index}_edit"] = row.ids.edit
            self.ids[f"recent_{index}_undo"] = row.ids.undo
            self.rows.append(row)
        running_app().sync.bind(completed=lambda *_args: self._reload_reviews())

    # --- entering and leaving -----------------------------------------------------------------

    def on_pre_enter(self, *_args: Any) -> None:
        app = running_app()
        store = app.store
        self.visit = store.current_visit()
        if self.visit is None:
            Clock.schedule_once(lambda _dt: app.show("home"), 0)
            return
        # The only reads of the visit: once when the screen opens (after a restart too).
        self.count = store.count_observations(self.visit.id)
        self.timers = {o.category: o for o in running_timers(store, self.visit.id, app.taxonomy)}
        self.recent = store.recent_observations(self.visit.id, RECENT_ROWS)
        self.last_action, self.last_action_failed = "", False
        self._reload_reviews()
        self._show()
        self._tick_event = Clock.schedule_interval(lambda _dt: self._tick(), TICK_SECONDS)

    def on_leave(self, *_args: Any) -> None:
        if self._tick_event is not None:
            self._tick_event.cancel()
            self._tick_event = None

    # --- what a tap does ----------------------------------------------------------------------

    def tap(self, code: str) -> None:
        if self.visit is None:
            return
        app = running_app()
        category = app.taxonomy.category(code)
        language = current_language()
        try:
            if category.timed and code in self.timers:
                stopped = stop_timer(app.store, self.timers.pop(code).id)
                self.recent = [stopped if o.id == stopped.id else o for o in self.recent]
                what = stopped
            else:
                what = log_observation(app.store, self.visit.id, code)
                if category.timed:
                    self.timers[code] = what
                self.count += 1
                self.recent = [what, *self.recent][:RECENT_ROWS]
        except (sqlite3.Error, OSError, ValueError) as error:
            # Never show as saved what is not on disk.
            Logger.exception("Capture: not saved", exc_info=error)
            self._tell(tr("capture.not_saved", detail=type(error).__name__), failed=True)
            return
        self._tell(tr("capture.logged", what=self._describe(what, language)), failed=False)
        self._show()
        app.recorded()

    def undo(self, index: int) -> None:
        if index >= len(self.recent) or self.visit is None:
            return
        app = running_app()
        observation = self.recent[index]
        try:
            undo(app.store, observation.id)
        except (sqlite3.Error, OSError, ValueError, KeyError) as error:
            Logger.exception("Capture: undo not saved", exc_info=error)
            self._tell(tr("capture.not_saved", detail=type(error).__name__), failed=True)
            return
        self.timers = {code: o for code, o in self.timers.items() if o.id != observation.id}
        self.count -= 1
        self.recent = app.store.recent_observations(self.visit.id, RECENT_ROWS)  # an indexed LIMIT 4
        self._tell(tr("capture.undone", what=self._describe(observation, current_language())), failed=False)
        self._show()
        app.recorded()

    def edit(self, index: int) -> None:
        if index < len(self.recent):
            running_app().open_observation(self.recent[index].id, "capture")

    # --- what the screen shows ----------------------------------------------------------------

    def _tell(self, text: str, failed: bool) -> None:
        self.last_action, self.last_action_failed = text, failed

    def _reload_reviews(self) -> None:
        self.reviews = running_app().store.reviews([o.id for o in self.recent])
        if self.visit is not None:
            self._show_rows(datetime.now(UTC), current_language())

    def _show(self) -> None:
        now = datetime.now(UTC)
        language = current_language()
        self.counter_text = tr("capture.counter", count=self.count)
        self.empty = self.count == 0
        self._tick(now)
        self._show_rows(now, language)

    def _tick(self, now: datetime | None = None) -> None:
        if self.visit is None:
            return
        now = now or datetime.now(UTC)
        language = current_language()
        self.clock_text = tr(
            "capture.clock", elapsed=formatting.clock((now - self.visit.started_at).total_seconds())
        )
        for code, button in self.buttons.items():
            timer = self.timers.get(code)
            button.running = timer is not None
            button.text = self._button_text(button.category, timer, language, now)
        if self.timers:
            self._show_rows(now, language)

    def _button_text(
        self, category: Category, timer: Observation | None, language: Any, now: datetime | None = None
    ) -> str:
        label = category.label(language)
        if not category.timed:
            return label
        if timer is None:
            return f"{label}\n[{tr('capture.timer_idle')}]"
        elapsed = formatting.clock(((now or datetime.now(UTC)) - timer.occurred_at).total_seconds())
        return f"{label}\n{tr('capture.timer_running', elapsed=elapsed)}"

    def _show_rows(self, now: datetime, language: Any) -> None:
        if not self.reviews.keys() >= {o.id for o in self.recent}:
            self.reviews = running_app().store.reviews([o.id for o in self.recent])
        for index, row in enumerate(self.rows):
            if index < len(self.recent):
                observation = self.recent[index]
                row.text = self._row_text(observation, now, language)
                row.fill = theme.hex_colour(running_app().taxonomy.category(observation.category).colour)
                row.opacity, row.disabled = 1, False
            else:
                row.text, row.opacity, row.disabled = "", 0, True

    def _row_text(self, observation: Observation, now: datetime, language: Any) -> str:
        parts = [self._describe(observation, language)]
        if observation.category in self.timers and self.timers[observation.category].id == observation.id:
            parts.append(
                tr(
                    "capture.running_for",
                    elapsed=formatting.clock((now - observation.occurred_at).total_seconds()),
                )
            )
        elif observation.duration_seconds is not None:
            parts.append(tr("common.lasted", elapsed=formatting.duration(observation.duration_seconds)))
        review = self.reviews.get(observation.id)
        if review is not None and review.status:
            parts.append(tr("review.status", status=formatting.review_status(review.status, language)))
        if review is not None and review.comment_count:
            parts.append(tr("review.comments", count=review.comment_count))
        return " · ".join(parts)

    @staticmethod
    def _describe(observation: Observation, language: Any) -> str:
        category = running_app().taxonomy.category(observation.category)
        return f"{formatting.local_time(observation.occurred_at)} {category.label(language)}"
