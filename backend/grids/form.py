"""The grid editor's form, field by field, turned back into a grid document (and the names it uses).

The editor posts one row per category (``category-3-fr``), per value (``value-tool-2-fr``), one checkbox per
cell of the exclusion matrix (``applies-tool-paper``) and empty rows to add a category or a value: a row
left empty adds nothing. Codes of existing rows are fixed (renaming changes a label, never a code).
The attributes are listed in ``attribute-codes``; the « Ajouter un attribut » block (``new-attribute-*``,
its values ``new-value-2-fr``, its categories ``new-applies-paper``) adds one of the programme's own, whose
single or multiple choice stays editable (``attribute-mood-multiple``), and which may be removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.schema import ATTRIBUTE_FIELDS

LABELS = ("fr", "en")
# The record's own attributes: always there, single or multiple as the record's fields are.
FIXED = frozenset(ATTRIBUTE_FIELDS)


def _text(form: Mapping[str, str], name: str) -> str:
    return " ".join(str(form.get(name, "")).split())


def _ticked(form: Mapping[str, str], name: str) -> bool:
    return name in form


def _labels(form: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {language: _text(form, f"{prefix}-{language}") for language in LABELS}


def _rows(form: Mapping[str, str], prefix: str) -> list[str]:
    """The row prefixes of a repeated group (``category-0``, ``category-1`` …), in the order posted."""
    count = int(_text(form, f"{prefix}-count") or 0) if _text(form, f"{prefix}-count").isdigit() else 0
    rows = [f"{prefix}-{index}" for index in range(min(count, 500))]
    return [row for row in rows if _text(form, f"{row}-code") or _text(form, f"{row}-fr")]


def document_from_form(form: Mapping[str, str], previous: dict[str, Any]) -> dict[str, Any]:
    """The document the editor's form describes; what the form cannot change is kept from ``previous``."""
    categories = []
    # « Ordre » numbers the buttons on the tablet: rows are sorted by it (ties and blanks keep their place).
    numbered = sorted(enumerate(_rows(form, "category")), key=lambda item: _order(form, item[1], item[0]))
    for _position, row in numbered:
        category: dict[str, Any] = {
            "code": _text(form, f"{row}-code"),
            "colour": _text(form, f"{row}-colour"),
            "timed": _ticked(form, f"{row}-timed"),
            **_labels(form, row),
        }
        if _ticked(form, f"{row}-archived"):
            category["archived"] = True
        help_text = _labels(form, f"{row}-help")
        if any(help_text.values()):
            category["help"] = help_text
        categories.append(category)
    codes = [c["code"] for c in categories]
    attributes = []
    before = {str(a["code"]): a for a in previous.get("attributes", [])}
    posted = _codes(form, "attribute-codes") if "attribute-codes" in form else list(before)
    for code in posted:
        # Not in the draft yet: added by a form that was refused, and shown again as posted.
        attribute = before.get(code, {"code": code, "multiple": False})
        if code not in FIXED and _ticked(form, f"attribute-{code}-remove"):
            continue
        values = [
            {"code": _text(form, f"{row}-code"), **_labels(form, row)} for row in _rows(form, f"value-{code}")
        ]
        multiple = (
            attribute["multiple"] if code in FIXED else _text(form, f"attribute-{code}-multiple") == "1"
        )
        edited: dict[str, Any] = {
            "code": code,
            "multiple": multiple,
            **_labels(form, f"attribute-{code}"),
        }
        # A category added by this form has no column in the matrix yet: it gets what "every category" gave.
        applies = [
            c
            for c in codes
            if _ticked(form, f"applies-{code}-{c}")
            or (not _ticked(form, f"matrix-{c}") and "applies_to" not in attribute)
        ]
        if applies != codes:
            edited["applies_to"] = applies  # the exclusion matrix; every box ticked means "all categories"
        attributes.append({**edited, "values": values})
    if added := _new_attribute(form, codes):
        attributes.append(added)
    document = {**previous, "categories": categories, "attributes": attributes}
    document["description"] = _labels(form, "description")
    document.pop("mappings", None)
    if mappings := _mappings(form):
        document["mappings"] = mappings
    return document


def _new_attribute(form: Mapping[str, str], categories: list[str]) -> dict[str, Any] | None:
    """The attribute the « Ajouter un attribut » block describes; None when it is left empty."""
    code = _text(form, "new-attribute-code")
    labels = _labels(form, "new-attribute")
    values = [{"code": _text(form, f"{row}-code"), **_labels(form, row)} for row in _rows(form, "new-value")]
    if not code and not any(labels.values()) and not values:
        return None
    attribute: dict[str, Any] = {
        "code": code,
        "multiple": _text(form, "new-attribute-multiple") == "1",
        **labels,
    }
    applies = [c for c in categories if _ticked(form, f"new-applies-{c}")]
    if applies != categories:
        attribute["applies_to"] = applies
    return {**attribute, "values": values}


def _order(form: Mapping[str, str], row: str, position: int) -> tuple[float, int]:
    try:
        return float(_text(form, f"{row}-order").replace(",", ".")), position
    except ValueError:
        return float(position + 1), position


def _codes(form: Mapping[str, str], name: str) -> list[str]:
    return [code for code in _text(form, name).replace(",", " ").split() if code]


def _mappings(form: Mapping[str, str]) -> list[dict[str, Any]]:
    """Merges (several old codes → one) and splits (one → several), one row each."""
    count = _text(form, "mapping-count")
    mappings = []
    for index in range(min(int(count), 100) if count.isdigit() else 0):
        row = f"mapping-{index}"
        old, new = _codes(form, f"{row}-old"), _codes(form, f"{row}-new")
        if old or new:
            mappings.append(
                {"attribute": _text(form, f"{row}-attribute") or "category", "old": old, "new": new}
            )
    return mappings


def field_name(place: str, document: dict[str, Any]) -> str:
    """The form field of a problem's place in the document (``attributes[1].values[2].fr`` →
    ``value-tool-2-fr``), so that the problem links to it; the place itself when no field matches."""
    parts = place.replace("]", "").replace("[", ".").split(".")
    if parts[0] == "categories" and len(parts) >= 3:
        return "-".join(["category", *parts[1:]])
    if parts[0] == "attributes" and len(parts) >= 2 and parts[1].isdigit():
        attributes = document.get("attributes", [])
        index = int(parts[1])
        code = attributes[index].get("code") if index < len(attributes) else parts[1]
        if len(parts) >= 5 and parts[2] == "values":
            return f"value-{code}-{parts[3]}-{parts[4]}"
        return f"attribute-{code}-{parts[2]}" if len(parts) >= 3 else f"attribute-{code}-fr"
    if parts[0] == "mappings" and len(parts) >= 3:
        return f"mapping-{parts[1]}-{parts[2]}"
    return place
