"""The visit so far: duration, events by category and their rates, timed durations, interruptions
resumed; and ending the visit.

Reading the whole visit happens here, away from the capture screen, once when the screen opens.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.lang import Builder  # type: ignore[import-untyped]
from kivy.properties import StringProperty  # type: ignore[import-untyped]
from kivy.uix.screenmanager import Screen  # type: ignore[import-untyped]

from mobile import formatting, theme
from mobile.capture import InterruptionFigures, end_visit, summarise
from mobile.i18n import current_language, tr
from mobile.screens import forget_ids, running_app

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class SummaryScreen(Screen):  # type: ignore[misc]
    duration_text = StringProperty("")
    total_text = StringProperty("")
    rate_text = StringProperty("")
    running_text = StringProperty("")
    timers_text = StringProperty("")
    interruptions_text = StringProperty("")
    confirm_text = StringProperty("")  # set while « Terminer la visite » waits for a yes

    def on_kv_post(self, base_widget: Any) -> None:
        self.question = Factory.EndConfirmation()
        self.question.ids.confirm_end.bind(on_release=lambda *_args: self.end_visit())
        self.question.ids.cancel_end.bind(on_release=lambda *_args: self.dismiss_question())
        self.bind(confirm_text=lambda *_args: self._show_question())

    def _show_question(self) -> None:
        box = self.ids.confirmation
        box.clear_widgets()
        forget_ids(self, "confirm_", "cancel_end")
        self.question.text = self.confirm_text
        if self.confirm_text:
            box.add_widget(self.question)
            self.ids.update(
                {name: self.question.ids[name] for name in ("confirm_text", "confirm_end", "cancel_end")}
            )

    def dismiss_question(self) -> None:
        self.confirm_text = ""

    def on_pre_enter(self, *_args: Any) -> None:
        app = running_app()
        visit = app.store.current_visit()
        if visit is None:
            app.show("home")
            return
        language = current_language()
        summary = summarise(visit, app.store.observations(visit.id), app.taxonomy, datetime.now(UTC))
        self.summary = summary
        self.confirm_text = ""
        self.duration_text = tr("summary.duration", duration=formatting.duration(summary.duration_seconds))
        self.total_text = tr("summary.total", count=summary.total)
        rate = summary.rate_per_hour()
        self.rate_text = (
            tr("summary.rate", rate=formatting.rate(rate, language))
            if rate is not None
            else tr("summary.rate_too_short")
        )
        self.running_text = (
            tr("summary.running", count=summary.running_timers) if summary.running_timers else ""
        )
        self.interruptions_text = _interruptions_text(summary.interruptions)
        self.timers_text = "\n".join(
            tr(
                "summary.timer_item",
                category=app.taxonomy.category(t.category).label(language),
                count=t.count,
                total=formatting.duration(t.total_seconds),
                median=formatting.duration(t.median_seconds),
            )
            for t in summary.timers
        )
        box = self.ids.counts
        box.clear_widgets()
        forget_ids(self, "count_")
        if not summary.counts:
            box.add_widget(_count_row(tr("summary.none"), (0, 0, 0, 0)))
        for code, count in summary.counts:
            category = app.taxonomy.category(code)
            category_rate = summary.rate_per_hour(count)
            text = (
                tr("summary.count_item", category=category.label(language), count=count)
                if category_rate is None
                else tr(
                    "summary.count_rate_item",
                    category=category.label(language),
                    count=count,
                    rate=formatting.rate(category_rate, language),
                )
            )
            row = _count_row(
                text,
                theme.hex_colour(category.colour),
            )
            box.add_widget(row)
            self.ids[f"count_{code}"] = row

    def ask_to_end(self) -> None:
        """Ending a visit is asked twice: the observer sees what was recorded before saying yes."""
        summary = self.summary
        running = (
            tr("summary.confirm_running", count=summary.running_timers) if summary.running_timers else ""
        )
        self.confirm_text = tr(
            "summary.confirm_end",
            count=summary.total,
            duration=formatting.duration(summary.duration_seconds),
            running=running,
        )

    def end_visit(self) -> None:
        app = running_app()
        visit = app.store.current_visit()
        self.confirm_text = ""
        if visit is not None:
            end_visit(app.store, visit.id, app.taxonomy)
            app.recorded()
            app.tell_home(tr("home.visit_ended", count=app.store.count_observations(visit.id)))
        app.show("home")


def _interruptions_text(figures: InterruptionFigures) -> str:
    if not figures.count:
        return ""
    share = figures.share_resumed
    if share is None:
        return tr("summary.interruptions_unanswered", count=figures.count)
    return tr(
        "summary.interruptions",
        count=figures.count,
        resumed=figures.resumed,
        answered=figures.answered,
        share=round(100 * share),
    )


def _count_row(text: str, fill: theme.Colour) -> Any:
    # Properties a KV rule declares exist only once the rule is applied: set them after construction.
    row = Factory.CountRow()
    row.text, row.fill = text, fill
    return row
