"""What a workshop card says of its observation, in the workshop pack and on a workshop's deck: the
situation (where, who, with what tool, when) and the effect."""

from __future__ import annotations

from datetime import datetime

from backend.exports.rows import ExportRow

SMALL_CELL_WHO = "professionnel non précisé (petit effectif)"


def card_situation(row: ExportRow, protected: bool) -> str:
    """Unit, professional, tool, source of an interruption and time; in a small cell the professional and the
    hour would single someone out, so neither is given (the day only)."""
    moment = datetime.fromisoformat(row.occurred_at)
    # No-break spaces inside the time: « 09 h 30 » is never split across two lines.
    when = moment.strftime("%d/%m/%Y") if protected else moment.strftime("%d/%m/%Y, %H\u00a0h\u00a0%M")
    source = row.interruption_source and f"source : {row.interruption_source}"
    parts = (row.unit, SMALL_CELL_WHO if protected else row.role, row.tool, source, when)
    return " · ".join(part for part in parts if part)


def card_effect(row: ExportRow) -> str:
    """The effect, its severity and what it had an impact on; what was not filled in is left out rather
    than printed as « non renseigné » (empty when nothing was)."""
    parts = (
        row.effect,
        row.severity_label and f"gravité : {row.severity_label.lower()}",
        row.impacts and f"impact sur : {row.impacts.lower()}",
    )
    return " — ".join(part for part in parts if part)
