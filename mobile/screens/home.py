"""What an enrolled tablet opens on: whose tablet it is and how much waits to be sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder  # type: ignore[import-untyped]
from kivy.properties import StringProperty  # type: ignore[import-untyped]
from kivy.uix.screenmanager import Screen  # type: ignore[import-untyped]

from mobile.i18n import tr
from mobile.screens import running_app

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class HomeScreen(Screen):  # type: ignore[misc]
    enrolled_for = StringProperty("")
    pending = StringProperty("")
    server = StringProperty("")

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        store = running_app().store
        self.enrolled_for = tr("home.enrolled_for", observer=store.get_meta("observer_name", "") or "")
        self.pending = tr("home.pending", count=store.pending_count())
        self.server = tr("home.server", url=store.get_meta("server_url", "") or "")
