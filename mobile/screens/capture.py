"""The capture screen: one large colour-coded button per category; a tap logs an observation now.

The tap handler writes one small SQLite transaction and updates the screen from memory: no network,
no query over the visit. Timed categories run as timers (tap to start, tap again to stop; several
categories may run at once). The last items logged are listed with « Compléter » and « Supprimer »; a
deletion waits under an undo bar for a few seconds and is written only once the bar is gone (or the
observer leaves the screen), so a slip of the finger, or a crash meanwhile, loses nothing.
"""

from __future__ import annotations

import sqlite3
import textwrap
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
from mobile.capture import is_enriched, log_observation, running_timers, stop_timer, undo
from mobile.capture_context import CaptureContext, followed_roles, load_context, save_context, tools_offered
from mobile.i18n import current_language, tr
from mobile.interruptions import answer_resumption, interrupted_timer, interrupts, paused_timers
from mobile.screens import forget_ids, running_app
from mobile.screens.quick_strip import QuickStrip  # noqa: F401 (registers the widget capture.kv uses)
from mobile.store import Review
from shared.schema import Observation, Visit
from shared.taxonomy import Category, Taxonomy

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

RECENT_ROWS = 4
TICK_SECONDS = 0.5
UNDO_SECONDS = 8
QUICK_SECONDS = 6
FOLLOWED_GROUP = "capture-followed"
TOOL_GROUP = "capture-tool"
HELP_CHARS = 60  # two small lines under a category's name; the enrichment screen shows the whole help
NO_TOOL = "none"  # the « aucun » toggle's id suffix: no tool in hand


class CategoryButton(ButtonBehavior, Label):  # type: ignore[misc]
    fill = ColorProperty((0, 0, 0, 1))
    running = BooleanProperty(False)
    help_text = StringProperty("")  # the grid's help, shortened to two small lines under the name

    def __init__(self, category: Category, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.category = category
        self.fill = theme.hex_colour(category.colour)
        if category.help is not None:
            self.help_text = textwrap.shorten(category.help(current_language()), HELP_CHARS, placeholder=" …")


class CaptureScreen(Screen):  # type: ignore[misc]
    clock_text = StringProperty("")
    counter_text = StringProperty("")
    last_action = StringProperty("")
    last_action_failed = BooleanProperty(False)
    empty = BooleanProperty(True)
    undo_text = StringProperty("")
    quick_shown = BooleanProperty(False)

    def on_kv_post(self, base_widget: Any) -> None:
        self.visit: Visit | None = None
        self.context = CaptureContext()
        self.count = 0
        self.timers: dict[str, Observation] = {}  # category code -> its running timer
        self.recent: list[Observation] = []
        self.reviews: dict[uuid.UUID, Review] = {}
        self._tick_event: Any = None
        self.held: Observation | None = None  # deleted by the observer, under the undo bar, not yet written
        self._held_event: Any = None
        self.paused: dict[uuid.UUID, Observation] = {}  # timer id -> the interruption that paused it
        self.quick_for: Observation | None = None  # what the quick strip enriches
        self._quick_event: Any = None
        self.ids.quick.on_choice = self._quick_choice
        self.ids.quick.on_resumption = self._quick_resumption
        self.buttons: dict[str, CategoryButton] = {}
        self._buttons_for: Taxonomy | None = None
        self._build_categories(running_app().taxonomy)
        self.rows = []
        for index in range(RECENT_ROWS):
            row = Factory.RecentRow()
            row.ids.edit.bind(on_release=lambda _b, i=index: self.edit(i))
            row.ids.delete.bind(on_release=lambda _b, i=index: self.delete(i))
            self.ids.recent.add_widget(row)
            self.ids[f"recent_{index}"] = row
            self.ids[f"recent_{index}_edit"] = row.ids.edit
            self.ids[f"recent_{index}_delete"] = row.ids.delete
            self.rows.append(row)
        running_app().sync.bind(completed=lambda *_args: self._reload_reviews())

    def _build_categories(self, taxonomy: Taxonomy) -> None:
        """A button per category of the grid the visit records with (built again when a visit starts with
        another grid version: its categories, labels and help may differ)."""
        if taxonomy is self._buttons_for:
            return
        self._buttons_for = taxonomy
        self.ids.categories.clear_widgets()
        forget_ids(self, "category_", "help_")
        self.buttons = {}
        language = current_language()
        for category in taxonomy.active_categories:
            button = CategoryButton(category)
            button.bind(on_release=lambda b: self.tap(b.category.code))
            self.buttons[category.code] = button
            self.ids.categories.add_widget(button)
            self.ids[f"category_{category.code}"] = button
            self.ids[f"help_{category.code}"] = button.ids.help
            button.text = self._button_text(category, None, language)

    # --- entering and leaving -----------------------------------------------------------------

    def on_pre_enter(self, *_args: Any) -> None:
        app = running_app()
        store = app.store
        self.visit = store.current_visit()
        if self.visit is None:
            Clock.schedule_once(lambda _dt: app.show("home"), 0)
            return
        self._build_categories(app.taxonomy)
        # The only reads of the visit: once when the screen opens (after a restart too).
        self.count = store.count_observations(self.visit.id)
        self.timers = {o.category: o for o in running_timers(store, self.visit.id, app.taxonomy)}
        self.paused = paused_timers(store, self.visit.id)
        self.recent = self._recent_from_store()
        self.last_action, self.last_action_failed = "", False
        self.context = load_context(store, self.visit)
        self._build_context_bar()
        self._reload_reviews()
        self._show()
        self._tick_event = Clock.schedule_interval(lambda _dt: self._tick(), TICK_SECONDS)

    def on_leave(self, *_args: Any) -> None:
        self.commit_deletion()  # the bar goes with the screen: the deletion is written now
        self._hide_quick()
        if self._tick_event is not None:
            self._tick_event.cancel()
            self._tick_event = None

    # --- the context bar: who is followed, which tool is in hand --------------------------------

    def _build_context_bar(self) -> None:
        assert self.visit is not None
        app = running_app()
        language = current_language()
        forget_ids(self, "follow_", "tool_")
        roles = app.taxonomy.attribute("role")
        followed = self.ids.followed
        for toggle in [w for w in followed.children if hasattr(w, "code")]:
            followed.remove_widget(toggle)
        for code in followed_roles(self.visit, app.taxonomy):
            self._context_toggle(
                followed, f"follow_{code}", code, roles.label_of(code, language), FOLLOWED_GROUP
            )
        tools = self.ids.tools
        for toggle in [w for w in tools.children if hasattr(w, "code")]:
            tools.remove_widget(toggle)
        self._context_toggle(tools, f"tool_{NO_TOOL}", None, tr("capture.no_tool"), TOOL_GROUP)
        grid_tools = app.taxonomy.attribute("tool")
        for code in tools_offered(app.store, app.taxonomy, keep=self.context.tool):
            self._context_toggle(tools, f"tool_{code}", code, grid_tools.label_of(code, language), TOOL_GROUP)
        for box in (followed, tools):
            box.weight = len(box.children) - 0.5  # its label and its choices

    def _context_toggle(self, box: Any, widget_id: str, code: str | None, text: str, group: str) -> None:
        toggle = Factory.ContextToggle(text=text, group=group)
        toggle.code = code
        chosen = self.context.role if group == FOLLOWED_GROUP else self.context.tool
        toggle.state = "down" if code == chosen else "normal"
        if group == FOLLOWED_GROUP:
            toggle.allow_no_selection = True  # « not said » stays possible: tap the chosen one again
        toggle.bind(on_release=lambda t: self.choose(group, t.code if t.state == "down" else None))
        box.add_widget(toggle)
        self.ids[widget_id] = toggle

    def choose(self, group: str, code: str | None) -> None:
        """Switch who is followed or the tool in hand: what the next taps record."""
        if self.visit is None:
            return
        if group == FOLLOWED_GROUP:
            self.context = CaptureContext(role=code, tool=self.context.tool)
        else:
            self.context = CaptureContext(role=self.context.role, tool=code)
        try:
            save_context(running_app().store, self.visit.id, self.context)
        except (sqlite3.Error, OSError) as error:
            Logger.exception("Capture: context not saved", exc_info=error)
            self._tell(tr("capture.not_saved", detail=type(error).__name__), failed=True)

    # --- what a tap does ----------------------------------------------------------------------

    def tap(self, code: str) -> None:
        if self.visit is None:
            return
        app = running_app()
        category = app.taxonomy.category(code)
        language = current_language()
        self.commit_deletion()  # a new tap takes the undo bar's place
        try:
            if category.timed and code in self.timers and self.timers[code].id in self.paused:
                self._answer(
                    self.paused[self.timers[code].id], resumed=True
                )  # tapping a paused timer resumes it
                return
            if category.timed and code in self.timers:
                stopped = stop_timer(app.store, self.timers.pop(code).id)
                self._replace_recent(stopped)
                what = stopped
            else:
                interrupted = None
                if interrupts(app.taxonomy, code):
                    interrupted = interrupted_timer(
                        [t for t in self.timers.values() if t.id not in self.paused]
                    )
                what = log_observation(
                    app.store, self.visit.id, code, context=self.context, interrupted=interrupted
                )
                if interrupted is not None:
                    self.paused[interrupted.id] = what
                if category.timed:
                    self.timers[code] = what
                self.count += 1
                self.recent = [what, *self.recent][:RECENT_ROWS]
                self._show_quick(what)
        except (sqlite3.Error, OSError, ValueError, KeyError) as error:
            # Never show as saved what is not on disk.
            Logger.exception("Capture: not saved", exc_info=error)
            self._tell(tr("capture.not_saved", detail=type(error).__name__), failed=True)
            return
        self._tell(tr("capture.logged", what=self._describe(what, language)), failed=False)
        self._show()
        app.recorded()

    def delete(self, index: int) -> None:
        """Take the observation off the screen and hold its deletion under the undo bar."""
        if index >= len(self.recent) or self.visit is None:
            return
        self.commit_deletion()  # one bar at a time: the previous deletion is written first
        observation = self.recent[index]
        self.held = observation
        self._hide_quick()
        self.timers = {code: o for code, o in self.timers.items() if o.id != observation.id}
        self.paused = {
            timer_id: o for timer_id, o in self.paused.items() if observation.id not in (timer_id, o.id)
        }
        self.count -= 1
        self.recent = self._recent_from_store()
        what = self._describe(observation, current_language())
        self.undo_text = tr("capture.deleted", what=what)
        self._tell(tr("capture.deleted", what=what), failed=False)
        self._held_event = Clock.schedule_once(lambda _dt: self.commit_deletion(), UNDO_SECONDS)
        self._show()

    def undo_delete(self) -> None:
        """The undo bar's button: the observation comes back as it was; nothing was written."""
        held = self._release_held()
        if held is None or self.visit is None:
            return
        app = running_app()
        running = app.taxonomy.category(held.category).timed and held.ended_at is None
        if running and held.category not in self.timers:  # unless the observer started it again meanwhile
            self.timers[held.category] = held
        self.paused = paused_timers(app.store, self.visit.id)  # a paused timer, or its interruption, is back
        self.count += 1
        self.recent = self._recent_from_store()
        self._tell(tr("capture.restored", what=self._describe(held, current_language())), failed=False)
        self._show()

    def commit_deletion(self) -> None:
        """Write the held deletion (the bar timed out, another deletion came, or the screen is left)."""
        held = self._release_held()
        if held is None:
            return
        app = running_app()
        try:
            undo(app.store, held.id)
        except (sqlite3.Error, OSError, ValueError, KeyError) as error:
            Logger.exception("Capture: deletion not saved", exc_info=error)
            self._tell(tr("capture.not_saved", detail=type(error).__name__), failed=True)
            return
        app.recorded()

    def _release_held(self) -> Observation | None:
        held, self.held = self.held, None
        if self._held_event is not None:
            self._held_event.cancel()
            self._held_event = None
        self.undo_text = ""
        return held

    def _recent_from_store(self) -> list[Observation]:
        """The last ones logged but the one held for deletion (an indexed LIMIT, never a scan)."""
        assert self.visit is not None
        rows = running_app().store.recent_observations(self.visit.id, RECENT_ROWS + 1)
        return [o for o in rows if self.held is None or o.id != self.held.id][:RECENT_ROWS]

    def edit(self, index: int) -> None:
        if index < len(self.recent):
            running_app().open_observation(self.recent[index].id, "capture")

    # --- the quick strip: one touch enriches what was just tapped ---------------------------------

    def _show_quick(self, observation: Observation) -> None:
        app = running_app()
        self.quick_for = observation
        ask = observation.interrupted_id is not None and observation.task_resumed is None
        strip = self.ids.quick
        strip.show(observation, app.taxonomy, ask_resumption=ask)
        forget_ids(self, "quick_")
        self.ids.update(strip.widget_ids)
        self.quick_shown = True
        self._hide_quick_later()

    def _hide_quick_later(self) -> None:
        if self._quick_event is not None:
            self._quick_event.cancel()
        self._quick_event = Clock.schedule_once(lambda _dt: self._hide_quick(), QUICK_SECONDS)

    def _hide_quick(self) -> None:
        if self._quick_event is not None:
            self._quick_event.cancel()
            self._quick_event = None
        self.quick_shown, self.quick_for = False, None

    def _quick_choice(self, field: str, value: Any) -> None:
        if self.quick_for is None:
            return
        try:
            self.quick_for = running_app().store.edit_observation(self.quick_for.id, **{field: value})
        except (sqlite3.Error, OSError, ValueError, KeyError) as error:
            Logger.exception("Capture: quick choice not saved", exc_info=error)
            self._tell(tr("capture.not_saved", detail=type(error).__name__), failed=True)
            return
        self._replace_recent(self.quick_for)
        self._show_rows(datetime.now(UTC), current_language())
        self._hide_quick_later()  # still there a few seconds for the next touch
        running_app().recorded()

    def _quick_resumption(self, resumed: bool | None) -> None:
        interruption = self.quick_for
        self._hide_quick()
        if interruption is None or resumed is None:  # « plus tard »: the timer stays paused
            return
        try:
            self._answer(interruption, resumed)
        except (sqlite3.Error, OSError, ValueError, KeyError) as error:
            Logger.exception("Capture: resumption not saved", exc_info=error)
            self._tell(tr("capture.not_saved", detail=type(error).__name__), failed=True)

    def _answer(self, interruption: Observation, resumed: bool) -> None:
        """Whether the interrupted task was resumed: the timer goes on, or ends when the interruption came."""
        app = running_app()
        answered, stopped = answer_resumption(app.store, interruption.id, resumed)
        self.paused = {t: o for t, o in self.paused.items() if o.id != interruption.id}
        self._replace_recent(answered)
        timer = stopped or app.store.observation(interruption.interrupted_id or interruption.id)
        if stopped is not None:
            self.timers = {code: o for code, o in self.timers.items() if o.id != stopped.id}
            self._replace_recent(stopped)
        what = self._describe(timer, current_language()) if timer is not None else ""
        self._tell(tr("capture.resumed" if resumed else "capture.dropped", what=what), failed=False)
        self._show()
        app.recorded()

    def _replace_recent(self, observation: Observation) -> None:
        self.recent = [observation if o.id == observation.id else o for o in self.recent]

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
            return f"{label}\n{tr('capture.timer_idle')}"
        elapsed = formatting.clock(((now or datetime.now(UTC)) - timer.occurred_at).total_seconds())
        if timer.id in self.paused:
            return f"{label}\n{tr('capture.paused', elapsed=elapsed)}"
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
        parts = [self._describe(observation, language), *context_labels(observation, language)]
        if observation.category in self.timers and self.timers[observation.category].id == observation.id:
            parts.append(
                tr(
                    "capture.paused_for" if observation.id in self.paused else "capture.running_for",
                    elapsed=formatting.clock((now - observation.occurred_at).total_seconds()),
                )
            )
        elif observation.duration_seconds is not None:
            parts.append(tr("common.lasted", elapsed=formatting.duration(observation.duration_seconds)))
        if is_enriched(observation):
            parts.append(tr("capture.enriched"))
        review = self.reviews.get(observation.id)
        if review is not None and review.status and review.facilitator_acted:
            parts.append(tr("review.status", status=formatting.review_status(review.status, language)))
        if review is not None and review.comment_count:
            parts.append(tr("review.comments", count=review.comment_count))
        return " · ".join(parts)

    @staticmethod
    def _describe(observation: Observation, language: Any) -> str:
        category = running_app().taxonomy.category(observation.category)
        return f"{formatting.local_time(observation.occurred_at)} {category.label(language)}"


def context_labels(observation: Observation, language: Any) -> list[str]:
    """The professional and the tool an observation carries, as the recent list shows them."""
    taxonomy = running_app().taxonomy
    return [
        taxonomy.attribute(attribute).label_of(code, language)
        for attribute, code in (("role", observation.role), ("tool", observation.tool))
        if code is not None
    ]
