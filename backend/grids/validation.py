"""Checks of a grid document as the editor and ``vigie grid import`` produce it.

Every problem names its place in the document ("categories[3].fr") and says in French what to fix.
The checks that need data (a deleted code still in use) are in ``service.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from shared.messages import FieldError, message
from shared.schema import ATTRIBUTE_FIELDS, CODE_MAX_LENGTH
from shared.taxonomy import current_taxonomy

CODE_PATTERN = re.compile(r"^[a-z0-9_]+$")
COLOUR_PATTERN = re.compile(r"^#[0-9A-Fa-f]{6}$")
SEVERITY_CODES = {"1", "2", "3"}
# Whether each of the record's own attributes takes several values is fixed by the record's shape
# (shared.schema), which the shipped grid follows (tests/shared/test_taxonomy.py). The attributes a
# programme adds (captured in ``grid_attributes``) choose for themselves.
MULTIPLE = {attribute.code: attribute.multiple for attribute in current_taxonomy().attributes}
# Mappings name "category" as what they map: no attribute may take that code.
RESERVED_ATTRIBUTE_CODES = frozenset({"category"})


def _problem(place: str, error: str, /, **context: Any) -> FieldError:
    return FieldError(field=place, code=error, message=message(error, **context))


def grid_problems(document: Any) -> list[FieldError]:
    """Every problem of the document, in document order; empty when it can be published."""
    if not isinstance(document, dict):
        return [_problem("", "grid_not_an_object")]
    problems: list[FieldError] = []
    problems += _field(document, "", "categories", list)
    problems += _field(document, "", "attributes", list)
    if problems:
        return problems
    problems += _labels(document.get("description"), "description", required=False)
    categories = [c for c in document["categories"] if isinstance(c, dict)]
    problems += _categories(document["categories"])
    category_codes = {c.get("code") for c in categories}
    active = {c.get("code") for c in categories if not c.get("archived")}
    if categories and not active:
        problems.append(_problem("categories", "grid_no_active_category"))
    problems += _attributes(document["attributes"], category_codes, active)
    problems += _mappings(document.get("mappings", []), document)
    return problems


def _field(item: dict[str, Any], place: str, name: str, kind: type) -> list[FieldError]:
    if isinstance(item.get(name), kind) and not (kind is int and isinstance(item.get(name), bool)):
        return []
    expected = {list: "liste", str: "texte", bool: "vrai/faux", dict: "objet"}.get(kind, kind.__name__)
    return [
        _problem(f"{place}.{name}" if place else name, "grid_missing_field", name=name, expected=expected)
    ]


def _labels(item: Any, place: str, required: bool = True) -> list[FieldError]:
    if item is None and not required:
        return []
    if not isinstance(item, dict) or not str(item.get("fr") or "").strip():
        return [_problem(f"{place}.fr", "grid_missing_french_label")]
    return _field(item, place, "en", str) if "en" in item else []


def _code(item: dict[str, Any], place: str, seen: dict[str, str]) -> list[FieldError]:
    code = item.get("code")
    if not isinstance(code, str) or not CODE_PATTERN.match(code) or len(code) > CODE_MAX_LENGTH:
        return [_problem(f"{place}.code", "grid_bad_code", code=code, max_length=CODE_MAX_LENGTH)]
    if code in seen:
        return [_problem(f"{place}.code", "grid_duplicate_code", code=code, first=seen[code])]
    seen[code] = place
    return []


def _objects(
    items: list[Any], prefix: str, problems: list[FieldError]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each item that is an object, with its place; the others are reported in ``problems``."""
    for index, item in enumerate(items):
        place = f"{prefix}[{index}]"
        if isinstance(item, dict):
            yield place, item
        else:
            problems.append(_problem(place, "grid_not_an_object"))


def _categories(categories: list[Any]) -> list[FieldError]:
    problems: list[FieldError] = []
    seen: dict[str, str] = {}
    for place, category in _objects(categories, "categories", problems):
        problems += _code(category, place, seen)
        problems += _labels(category, place)
        problems += _field(category, place, "timed", bool)
        colour = category.get("colour")
        if not isinstance(colour, str) or not COLOUR_PATTERN.match(colour):
            problems.append(_problem(f"{place}.colour", "grid_bad_colour", colour=colour))
        if category.get("help") is not None:
            problems += _labels(category["help"], f"{place}.help")
    return problems


def _attributes(attributes: list[Any], categories: set[Any], active: set[Any]) -> list[FieldError]:
    problems: list[FieldError] = []
    found = [a.get("code") for a in attributes if isinstance(a, dict)]
    if missing := sorted(set(ATTRIBUTE_FIELDS) - set(map(str, found))):
        expected = ", ".join(sorted(ATTRIBUTE_FIELDS))
        problems.append(
            _problem("attributes", "grid_attribute_set", expected=expected, found=", ".join(missing))
        )
    seen: dict[str, str] = {}
    for place, attribute in _objects(attributes, "attributes", problems):
        problems += _code(attribute, place, seen)
        problems += _labels(attribute, place)
        problems += _attribute_shape(attribute, place)
        problems += _values(attribute, place)
        problems += _applies_to(attribute, place, categories, active)
    return problems


def _attribute_shape(attribute: dict[str, Any], place: str) -> list[FieldError]:
    code = attribute.get("code")
    if code in RESERVED_ATTRIBUTE_CODES:
        return [_problem(f"{place}.code", "grid_reserved_code", code=code)]
    if code not in MULTIPLE:
        return _field(attribute, place, "multiple", bool)
    if code in MULTIPLE and attribute.get("multiple") is not MULTIPLE[code]:
        kind = "à choix multiple" if MULTIPLE[code] else "à choix unique"
        return [_problem(f"{place}.multiple", "grid_multiple_fixed", attribute=code, kind=kind)]
    return []


def _values(attribute: dict[str, Any], place: str) -> list[FieldError]:
    values = attribute.get("values")
    if not isinstance(values, list):
        return _field(attribute, place, "values", list)
    if not values:
        return [_problem(f"{place}.values", "grid_no_values", attribute=attribute.get("code"))]
    problems: list[FieldError] = []
    seen: dict[str, str] = {}
    for value_place, value in _objects(values, f"{place}.values", problems):
        problems += _code(value, value_place, seen)
        problems += _labels(value, value_place)
        if attribute.get("code") == "severity" and value.get("code") not in SEVERITY_CODES:
            problems.append(_problem(f"{value_place}.code", "grid_bad_severity", code=value.get("code")))
    return problems


def _applies_to(
    attribute: dict[str, Any], place: str, categories: set[Any], active: set[Any]
) -> list[FieldError]:
    if "applies_to" not in attribute:
        return []
    applies_to = attribute["applies_to"]
    if not isinstance(applies_to, list):
        return _field(attribute, place, "applies_to", list)
    problems = [
        _problem(f"{place}.applies_to[{index}]", "grid_unknown_category", code=code)
        for index, code in enumerate(applies_to)
        if code not in categories
    ]
    if not set(applies_to) & active:
        problems.append(
            _problem(f"{place}.applies_to", "grid_value_used_by_no_category", attribute=attribute.get("code"))
        )
    return problems


def _mappings(mappings: Any, document: dict[str, Any]) -> list[FieldError]:
    if not isinstance(mappings, list):
        return [_problem("mappings", "grid_missing_field", name="mappings", expected="liste")]
    problems: list[FieldError] = []
    for place, mapping in _objects(mappings, "mappings", problems):
        problems += _field(mapping, place, "attribute", str) + _field(mapping, place, "old", list)
        problems += _field(mapping, place, "new", list)
        attribute = mapping.get("attribute")
        old, new = mapping.get("old") or [], mapping.get("new") or []
        if isinstance(old, list) and isinstance(new, list) and len(new) > 1:
            # A code means the same in every version: a split gives new codes, the old one stays the old.
            problems += [
                _problem(f"{place}.new", "grid_split_keeps_code", code=code) for code in old if code in new
            ]
        known = _codes_of(document, attribute)
        for code_index, code in enumerate(mapping.get("new") or []):
            if code not in known:
                problems.append(
                    _problem(
                        f"{place}.new[{code_index}]",
                        "grid_unknown_mapping_code",
                        code=code,
                        attribute=attribute,
                    )
                )
    return problems


def _codes_of(document: dict[str, Any], attribute: Any) -> set[Any]:
    if attribute == "category":
        return {c.get("code") for c in document["categories"] if isinstance(c, dict)}
    for item in document["attributes"]:
        if isinstance(item, dict) and item.get("code") == attribute and isinstance(item.get("values"), list):
            return {v.get("code") for v in item["values"] if isinstance(v, dict)}
    return set()
