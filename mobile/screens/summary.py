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

    def on_pre_enter(self, *_args: Any) -> None:
        app = running_app()
        visit = app.store.current_visit()
        if visit is None:
            app.show("home")
            return
        language = current_language()
        summary = summarise(visit, app.store.observations(visit.id), app.taxonomy, datetime.now(UTC))
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

    def end_visit(self) -> None:
        app = running_app()
        visit = app.store.current_visit()
        if visit is not None:
            end_visit(app.store, visit.id, app.taxonomy)
            app.recorded()
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
