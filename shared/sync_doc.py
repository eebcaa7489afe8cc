"""The generated parts of docs/sync.md: every field of every message and record, every result code.

Written from the models themselves so the specification cannot drift from the code: a test checks that
docs/sync.md holds exactly what this renders. After changing a model, run ``python -m shared.sync_doc``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from shared import schema
from shared import sync as messages
from shared.sync import RESULT_CODES, PushResponse

DOC = Path(__file__).resolve().parent.parent / "docs" / "sync.md"

# (heading, model, fields left out because an ancestor's table lists them)
TABLES: list[tuple[str, type[BaseModel], set[str]]] = [
    ('Visit (`entity: "visit"`)', schema.Visit, set()),
    ('Observation (`entity: "observation"`)', schema.Observation, set()),
    ("EnrolRequest", messages.EnrolRequest, set()),
    ("EnrolResponse", messages.EnrolResponse, set()),
    ("PushRequest", messages.PushRequest, set()),
    ("Mutation", messages.Mutation, set()),
    ("PushResponse", PushResponse, set()),
    ("MutationResult", messages.MutationResult, set()),
    ("ClockWarning", messages.ClockWarning, set()),
    ("PullResponse", messages.PullResponse, set()),
    ("GridData", messages.GridData, set()),
    ("StructureData", messages.StructureData, set()),
    ("UnitData", messages.UnitData, set()),
    ("PulledVisit: a Visit and", messages.PulledVisit, set(schema.Visit.model_fields)),
    (
        "PulledObservation: an Observation and",
        messages.PulledObservation,
        set(schema.Observation.model_fields),
    ),
    ("ReviewCommentData", messages.ReviewCommentData, set()),
]
BEGIN, END = "<!-- generated: {name} -->", "<!-- end generated: {name} -->"


def _type(spec: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        target = definitions.get(name, {})
        return " \\| ".join(f"`{v}`" for v in target["enum"]) if "enum" in target else name
    if "anyOf" in spec:
        return " or ".join(_type(option, definitions) for option in spec["anyOf"])
    if "const" in spec:
        return f'`"{spec["const"]}"`'
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}), definitions)}"
    if kind == "object":
        return "object"
    formats = {"uuid": "UUID string", "date-time": "date-time string with offset"}
    return str(formats.get(spec.get("format", ""), kind))


def _limits(spec: dict[str, Any]) -> str:
    found: list[str] = []
    for option in [spec, *spec.get("anyOf", [])]:
        for key, text in (
            ("minLength", "≥ {} chars"),
            ("maxLength", "≤ {} chars"),
            ("minimum", "≥ {}"),
            ("exclusiveMinimum", "> {}"),
            ("maximum", "≤ {}"),
            ("maxItems", "≤ {} items"),
        ):
            if key in option:
                found.append(text.format(option[key]))
        if "items" in option:
            found += [f"each {limit}" for limit in _limits(option["items"]).split(", ") if limit]
    return ", ".join(found)


def fields_table(model: type[BaseModel], skip: set[str]) -> str:
    """One row per field: name, JSON type, required or its default, limits, meaning."""
    spec = model.model_json_schema()
    definitions = spec.get("$defs", {})
    required = set(spec.get("required", []))
    rows = ["| field | type | required | limits | meaning |", "| --- | --- | --- | --- | --- |"]
    for name, field in spec["properties"].items():
        if name in skip:
            continue
        needed = "yes" if name in required else f"no (default `{_default(field)}`)"
        meaning = field.get("description", "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{name}` | {_type(field, definitions)} | {needed} | {_limits(field)} | {meaning} |")
    return "\n".join(rows)


def _default(field: dict[str, Any]) -> str:
    if "default" in field:
        return json.dumps(field["default"], ensure_ascii=False)
    return "[]" if field.get("type") == "array" else "null"  # a default_factory is not in the schema


def codes_table() -> str:
    rows = ["| code | status | retryable | meaning |", "| --- | --- | --- | --- |"]
    for code, meaning in RESULT_CODES.items():
        retry = "yes" if meaning.retryable else "no"
        rows.append(f"| `{code}` | `{meaning.status.value}` | {retry} | {meaning.meaning} |")
    return "\n".join(rows)


def generated_blocks() -> dict[str, str]:
    blocks = {"result-codes": codes_table()}
    blocks["fields"] = "\n\n".join(
        f"#### {heading}\n\n{fields_table(model, skip)}" for heading, model, skip in TABLES
    )
    return blocks


def render(document: str) -> str:
    """``document`` with every generated block replaced by what the models say today."""
    for name, body in generated_blocks().items():
        document = _replace_block(document, name, body)
    return document


def _replace_block(document: str, name: str, body: str) -> str:
    begin, end = BEGIN.format(name=name), END.format(name=name)
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(document):
        raise ValueError(f"docs/sync.md has no block {begin} … {end}")
    block = f"{begin}\n{body}\n{end}"
    return pattern.sub(lambda _match: block, document)


if __name__ == "__main__":
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"{DOC} regenerated\n")
