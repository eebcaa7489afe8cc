"""The strip shown for a few seconds after a tap: the two attributes that matter most for the category,
and for an interruption that paused a timer, « Tâche reprise ? ». One touch each; ignoring it costs nothing.

The strip only reports choices (``on_choice``, ``on_resumption``); the capture screen writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.lang import Builder  # type: ignore[import-untyped]
from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]

from mobile.i18n import current_language, tr
from mobile.interruptions import quick_attributes
from shared.schema import ATTRIBUTE_FIELDS, Observation
from shared.taxonomy import Taxonomy

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

RESUMPTION_CHOICES: list[tuple[str, bool | None]] = [("yes", True), ("no", False), ("later", None)]


class QuickStrip(BoxLayout):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_choice: Callable[[str, Any], None] = lambda _field, _value: None
        self.on_resumption: Callable[[bool | None], None] = lambda _resumed: None
        self.widget_ids: dict[str, Any] = {}  # the screen adds them to its ids, for tests and touch drivers

    def show(self, observation: Observation, taxonomy: Taxonomy, ask_resumption: bool) -> None:
        self.clear_widgets()
        self.widget_ids = {}
        language = current_language()
        groups = quick_attributes(taxonomy, observation.category)
        if ask_resumption:
            groups = groups[:1]  # the source, then « tâche reprise ? »: nothing else fits a glance
        for code in groups:
            attribute = taxonomy.attribute(code)
            self.add_widget(Factory.QuickLabel(text=attribute.label(language)))
            current = getattr(observation, ATTRIBUTE_FIELDS[code])
            for value in attribute.values:
                toggle = Factory.QuickToggle(
                    text=value.label(language),
                    group=f"quick-{code}",
                    state="down" if str(current) == value.code else "normal",
                )
                toggle.bind(on_release=lambda t, c=code, v=value.code: self._chosen(c, v, t.state == "down"))
                self.add_widget(toggle)
                self.widget_ids[f"quick_{code}_{value.code}"] = toggle
        if ask_resumption:
            self.add_widget(Factory.QuickLabel(text=tr("quick.resumed")))
            for name, resumed in RESUMPTION_CHOICES:
                button = Factory.QuickToggle(text=tr(f"quick.resumed_{name}"), group="quick-resumed")
                button.bind(on_release=lambda _b, r=resumed: self.on_resumption(r))
                self.add_widget(button)
                self.widget_ids[f"quick_resumed_{name}"] = button

    def _chosen(self, code: str, value: str, down: bool) -> None:
        field = ATTRIBUTE_FIELDS[code]
        chosen: Any = value if down else None
        if field == "severity" and chosen is not None:
            chosen = int(chosen)
        self.on_choice(field, chosen)
