"""One attribute group of the enrichment screen: a title and its choices as chips, single or multiple.

Generic on purpose: the grid's attributes use it, and so can any other set of choices a programme adds;
the screen only places groups in its columns and asks each for its value.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kivy.factory import Factory  # type: ignore[import-untyped]
from kivy.lang import Builder  # type: ignore[import-untyped]
from kivy.properties import StringProperty  # type: ignore[import-untyped]
from kivy.uix.boxlayout import BoxLayout  # type: ignore[import-untyped]

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class AttributeGroup(BoxLayout):  # type: ignore[misc]
    title = StringProperty("")

    def __init__(
        self,
        code: str,
        title: str,
        choices: Iterable[tuple[str, str]],
        multiple: bool,
        chosen: Iterable[str] = (),
        group_prefix: str = "attribute",
        **kwargs: Any,
    ) -> None:
        """``choices``: (code, label) pairs in the grid's order; ``chosen``: the codes selected now."""
        super().__init__(**kwargs)
        self.code, self.title, self.multiple = code, title, multiple
        selected = set(chosen)
        self.toggles: dict[str, Any] = {}  # value code -> its chip, for the screen's ids
        for value, label in choices:
            chip = Factory.ChoiceChip(
                text=label,
                group=None if multiple else f"{group_prefix}-{code}",
                state="down" if value in selected else "normal",
            )
            chip.code = value
            self.ids.chips.add_widget(chip)
            self.toggles[value] = chip

    def chosen(self) -> list[str]:
        """The codes selected, in the grid's order (one at most when the attribute is single)."""
        return [value for value, chip in self.toggles.items() if chip.state == "down"]

    def widest_chip(self) -> float:
        """The width of its widest chip: a column narrower than that would cut it."""
        widths = []
        for chip in self.toggles.values():
            chip.texture_update()
            widths.append(max(chip.width, chip.texture_size[0]))
        return float(max(widths, default=0.0))

    def height_for(self, width: float) -> float:
        """The height this group takes in a column ``width`` wide: its title, then its chips wrapped in
        rows as the stack will wrap them (the screen balances its columns with it before laying out)."""
        chips = self.ids.chips
        spacing = chips.spacing[0] if isinstance(chips.spacing, list | tuple) else chips.spacing
        rows, used = 1, 0.0
        for chip in self.toggles.values():
            chip.texture_update()
            chip_width = max(chip.width, chip.texture_size[0])
            if used and used + spacing + chip_width > width:
                rows, used = rows + 1, chip_width
            else:
                used = used + spacing + chip_width if used else chip_width
        chip_height = max((chip.height for chip in self.toggles.values()), default=0)
        title = self.ids.title
        title.texture_update()
        return float(title.texture_size[1] + self.spacing + rows * chip_height + (rows - 1) * spacing)
