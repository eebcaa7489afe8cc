"""The attributes a programme added to its grid, as chip groups on the enrichment screen.

The screen places these groups after the record's own and asks for the choices when it saves
(``Observation.grid_attributes``). The grid is the one the observation's visit was started with.
"""

from __future__ import annotations

from typing import Any

from mobile.i18n import current_language
from mobile.screens.attribute_group import AttributeGroup
from shared.schema import Observation, added_attributes
from shared.taxonomy import Taxonomy

ID_PREFIX = "added_"


class AddedAttributeToggles:
    """The groups of the added attributes that apply to one observation's category."""

    def __init__(self) -> None:
        self._groups: dict[str, AttributeGroup] = {}

    def build(
        self, ids: dict[str, Any], taxonomy: Taxonomy, observation: Observation
    ) -> list[AttributeGroup]:
        """A group per added attribute that applies to the category, for the screen to place after the
        record's own; each chip goes in ``ids`` as ``added_<attribute>_<value>``."""
        for widget_id in [key for key in ids if key.startswith(ID_PREFIX)]:
            del ids[widget_id]
        self._groups = {}
        language = current_language()
        for attribute in added_attributes(taxonomy):
            if attribute.applies_to is not None and observation.category not in attribute.applies_to:
                continue
            group = AttributeGroup(
                attribute.code,
                attribute.label(language),
                [(value.code, value.label(language)) for value in attribute.values],
                attribute.multiple,
                observation.grid_attributes.get(attribute.code, []),
                group_prefix="added-attribute",
            )
            for value, chip in group.toggles.items():
                ids[f"{ID_PREFIX}{attribute.code}_{value}"] = chip
            self._groups[attribute.code] = group
        return list(self._groups.values())

    def chosen(self, observation: Observation) -> dict[str, list[str]]:
        """The observation's added attributes as the chips now say; the values of attributes not shown
        (another grid's, or one that does not apply) are kept as they were."""
        kept = {
            code: codes for code, codes in observation.grid_attributes.items() if code not in self._groups
        }
        for code, group in self._groups.items():
            values = sorted(group.chosen())  # as the record keeps them
            if values:
                kept[code] = values
        return kept
