"""One module and one KV file per screen: the KV file lays it out, the module gives it behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from kivy.app import App  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from mobile.main import VigieApp


def running_app() -> VigieApp:
    """The app object, through which screens reach the store and the sync client."""
    return cast("VigieApp", App.get_running_app())
