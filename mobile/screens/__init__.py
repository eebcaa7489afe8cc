"""One module and one KV file per screen: the KV file lays it out, the module gives it behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from kivy.app import App  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from mobile.main import VigieApp


def running_app() -> VigieApp:
    """The app object, through which screens reach the store and the sync client."""
    return cast("VigieApp", App.get_running_app())


def forget_ids(screen: Any, *prefixes: str) -> None:
    """Drop ids of widgets a screen built in Python and is about to build again."""
    for widget_id in [key for key in screen.ids if key.startswith(prefixes)]:
        del screen.ids[widget_id]
