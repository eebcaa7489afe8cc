"""The attributes a programme added to its grid, as toggles on the enrichment screen.

Kept apart from the screen's layout: the screen gives a box to fill and asks for the choices when it saves
(``Observation.grid_attributes``). The grid is the one the observation's visit was started with.
"""

from __future__ import annotations

from typing import Any

from kivy.factory import Factory  # type: ignore[import-untyped]

from mobile.i18n import current_language
from shared.schema import Observation, added_attributes
from shared.taxonomy import Taxonomy

ID_PREFIX = "added_"


class AddedAttributeToggles:
    """The toggles of the added attributes that apply to one observation's category."""

    def __init__(self) -> None:
        self._toggles: dict[str, list[Any]] = {}

    def build(self, box: Any, ids: dict[str, Any], taxonomy: Taxonomy, observation: Observation) -> None:
        """Add a label and a row of toggles to ``box`` per added attribute that applies to the category;
        each toggle goes in ``ids`` as ``added_<attribute>_<value>``."""
        for widget_id in [key for key in ids if key.startswith(ID_PREFIX)]:
            del ids[widget_id]
        self._toggles = {}
        language = current_language()
        for attribute in added_attributes(taxonomy):
            if attribute.applies_to is not None and observation.category not in attribute.applies_to:
                continue
            chosen = set(observation.grid_attributes.get(attribute.code, []))
            box.add_widget(Factory.FieldLabel(text=attribute.label(language)))
            row = Factory.ChoiceRow()
            toggles = []
            for value in attribute.values:
                toggle = Factory.ChoiceToggle(
                    text=value.label(language),
                    group=None if attribute.multiple else f"observation-added-{attribute.code}",
                    state="down" if value.code in chosen else "normal",
                )
                toggle.code = value.code
                row.add_widget(toggle)
                toggles.append(toggle)
                ids[f"{ID_PREFIX}{attribute.code}_{value.code}"] = toggle
            box.add_widget(row)
            self._toggles[attribute.code] = toggles

    def chosen(self, observation: Observation) -> dict[str, list[str]]:
        """The observation's added attributes as the toggles now say; the values of attributes not shown
        (another grid's, or one that does not apply) are kept as they were."""
        kept = {
            code: codes for code, codes in observation.grid_attributes.items() if code not in self._toggles
        }
        for code, toggles in self._toggles.items():
            values = sorted(t.code for t in toggles if t.state == "down")  # as the record keeps them
            if values:
                kept[code] = values
        return kept
