"""Colours and sizes shared by every screen: high contrast, large text, big touch targets.

Sizes are numbers of dp (layout) or sp (text); the KV files wrap them in ``dp()`` and ``sp()``.
Colour pairs were checked for a contrast ratio of at least 7:1 (WCAG AAA) against their background.
"""

from __future__ import annotations

Colour = tuple[float, float, float, float]


def _hex(code: str) -> Colour:
    code = code.lstrip("#")
    red, green, blue = (int(code[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (red, green, blue, 1.0)


BACKGROUND = _hex("#FFFFFF")
TEXT = _hex("#111111")
HINT = _hex("#4D4D4D")  # placeholder text, still 8:1 on white
BORDER = _hex("#111111")
BORDER_FOCUS = _hex("#0B3D91")
ERROR = _hex("#A50E0E")
PRIMARY = _hex("#0B3D91")  # white text on it: 11:1
PRIMARY_PRESSED = _hex("#072A66")
DISABLED = _hex("#4D4D4D")  # white text on it: 8:1
ON_PRIMARY = _hex("#FFFFFF")

TOUCH_TARGET_DP = 64  # above the 48dp minimum: observers tap while standing, sometimes gloved
PADDING_DP = 48
SPACING_DP = 16
CONTENT_WIDTH_DP = 820

TITLE_SP = 40
BODY_SP = 26
INPUT_SP = 30
BUTTON_SP = 28

SECONDARY = _hex("#FFFFFF")  # outlined buttons: dark text and border on white
SECONDARY_PRESSED = _hex("#DCE3F0")
SELECTED = PRIMARY  # a chosen toggle: white text on dark blue
NOTICE = _hex("#FFF4CE")  # background of the privacy warning; dark text on it stays above 15:1
PANEL = _hex("#F2F2F2")  # background of side panels; #111111 text on it: 17:1
SUCCESS = _hex("#1B5E20")  # white text on it: 9:1

CATEGORY_SP = 24
SMALL_SP = 20
CATEGORY_HEIGHT_DP = 150  # a category button: far above the 48dp minimum, hit while walking
TOGGLE_HEIGHT_DP = 56


def hex_colour(code: str) -> Colour:
    """A taxonomy colour ("#B3261E") as Kivy wants it; every category colour keeps white text above 4.5:1."""
    return _hex(code)
