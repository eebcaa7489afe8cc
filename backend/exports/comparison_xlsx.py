"""A comparison (before/after a milestone, two periods, two structures) as a spreadsheet for a workshop:
one row per category and attribute value with both rates, their intervals, the rate ratio, its interval,
whether the data support a difference and the plain-French reading; a sheet says what was compared."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter

from backend.dashboards.rate_comparison import ComparedRate, RateComparison, Side

COMPARISON_SHEET = "Comparaison"
ABOUT_SHEET = "À propos"
HEADERS = [
    "Attribut",
    "Valeur",
    "Nombre (réf.)",
    "Par heure (réf.)",
    "IC bas (réf.)",
    "IC haut (réf.)",
    "Nombre (comp.)",
    "Par heure (comp.)",
    "IC bas (comp.)",
    "IC haut (comp.)",
    "Rapport des taux",
    "IC bas",
    "IC haut",
    "Différence établie",
    "Lecture",
]


def _values(row: ComparedRate) -> list[object]:
    reference, compared, ratio = row.reference, row.compared, row.ratio
    return [
        row.attribute_label if row.attribute != "all" else "Ensemble",
        row.label,
        reference.count,
        reference.per_hour,
        reference.low,
        reference.high,
        compared.count,
        compared.per_hour,
        compared.low,
        compared.high,
        ratio.ratio,
        ratio.low,
        ratio.high,
        "oui" if ratio.supported else "non",
        row.reading,
    ]


def _side_lines(role: str, side: Side) -> list[tuple[str, str]]:
    days = f"du {side.date_from.strftime('%d/%m/%Y') if side.date_from else '…'} au " + (
        side.date_to.strftime("%d/%m/%Y") if side.date_to else "…"
    )
    return [
        (role, f"{side.label} — {side.structure_name}, {days}"),
        (
            f"{role} : temps observé",
            f"{side.visits} visite(s), {side.observed_hours:.1f} h, {side.observations} observation(s)",
        ),
    ]


def comparison_workbook(comparison: RateComparison) -> bytes:
    buffer = io.BytesIO()
    options = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(buffer, {**options, "in_memory": True})
    try:
        bold = workbook.add_format({"bold": True})
        add_comparison_sheet(workbook, COMPARISON_SHEET, comparison, bold)
        about = workbook.add_worksheet(ABOUT_SHEET)
        about.set_column(0, 0, 30)
        about.set_column(1, 1, 100)
        lines = [
            ("Comparaison", "deux périodes" if comparison.kind == "periods" else "deux structures"),
            *(
                [("Jalon", f"{comparison.milestone.day.strftime('%d/%m/%Y')} — {comparison.milestone.label}")]
                if comparison.milestone
                else []
            ),
            *_side_lines("Référence", comparison.reference),
            *_side_lines("Comparée", comparison.compared),
            ("Taux", "événements par heure observée ; intervalle exact de Poisson à 95 %"),
            ("Rapport", "taux comparé / taux de référence ; intervalle exact conditionnel (binomial) à 95 %"),
            (
                "Différence établie",
                "non : l'intervalle du rapport contient 1, les données ne permettent pas de conclure",
            ),
        ]
        for index, (label, value) in enumerate(lines):
            about.write_string(index, 0, label, bold)
            about.write_string(index, 1, value)
    finally:
        workbook.close()
    return buffer.getvalue()


def add_comparison_sheet(workbook: Any, name: str, comparison: RateComparison, bold: Any) -> None:
    """One row per category and attribute value (the whole first), in a sheet of its own."""
    number = workbook.add_format({"num_format": "0.00"})
    sheet = workbook.add_worksheet(name)
    sheet.set_column(0, 1, 28)
    sheet.set_column(2, 13, 13)
    sheet.set_column(14, 14, 90)
    for column, title in enumerate(HEADERS):
        sheet.write_string(0, column, title, bold)
    for index, row in enumerate([comparison.overall, *comparison.rows], start=1):
        for column, value in enumerate(_values(row)):
            _write(sheet, index, column, value, number)


def _write(sheet: Any, row: int, column: int, value: object, number: Any) -> None:
    if value is None:
        sheet.write_blank(row, column, None)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        sheet.write_number(row, column, value, number if isinstance(value, float) else None)
    else:
        sheet.write_string(row, column, str(value))
