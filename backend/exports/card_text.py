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
    when = moment.strftime("%d/%m/%Y") if protected else moment.strftime("%d/%m/%Y, %H h %M")
    source = row.interruption_source and f"source : {row.interruption_source}"
    parts = (row.unit, SMALL_CELL_WHO if protected else row.role, row.tool, source, when)
    return " · ".join(part for part in parts if part)


def card_effect(row: ExportRow) -> str:
    """The effect, with its severity and what it had an impact on when they were given."""
    effect = row.effect or "effet non renseigné"
    if row.severity_label:
        effect += f" (gravité : {row.severity_label.lower()})"
    if row.impacts:
        effect += f" — impact sur : {row.impacts.lower()}"
    return effect
