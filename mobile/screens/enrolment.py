"""First start: the observer types the server address and the enrolment code, the tablet enrols.

The request runs on a background thread; the screen stays usable and shows the outcome: the home
screen on success, the server's or the client's message otherwise, with what was typed kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder  # type: ignore[import-untyped]
from kivy.logger import Logger  # type: ignore[import-untyped]
from kivy.properties import BooleanProperty, StringProperty  # type: ignore[import-untyped]
from kivy.uix.screenmanager import Screen  # type: ignore[import-untyped]

from mobile.background import run_in_background
from mobile.forms import FormError, check_enrolment
from mobile.i18n import error_text, tr
from mobile.screens import running_app
from mobile.sync_client import SyncError
from shared.sync import EnrolResponse

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class EnrolmentScreen(Screen):  # type: ignore[misc]
    busy = BooleanProperty(False)  # an enrolment request is on its way
    message = StringProperty("")
    message_is_error = BooleanProperty(False)

    def on_kv_post(self, base_widget: Any) -> None:
        app = running_app()
        self.ids.server_url.text = app.settings.server_url or app.store.get_meta("server_url") or ""
        # Shown as the facilitator wrote it; the server reads "abcd efgh" as "ABCD-EFGH" anyway.
        self.ids.code.input_filter = _upper_case
        self.ids.code.text = app.settings.enrolment_code.upper()  # proposed by `vigie app` for the demo

    def enrol(self) -> None:
        if self.busy:
            return
        try:
            form = check_enrolment(self.ids.server_url.text, self.ids.code.text)
        except FormError as error:
            self._show(tr(error.key, **error.values), is_error=True)
            return
        self.busy = True
        self._show(tr("enrolment.pending"), is_error=False)
        app = running_app()
        run_in_background(
            lambda: app.enrol(form.server_url, form.code), self._enrolled, self._failed, name="enrolment"
        )

    def _enrolled(self, _response: EnrolResponse) -> None:
        self.busy = False
        self._show("", is_error=False)
        self.manager.current = "home"
        running_app().enrolled()

    def _failed(self, error: Exception) -> None:
        self.busy = False
        if isinstance(error, SyncError):
            text = error_text(error.code, error.message)
        else:
            Logger.exception("Enrolment: unexpected failure", exc_info=error)
            text = tr("error.unexpected", detail=type(error).__name__)
        self._show(text, is_error=True)

    def _show(self, text: str, is_error: bool) -> None:
        self.message = text
        self.message_is_error = is_error


def _upper_case(text: str, _from_undo: bool) -> str:
    return text.upper()
