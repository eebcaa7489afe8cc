"""The tablet app: opens the local store, builds the screens and shows the first one.

``python -m mobile.main`` runs it; ``mobile/settings.py`` lists the environment variables it reads.
"""

# ruff: noqa: E402 -- the window's size must be set before any import creates the window.
from __future__ import annotations

from kivy.config import Config  # type: ignore[import-untyped]

# Landscape, as the tablets are held; on Android the window is the whole screen whatever this says.
Config.set("graphics", "width", "1280")
Config.set("graphics", "height", "800")
Config.set("input", "mouse", "mouse,disable_multitouch")  # no red dots on right click on a desktop

from pathlib import Path
from typing import Any

from kivy.app import App  # type: ignore[import-untyped]
from kivy.core.window import Window  # type: ignore[import-untyped]
from kivy.uix.screenmanager import NoTransition, ScreenManager  # type: ignore[import-untyped]

from mobile import theme
from mobile.i18n import use_language
from mobile.screens.enrolment import EnrolmentScreen
from mobile.screens.home import HomeScreen
from mobile.settings import STORE_FILE, AppSettings
from mobile.store import Store
from mobile.sync_client import SyncClient
from shared.sync import EnrolResponse


class VigieApp(App):  # type: ignore[misc]
    """Holds the store and the sync client; screens reach both through it, never through each other."""

    def __init__(self, settings: AppSettings | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("title", "Vigie")
        super().__init__(**kwargs)
        self.settings = settings or AppSettings.from_env()
        self._store: Store | None = None
        self._sync_client: SyncClient | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store opens when the app builds its screens")
        return self._store

    @property
    def is_enrolled(self) -> bool:
        return self.store.get_meta("device_token") is not None

    def build(self) -> ScreenManager:
        use_language(self.settings.language)
        Window.clearcolor = theme.BACKGROUND
        Window.softinput_mode = "below_target"  # the on-screen keyboard must not hide the field typed in
        data_dir = self._data_dir()
        data_dir.mkdir(parents=True, exist_ok=True)
        self._store = Store(data_dir / STORE_FILE)
        self._sync_client = SyncClient(self._store)

        manager = ScreenManager(transition=NoTransition())
        manager.add_widget(EnrolmentScreen(name="enrolment"))
        manager.add_widget(HomeScreen(name="home"))
        manager.current = "home" if self.is_enrolled else "enrolment"
        return manager

    def _data_dir(self) -> Path:
        if self.settings.data_dir is not None:
            return self.settings.data_dir
        try:
            return Path(self.user_data_dir)
        except FileNotFoundError as missing:
            # Kivy creates only the last folder (~/.config/vigie on Linux); a fresh account lacks ~/.config.
            Path(missing.filename).parent.mkdir(parents=True, exist_ok=True)
            return Path(self.user_data_dir)

    def enrol(self, server_url: str, code: str) -> EnrolResponse:
        """Blocks on the network: screens call it from a background thread."""
        assert self._sync_client is not None
        return self._sync_client.enrol(server_url, code, label=self.settings.device_label)

    def on_stop(self) -> None:
        if self._store is not None:
            self._store.close()


if __name__ == "__main__":
    VigieApp().run()
