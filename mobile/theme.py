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
