"""How codes are named, coloured and counted across a programme's grid versions: labels of every version,
merges followed to today's codes, and the tools list the de-identification keeps."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from backend.grids.versions import current_taxonomy_of, published_documents
from backend.review.filters import UNSET, UNSET_LABEL
from shared.taxonomy import Taxonomy, current_taxonomy


def grid_labels(session: Session, programme_id: int) -> dict[str, dict[str, str]]:
    """French labels by attribute and code of every code the programme's versions ever had (the newest
    label of each), so that rows captured with an older version read as well as new ones."""
    labels: dict[str, dict[str, str]] = {"category": {}}
    for document in published_documents(session, programme_id):
        labels["category"].update({str(c["code"]): str(c["fr"]) for c in document["categories"]})
        for attribute in document["attributes"]:
            values = {str(v["code"]): str(v["fr"]) for v in attribute["values"]}
            labels.setdefault(str(attribute["code"]), {}).update(values)
    return labels


def attribute_names(session: Session, programme_id: int) -> dict[str, str]:
    """French names of the attributes the programme's versions ever had (the newest name of each)."""
    names: dict[str, str] = {}
    for document in published_documents(session, programme_id):
        names.update({str(a["code"]): str(a["fr"]) for a in document["attributes"]})
    return names


UNKNOWN_COLOUR = "#546E7A"


@dataclass(frozen=True)
class GridTerms:
    """How pages name and colour codes for a reader: every version of the grids of the programmes they
    read, and the current grid (of their one programme) for the filters' choices."""

    labels: dict[str, dict[str, str]]
    colours: dict[str, str]
    taxonomy: Taxonomy
    names: dict[str, str] = field(default_factory=dict)  # attribute code -> its French name

    def attribute_name(self, attribute: str) -> str:
        return self.names.get(attribute, attribute)

    def label(self, attribute: str, code: object) -> str:
        """The French label of a code; unknown codes are shown as they are, none as a dash."""
        if code is None or code == "":
            return "—"
        if code == UNSET and attribute != "category":  # a filter on « nothing recorded »
            return UNSET_LABEL
        return self.labels.get(attribute, {}).get(str(code), str(code))

    def colour(self, code: str) -> str:
        return self.colours.get(code, UNKNOWN_COLOUR)


def grid_colours(session: Session, programme_ids: Collection[int]) -> dict[str, str]:
    """The colour of every category the programmes' published grid versions ever had (the newest colour of
    each): pages, charts and the printed workshop material colour categories as the programme chose."""
    colours: dict[str, str] = {}
    for programme_id in sorted(programme_ids):
        for document in published_documents(session, programme_id):
            colours.update({str(c["code"]): str(c["colour"]) for c in document["categories"]})
    return colours


def grid_terms(session: Session, programme_ids: Collection[int]) -> GridTerms:
    labels: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    for programme_id in sorted(programme_ids):
        for attribute, by_code in grid_labels(session, programme_id).items():
            labels.setdefault(attribute, {}).update(by_code)
        names.update(attribute_names(session, programme_id))
    colours = grid_colours(session, programme_ids)
    one = len(programme_ids) == 1
    taxonomy = current_taxonomy_of(session, next(iter(programme_ids))) if one else current_taxonomy()
    return GridTerms(labels=labels, colours=colours, taxonomy=taxonomy, names=names)


def code_merges(session: Session, programme_id: int) -> dict[str, dict[str, str]]:
    """By attribute, what each merged code of an earlier version counts as today (merges followed through
    every later version: a → b in version 2 then b → c in version 3 makes a count as c)."""
    merges: dict[str, dict[str, str]] = {}
    for document in published_documents(session, programme_id):
        for mapping in document.get("mappings", []):
            if len(mapping["new"]) != 1:
                continue  # a split cannot divide old counts: old rows keep their code
            target = str(mapping["new"][0])
            by_code = merges.setdefault(str(mapping["attribute"]), {})
            for old, new in list(by_code.items()):
                if new in mapping["old"]:
                    by_code[old] = target
            by_code.update({str(old): target for old in mapping["old"] if old != target})
    return merges


SPLIT_SUFFIX = " (avant scission, non ventilé)"


def code_splits(session: Session, programme_id: int) -> dict[str, dict[str, str]]:
    """By attribute, each code a later version split into several, with how aggregates name its rows:
    « Papier / impression (avant scission, non ventilé) ».

    A split cannot divide old counts (nobody knows which new code each old observation was), and a code
    means the same in every version: the old code's observations stay a row of their own beside the new
    codes, never shared out between them nor rolled up with them (docs/grids.md)."""
    labels = grid_labels(session, programme_id)
    splits: dict[str, dict[str, str]] = {}
    for document in published_documents(session, programme_id):
        for mapping in document.get("mappings", []):
            if len(mapping["new"]) < 2 or len(mapping["old"]) != 1:
                continue
            attribute, old = str(mapping["attribute"]), str(mapping["old"][0])
            name = labels.get(attribute, {}).get(old, old)
            splits.setdefault(attribute, {})[old] = name + SPLIT_SUFFIX
    return splits


def split_targets(session: Session, programme_id: int) -> dict[str, dict[str, tuple[str, ...]]]:
    """By attribute, each code a later version split and the codes it was split into (each followed
    through later merges): what a comparison across the split rolls up into the old code."""
    merges = code_merges(session, programme_id)
    targets: dict[str, dict[str, tuple[str, ...]]] = {}
    for document in published_documents(session, programme_id):
        for mapping in document.get("mappings", []):
            if len(mapping["new"]) < 2 or len(mapping["old"]) != 1:
                continue
            attribute = str(mapping["attribute"])
            merged = merges.get(attribute, {})
            new = tuple(dict.fromkeys(merged.get(str(code), str(code)) for code in mapping["new"]))
            targets.setdefault(attribute, {})[str(mapping["old"][0])] = new
    return targets


def tool_names(document: dict[str, Any]) -> list[str]:
    """The tools list's French names: local software the de-identification must never mask."""
    for attribute in document.get("attributes", []):
        if attribute.get("code") == "tool":
            return [str(v["fr"]) for v in attribute.get("values", []) if v.get("fr")]
    return []
