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

import uuid
from pathlib import Path
from typing import Any

from kivy.app import App  # type: ignore[import-untyped]
from kivy.core.window import Window  # type: ignore[import-untyped]
from kivy.uix.screenmanager import NoTransition, ScreenManager  # type: ignore[import-untyped]

from mobile import theme
from mobile.i18n import language_from, use_language
from mobile.screens.capture import CaptureScreen
from mobile.screens.enrolment import EnrolmentScreen
from mobile.screens.home import HomeScreen
from mobile.screens.observation import ObservationScreen
from mobile.screens.summary import SummaryScreen
from mobile.screens.visit_start import VisitStartScreen
from mobile.settings import STORE_FILE, AppSettings
from mobile.store import Store
from mobile.sync_client import SyncClient
from mobile.sync_scheduler import SyncScheduler
from shared.sync import EnrolResponse
from shared.taxonomy import Language, Taxonomy, UnknownTaxonomyVersionError, current_taxonomy, load_taxonomy


class VigieApp(App):  # type: ignore[misc]
    """Holds the store and the sync client; screens reach both through it, never through each other."""

    root: ScreenManager  # Kivy's property, typed for the checker (an annotation only: no value overrides it)

    def __init__(self, settings: AppSettings | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("title", "Vigie")
        super().__init__(**kwargs)
        self.settings = settings or AppSettings.from_env()
        self._store: Store | None = None
        self._sync_client: SyncClient | None = None
        self._sync: SyncScheduler | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store opens when the app builds its screens")
        return self._store

    @property
    def sync(self) -> SyncScheduler:
        if self._sync is None:
            raise RuntimeError("the sync scheduler starts when the app builds its screens")
        return self._sync

    @property
    def taxonomy(self) -> Taxonomy:
        """The grid the observer records with: the visit under way keeps the one it started with; otherwise
        the newest the tablet pulled; before any, the shipped grid its programme names."""
        visit = self.store.current_visit()
        grid = self.store.grid(visit.grid_version if visit is not None else None)
        if grid is not None:
            return grid
        structure = self.store.structure(int(self.store.get_meta("structure_id", "0") or 0))
        if structure is not None:
            try:
                return load_taxonomy(structure.taxonomy_version)
            except UnknownTaxonomyVersionError:
                pass  # a newer grid than this app knows: the server will say which codes it refuses
        return current_taxonomy()

    @property
    def is_enrolled(self) -> bool:
        return self.store.get_meta("device_token") is not None

    def build(self) -> ScreenManager:
        Window.clearcolor = theme.BACKGROUND
        Window.softinput_mode = "below_target"  # the on-screen keyboard must not hide the field typed in
        data_dir = self._data_dir()
        data_dir.mkdir(parents=True, exist_ok=True)
        self._store = Store(data_dir / STORE_FILE)
        self._sync_client = SyncClient(self._store)
        self._sync = SyncScheduler(self._store, self._sync_client, self.settings.sync_interval)
        stored = self._store.get_meta("language")
        use_language(
            self.settings.language if self.settings.language_set or not stored else language_from(stored)
        )

        manager = ScreenManager(transition=NoTransition())
        self._add_screens(manager)
        if not self.is_enrolled:
            manager.current = "enrolment"
        else:
            # After a restart (or a crash) capture resumes where it stopped.
            manager.current = "capture" if self._store.current_visit() is not None else "home"
        return manager

    @staticmethod
    def _add_screens(manager: ScreenManager) -> None:
        manager.add_widget(EnrolmentScreen(name="enrolment"))
        manager.add_widget(HomeScreen(name="home"))
        manager.add_widget(VisitStartScreen(name="visit_start"))
        manager.add_widget(CaptureScreen(name="capture"))
        manager.add_widget(ObservationScreen(name="observation"))
        manager.add_widget(SummaryScreen(name="summary"))

    def on_start(self) -> None:
        if self.is_enrolled:
            self.sync.start()

    # --- what screens ask of the app (screens never call each other) ----------------------------

    def show(self, screen: str) -> None:
        self.root.current = screen

    def open_observation(self, observation_id: uuid.UUID, back_to: str) -> None:
        screen = self.root.get_screen("observation")
        screen.load(observation_id, back_to)
        self.root.current = "observation"

    def tell_home(self, text: str) -> None:
        """A word for the observer on the home screen (a visit just ended and what it holds)."""
        self.root.get_screen("home").notice = text

    def recorded(self) -> None:
        """The observer saved something: count it now and send it shortly."""
        self.sync.soon()

    def enrolled(self) -> None:
        self.sync.start()  # units and the structure's name arrive with this first sync

    def switch_language(self, language: Language) -> None:
        """Texts are set when screens are built: build them again in the other language."""
        self.store.set_meta(language=language)
        use_language(language)
        # A new manager: emptying the old one would walk through every screen, entering each on the way.
        old = self.root
        manager = ScreenManager(transition=NoTransition())
        self._add_screens(manager)
        manager.current = old.current
        Window.remove_widget(old)
        self.root = manager
        Window.add_widget(manager)

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
        if self._sync is not None:
            self._sync.stop()
        if self._store is not None:
            self._store.close()


if __name__ == "__main__":
    VigieApp().run()
