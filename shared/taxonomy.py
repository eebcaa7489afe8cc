"""The observation taxonomy: categories and attributes with French and English labels.

Codes are stable across versions and are what both sides store; labels may change from one
version to the next. Each version lives in one JSON file under ``shared/data`` so that a
programme can keep the version it started with while a newer one is published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any, Literal

Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")
CURRENT_VERSION = "2026.1"


class UnknownTaxonomyVersionError(LookupError):
    """Raised when a programme names a taxonomy version this build does not ship."""


@dataclass(frozen=True)
class Label:
    fr: str
    en: str

    def __call__(self, language: Language = "fr") -> str:
        return self.fr if language == "fr" else self.en


@dataclass(frozen=True)
class Value:
    code: str
    label: Label


@dataclass(frozen=True)
class Category:
    code: str
    label: Label
    colour: str
    timed: bool
    archived: bool = False  # hidden from new visits; observations made with it stay valid
    help: Label | None = None  # shown on the tablet under the category's button


@dataclass(frozen=True)
class Mapping:
    """How codes of earlier versions count in this one: a merge (several → one) or a split (one → several).

    Aggregates follow merges (every ``old`` code counts as ``new[0]``); a split cannot divide old counts,
    so old rows keep their code and the mapping only documents where it went.
    """

    attribute: str  # "category" or an attribute code
    old: tuple[str, ...]
    new: tuple[str, ...]

    @property
    def is_merge(self) -> bool:
        return len(self.new) == 1


@dataclass(frozen=True)
class Attribute:
    code: str
    label: Label
    multiple: bool
    values: tuple[Value, ...]
    applies_to: tuple[str, ...] | None  # category codes; None means every category

    @cached_property
    def codes(self) -> frozenset[str]:
        # Cached: validation asks for it several times per observation, thousands of times per push.
        return frozenset(v.code for v in self.values)

    def label_of(self, code: str, language: Language = "fr") -> str:
        for value in self.values:
            if value.code == code:
                return value.label(language)
        raise KeyError(f"{self.code}: unknown code {code!r}")


@dataclass(frozen=True)
class Taxonomy:
    version: str
    description: Label
    categories: tuple[Category, ...]
    attributes: tuple[Attribute, ...]
    mappings: tuple[Mapping, ...] = ()

    @cached_property
    def active_categories(self) -> tuple[Category, ...]:
        """The categories a new visit offers (archived ones only keep old data valid)."""
        return tuple(c for c in self.categories if not c.archived)

    @cached_property
    def category_codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.categories)

    @cached_property
    def attribute_codes(self) -> frozenset[str]:
        return frozenset(a.code for a in self.attributes)

    @cached_property
    def _attributes_by_code(self) -> dict[str, Attribute]:
        return {a.code: a for a in self.attributes}

    def category(self, code: str) -> Category:
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(f"unknown category {code!r}")

    def attribute(self, code: str) -> Attribute:
        try:
            return self._attributes_by_code[code]
        except KeyError:
            raise KeyError(f"unknown attribute {code!r}") from None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form served to tablets and pages (same shape as the data file)."""
        return {
            "version": self.version,
            "description": {"fr": self.description.fr, "en": self.description.en},
            "categories": [_category_dict(c) for c in self.categories],
            "attributes": [
                {
                    "code": a.code,
                    "multiple": a.multiple,
                    **({"applies_to": list(a.applies_to)} if a.applies_to is not None else {}),
                    "fr": a.label.fr,
                    "en": a.label.en,
                    "values": [{"code": v.code, "fr": v.label.fr, "en": v.label.en} for v in a.values],
                }
                for a in self.attributes
            ],
            **(
                {
                    "mappings": [
                        {"attribute": m.attribute, "old": list(m.old), "new": list(m.new)}
                        for m in self.mappings
                    ]
                }
                if self.mappings
                else {}
            ),
        }


def _category_dict(category: Category) -> dict[str, Any]:
    extra: dict[str, Any] = {"archived": True} if category.archived else {}
    if category.help is not None:
        extra["help"] = {"fr": category.help.fr, "en": category.help.en}
    label = category.label
    return {
        "code": category.code,
        "colour": category.colour,
        "timed": category.timed,
        "fr": label.fr,
        "en": label.en,
        **extra,
    }


def _label(raw: dict[str, Any]) -> Label:
    return Label(fr=raw["fr"], en=raw["en"])


def parse_taxonomy(raw: dict[str, Any]) -> Taxonomy:
    """Build a taxonomy from its JSON form, refusing duplicate codes."""
    categories = tuple(
        Category(
            code=c["code"],
            label=_label(c),
            colour=c["colour"],
            timed=bool(c["timed"]),
            archived=bool(c.get("archived", False)),
            help=_label(c["help"]) if c.get("help") else None,
        )
        for c in raw["categories"]
    )
    attributes = tuple(
        Attribute(
            code=a["code"],
            label=_label(a),
            multiple=bool(a["multiple"]),
            values=tuple(Value(code=v["code"], label=_label(v)) for v in a["values"]),
            applies_to=tuple(a["applies_to"]) if "applies_to" in a else None,
        )
        for a in raw["attributes"]
    )
    _refuse_duplicates("category", [c.code for c in categories])
    _refuse_duplicates("attribute", [a.code for a in attributes])
    for attribute in attributes:
        _refuse_duplicates(attribute.code, [v.code for v in attribute.values])
    return Taxonomy(
        version=raw["version"],
        description=_label(raw["description"]),
        categories=categories,
        attributes=attributes,
        mappings=tuple(
            Mapping(attribute=m["attribute"], old=tuple(m["old"]), new=tuple(m["new"]))
            for m in raw.get("mappings", [])
        ),
    )


def _refuse_duplicates(what: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"duplicate {what} code {code!r} in taxonomy")
        seen.add(code)


def available_versions() -> list[str]:
    data = resources.files("shared") / "data"
    names = [p.name for p in data.iterdir() if p.name.startswith("taxonomy-") and p.name.endswith(".json")]
    return sorted(n.removeprefix("taxonomy-").removesuffix(".json") for n in names)


@cache
def load_taxonomy(version: str = CURRENT_VERSION) -> Taxonomy:
    path = resources.files("shared") / "data" / f"taxonomy-{version}.json"
    if not path.is_file():
        raise UnknownTaxonomyVersionError(
            f"taxonomy version {version!r} is not shipped (have {available_versions()})"
        )
    return parse_taxonomy(json.loads(path.read_text(encoding="utf-8")))


def current_taxonomy() -> Taxonomy:
    return load_taxonomy(CURRENT_VERSION)
