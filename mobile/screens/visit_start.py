"""Starting a visit: the unit followed (units come with the sync and stay on the tablet, so this works
offline), the professionals observed and a free context note; "Commencer" starts the visit clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.lang import Builder  # type: ignore[import-untyped]
from kivy.properties import StringProperty  # type: ignore[import-untyped]
from kivy.uix.screenmanager import Screen  # type: ignore[import-untyped]

from mobile.capture import start_visit
from mobile.i18n import current_language, tr
from mobile.screens import forget_ids, running_app
from shared.schema import VISIT_CONTEXT_MAX_LENGTH

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

UNIT_GROUP = "visit-unit"


class VisitStartScreen(Screen):  # type: ignore[misc]
    structure_text = StringProperty("")
    no_units_text = StringProperty("")
    message = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        self._units_shown: list[tuple[int, int, str]] = []
        running_app().sync.bind(completed=lambda *_args: self.refresh())
        for value in running_app().taxonomy.attribute("role").values:
            toggle = Factory.ChoiceToggle(text=value.label(current_language()))
            toggle.code = value.code
            self.ids.roles.add_widget(toggle)
            self.ids[f"role_{value.code}"] = toggle

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        store = running_app().store
        structure_id = int(store.get_meta("structure_id", "0") or 0)
        structure = store.structure(structure_id)
        name = structure.name if structure else tr("visit.structure_unknown", id=structure_id)
        self.structure_text = tr("visit.structure", name=name)
        units = store.units(structure_id)
        self.no_units_text = "" if units else tr("visit.no_units")
        if units != self._units_shown:  # rebuilt only when the sync brought other units: keeps the choice
            self._units_shown = units
            box = self.ids.units
            box.clear_widgets()
            forget_ids(self, "unit_")
            for unit_id, _structure_id, unit_name in units:
                toggle = Factory.ChoiceToggle(text=unit_name, group=UNIT_GROUP, allow_no_selection=False)
                toggle.unit_id = unit_id
                toggle.bind(on_release=lambda *_args: setattr(self, "message", ""))  # answered: the ask goes
                box.add_widget(toggle)
                self.ids[f"unit_{unit_id}"] = toggle

    def start(self) -> None:
        app = running_app()
        chosen = [t for t in self.ids.units.children if t.state == "down"]
        if not chosen:
            self.message = tr("visit.unit_missing")
            return
        note = self.ids.context_note.text.strip()
        if len(note) > VISIT_CONTEXT_MAX_LENGTH:
            self.message = tr("visit.context_too_long", max=VISIT_CONTEXT_MAX_LENGTH)
            return
        roles = [t.code for t in reversed(self.ids.roles.children) if t.state == "down"]
        store = app.store
        start_visit(
            store,
            structure_id=int(store.get_meta("structure_id", "0") or 0),
            unit_id=chosen[0].unit_id,
            observer_id=int(store.get_meta("observer_id", "0") or 0),
            observed_roles=roles,
            context_note=note or None,
        )
        self._clear()
        app.recorded()
        app.show("capture")

    def _clear(self) -> None:
        self.message = ""
        self.ids.context_note.text = ""
        for toggle in [*self.ids.units.children, *self.ids.roles.children]:
            toggle.state = "normal"
