"""Enriching one observation: the grid's attributes as chips, the category's own first, and a note.

Every choice is on screen at once, on a 10" tablet either way up (no scrolling to reach « Effet »): the
groups (``AttributeGroup``) go in two balanced columns either way up (one when a chip is too wide for
two), the note and the buttons under them. When there is more than fits (choices a programme added,
facilitators' comments), the groups get one scrolling area, the note and the buttons staying on screen,
rather than chips cut off or hidden under the note.

The note is checked for patient identifiers as it is typed (``shared.privacy``, after a short pause in
typing) and the observer sees what looks like one; saving a note that still holds one takes a second,
deliberate tap. The screen also shows why the server refused the observation, if it did, and what
facilitators said about it.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

from kivy.clock import Clock  # type: ignore[import-untyped]
from kivy.lang import Builder  # type: ignore[import-untyped]
from kivy.logger import Logger  # type: ignore[import-untyped]
from kivy.metrics import dp  # type: ignore[import-untyped]
from kivy.properties import BooleanProperty, StringProperty  # type: ignore[import-untyped]
from kivy.uix.screenmanager import Screen  # type: ignore[import-untyped]
from pydantic import ValidationError

from mobile import formatting
from mobile.group_columns import balanced_cuts, column_count
from mobile.i18n import current_language, error_text, tr
from mobile.interruptions import enrichment_order
from mobile.screens import forget_ids, running_app
from mobile.screens.added_attributes import AddedAttributeToggles
from mobile.screens.attribute_group import AttributeGroup
from mobile.store import Review
from shared.messages import field_errors
from shared.privacy import IDENTIFIER_KIND_LABELS, IdentifierMatch, find_identifiers
from shared.schema import ATTRIBUTE_FIELDS, NOTE_MAX_LENGTH, Observation

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

NOTE_CHECK_DELAY = 0.3  # seconds without typing before the note is checked
PAGE_PADDING_DP = 16  # the page's padding in observation.kv
MOST_COLUMNS = 2


class ObservationScreen(Screen):  # type: ignore[misc]
    title_text = StringProperty("")
    help_text = StringProperty("")
    review_text = StringProperty("")
    rejection_text = StringProperty("")
    privacy_text = StringProperty("")
    message = StringProperty("")
    confirming = BooleanProperty(False)  # the observer was shown the identifiers and may save anyway
    landscape = BooleanProperty(True)

    def on_kv_post(self, base_widget: Any) -> None:
        self.observation: Observation | None = None
        self.back_to = "capture"
        self._check_event: Any = None
        self.groups: list[AttributeGroup] = []  # in the order shown
        self._added = AddedAttributeToggles()  # the attributes the programme added to its grid

    def on_size(self, _screen: Any, size: Any) -> None:
        self.landscape = size[0] >= size[1]
        self.place_groups()

    def load(self, observation_id: uuid.UUID, back_to: str) -> None:
        app = running_app()
        store = app.store
        observation = store.observation(observation_id)
        if observation is None:
            raise KeyError(observation_id)
        self.observation, self.back_to = observation, back_to
        language = current_language()
        taxonomy = app.taxonomy
        category = taxonomy.category(observation.category)
        when = formatting.local_day_and_time(observation.occurred_at, language)
        extra = ""
        if category.timed:
            extra = (
                " · " + tr("observation.running")
                if observation.ended_at is None
                else " · "
                + tr("common.lasted", elapsed=formatting.duration(observation.duration_seconds or 0))
            )
        self.title_text = f"{category.label(language)} · {when}{extra}"
        self.help_text = category.help(language) if category.help is not None else ""
        self._build_groups(observation)
        self.ids.note.text = observation.note or ""
        self.message, self.confirming = "", False
        self._check_note()
        rejection = store.rejection(observation.id)
        if rejection is None:
            self.rejection_text = ""
        else:
            details = "; ".join(d.get("message", "") for d in rejection.details if d.get("message"))
            reason = error_text(rejection.code, rejection.message) + (f" ({details})" if details else "")
            self.rejection_text = tr("observation.rejected", reason=reason)
        lines = []
        status = store.review_status(observation.id)
        comments = store.review_comments(observation.id)
        if status and Review(status, len(comments)).facilitator_acted:
            lines.append(tr("observation.review_status", status=formatting.review_status(status, language)))
        for comment in comments:
            lines.append(
                tr(
                    "observation.comment",
                    author=comment.author_name,
                    when=formatting.local_day_and_time(comment.created_at, language),
                    body=comment.body,
                )
            )
        self.review_text = "\n".join(lines)

    def _build_groups(self, observation: Observation) -> None:
        """A group per attribute that applies to the category, in the order that matters for it."""
        forget_ids(self, "attribute_")
        language = current_language()
        taxonomy = running_app().taxonomy
        self.groups = []
        for code in enrichment_order(taxonomy, observation.category):
            attribute = taxonomy.attribute(code)
            current = getattr(observation, ATTRIBUTE_FIELDS[code])
            chosen = [str(v) for v in current] if isinstance(current, list) else [str(current)]
            group = AttributeGroup(
                code,
                attribute.label(language),
                [(value.code, value.label(language)) for value in attribute.values],
                attribute.multiple,
                chosen,
            )
            for value, chip in group.toggles.items():
                self.ids[f"attribute_{code}_{value}"] = chip
            self.groups.append(group)
        visit = running_app().store.visit(observation.visit_id)
        grid = running_app().store.grid(visit.grid_version) if visit and visit.grid_version else None
        self.groups.extend(self._added.build(self.ids, grid or taxonomy, observation))
        self.place_groups()

    def place_groups(self) -> None:
        """The groups in order down two columns (one when a chip is too wide for two), cut where the taller
        column is shortest. The columns hang from the top of the groups' area."""
        columns = [self.ids.column_a, self.ids.column_b]
        for column in columns:
            column.clear_widgets()
        widths = [self._column_width(count) for count in range(1, MOST_COLUMNS + 1)]
        widest = max((group.widest_chip() for group in self.groups), default=0.0)
        count = column_count(widest, widths)
        for index, column in enumerate(columns):
            column.size_hint_x = 1 if index < count else None
            if index >= count:
                column.width = 0
        heights = [group.height_for(widths[count - 1]) for group in self.groups]
        cuts = balanced_cuts(heights, count, columns[0].spacing)
        for index, group in enumerate(self.groups):
            columns[sum(index >= cut for cut in cuts)].add_widget(group)
        self.ids.groups_area.scroll_y = 1

    def _column_width(self, count: int) -> float:
        """A column's width when the groups' area has ``count`` of them."""
        inner = self.width - dp(PAGE_PADDING_DP) * 2
        return float((inner - self.ids.columns.spacing * (count - 1)) / count)

    def _changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for group in self.groups:
            if group.code not in ATTRIBUTE_FIELDS:
                continue  # one the programme added: in grid_attributes, below
            chosen = group.chosen()
            field = ATTRIBUTE_FIELDS[group.code]
            if field == "severity":
                changes[field] = int(chosen[0]) if chosen else None
            elif group.multiple:
                changes[field] = chosen
            else:
                changes[field] = chosen[0] if chosen else None
        changes["grid_attributes"] = self._added.chosen(self.observation) if self.observation else {}
        changes["note"] = self.ids.note.text.strip() or None
        return changes

    # --- the privacy guard ------------------------------------------------------------------------

    def note_changed(self) -> None:
        if self._check_event is not None:
            self._check_event.cancel()
        self._check_event = Clock.schedule_once(lambda _dt: self._check_note(), NOTE_CHECK_DELAY)

    def _check_note(self) -> list[IdentifierMatch]:
        self._check_event = None
        found = find_identifiers(self.ids.note.text)
        if not found:
            self.privacy_text, self.confirming = "", False
        else:
            key = "observation.privacy_confirm" if self.confirming else "observation.privacy_warning"
            self.privacy_text = tr(key, found=_describe(found))
        return found

    # --- saving -----------------------------------------------------------------------------------

    def save(self, anyway: bool = False) -> None:
        if self.observation is None:
            return
        changes = self._changes()
        note = changes["note"] or ""
        if len(note) > NOTE_MAX_LENGTH:
            self.message = tr("observation.note_too_long", max=NOTE_MAX_LENGTH)
            return
        # Checked again now: the last keystrokes may be younger than the pause the check waits for.
        if self._check_note() and not (anyway and self.confirming):
            self.confirming = True
            self._check_note()
            return
        if any(getattr(self.observation, name) != value for name, value in changes.items()):
            try:
                running_app().store.edit_observation(self.observation.id, **changes)
            except ValidationError as error:
                self.message = "; ".join(e.message for e in field_errors(error, current_language()))
                return
            except (sqlite3.Error, OSError) as error:
                Logger.exception("Observation: not saved", exc_info=error)
                self.message = tr("capture.not_saved", detail=type(error).__name__)
                return
            running_app().recorded()
        self.go_back()

    def go_back(self) -> None:
        self.ids.note.focus = False
        self.confirming = False
        running_app().show(self.back_to)


def _describe(found: list[IdentifierMatch]) -> str:
    language = current_language()
    return ", ".join(
        tr("observation.privacy_item", kind=IDENTIFIER_KIND_LABELS[m.kind][language], text=m.text)
        for m in found
    )
