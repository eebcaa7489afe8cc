"""A grid as a spreadsheet a team can prepare, laid out like XLSForm: a ``survey`` sheet with one row per
attribute (``select_one role``, the categories it applies to) and a ``choices`` sheet with one row per
category (list ``category``) and per value (list named after its attribute), labels in
``label::Français (fr)`` and ``label::English (en)`` columns; merges in a ``mappings`` sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter
from openpyxl import load_workbook

from shared.messages import FieldError, message

FR, EN = "label::Français (fr)", "label::English (en)"
HINT_FR, HINT_EN = "hint::Français (fr)", "hint::English (en)"
SURVEY = ("type", "name", FR, EN, "categories")
CHOICES = ("list_name", "name", FR, EN, "colour", "timed", "archived", HINT_FR, HINT_EN)
MAPPINGS = ("attribute", "old", "new")
SETTINGS = ("form_title", "form_title_en", "version")


def write_grid_xlsx(document: dict[str, Any], out: BinaryIO | Path) -> None:
    workbook = xlsxwriter.Workbook(out, {"strings_to_numbers": False})
    bold = workbook.add_format({"bold": True})
    survey = [
        (
            f"{'select_multiple' if a['multiple'] else 'select_one'} {a['code']}",
            a["code"],
            a["fr"],
            a.get("en", ""),
            " ".join(a["applies_to"]) if "applies_to" in a else "",
        )
        for a in document["attributes"]
    ]
    choices: list[tuple[str, ...]] = [
        (
            "category",
            c["code"],
            c["fr"],
            c.get("en", ""),
            c["colour"],
            "yes" if c["timed"] else "no",
            "yes" if c.get("archived") else "",
            (c.get("help") or {}).get("fr", ""),
            (c.get("help") or {}).get("en", ""),
        )
        for c in document["categories"]
    ]
    choices += [
        (a["code"], v["code"], v["fr"], v.get("en", "")) for a in document["attributes"] for v in a["values"]
    ]
    mappings = [
        (m["attribute"], " ".join(m["old"]), " ".join(m["new"])) for m in document.get("mappings", [])
    ]
    description = document.get("description") or {}
    settings = [(description.get("fr", ""), description.get("en", ""), document.get("version", ""))]
    for name, header, rows in (
        ("survey", SURVEY, survey),
        ("choices", CHOICES, choices),
        ("mappings", MAPPINGS, mappings),
        ("settings", SETTINGS, settings),
    ):
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, header, bold)
        for number, row in enumerate(rows, start=1):
            sheet.write_row(number, 0, [str(value) for value in row])
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, len(header) - 1, 22)
    workbook.close()


def read_grid_xlsx(path: Path) -> tuple[dict[str, Any], list[FieldError], dict[str, str]]:
    """The grid document a spreadsheet describes, the problems of its layout, and where each part of the
    document comes from (``categories[2]`` → ``choices, ligne 4``) so that problems name the row."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    sheets = {name: _rows(workbook[name]) for name in workbook.sheetnames}
    problems = [
        FieldError(field=name, code="grid_missing_sheet", message=message("grid_missing_sheet", sheet=name))
        for name in ("survey", "choices")
        if name not in sheets
    ]
    if problems:
        return {}, problems, {}
    places: dict[str, str] = {}
    categories: list[dict[str, Any]] = []
    values: dict[str, list[dict[str, Any]]] = {}
    value_lines: dict[str, list[int]] = {}
    for row in sheets["choices"]:
        line = int(row["#"])
        if row.get("list_name") == "category":
            places[f"categories[{len(categories)}]"] = f"choices, ligne {line}"
            category: dict[str, Any] = {
                "code": row.get("name", ""),
                "colour": row.get("colour", ""),
                "timed": _yes(row.get("timed")),
                "fr": row.get(FR, ""),
                "en": row.get(EN, ""),
            }
            if _yes(row.get("archived")):
                category["archived"] = True
            if row.get(HINT_FR) or row.get(HINT_EN):
                category["help"] = {"fr": row.get(HINT_FR, ""), "en": row.get(HINT_EN, "")}
            categories.append(category)
        elif row.get("list_name"):
            value_lines.setdefault(row["list_name"], []).append(line)
            values.setdefault(row["list_name"], []).append(
                {"code": row.get("name", ""), "fr": row.get(FR, ""), "en": row.get(EN, "")}
            )
    attributes: list[dict[str, Any]] = []
    for row in sheets["survey"]:
        places[f"attributes[{len(attributes)}]"] = f"survey, ligne {row['#']}"
        for index, line in enumerate(value_lines.get(row.get("name", ""), [])):
            places[f"attributes[{len(attributes)}].values[{index}]"] = f"choices, ligne {line}"
        kind, _, _list = row.get("type", "").partition(" ")
        attribute: dict[str, Any] = {
            "code": row.get("name", ""),
            "multiple": kind == "select_multiple",
            "fr": row.get(FR, ""),
            "en": row.get(EN, ""),
        }
        if row.get("categories"):
            attribute["applies_to"] = row["categories"].split()
        attributes.append({**attribute, "values": values.get(attribute["code"], [])})
    document: dict[str, Any] = {"categories": categories, "attributes": attributes}
    settings = sheets.get("settings") or [{}]
    document["description"] = {
        "fr": settings[0].get("form_title", ""),
        "en": settings[0].get("form_title_en", ""),
    }
    if settings[0].get("version"):
        document["version"] = settings[0][
            "version"
        ]  # for information: a version's number is given at publishing
    mappings = [
        {
            "attribute": m.get("attribute", ""),
            "old": m.get("old", "").split(),
            "new": m.get("new", "").split(),
        }
        for m in sheets.get("mappings", [])
    ]
    if mappings:
        document["mappings"] = mappings
    return document, [], places


def _rows(sheet: Any) -> list[dict[str, str]]:
    """Each non-empty row below the header, as text by column name, with its line number under ``#``."""
    lines = [
        ["" if cell is None else str(cell).strip() for cell in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    if not lines:
        return []
    header = lines[0]
    return [
        {**dict(zip(header, line, strict=False)), "#": str(number)}
        for number, line in enumerate(lines[1:], start=2)
        if any(line)
    ]


def in_sheet(place: str, places: dict[str, str]) -> str:
    """A problem's place in the document said as the spreadsheet's row (``choices, ligne 4 (fr)``)."""
    for prefix in sorted(places, key=len, reverse=True):
        if place == prefix or place.startswith(prefix + "."):
            rest = place[len(prefix) + 1 :]
            return places[prefix] + (f" ({rest})" if rest else "")
    return place


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("yes", "oui", "true", "vrai", "1", "x")
