from __future__ import annotations

import copy

import pytest

from shared.schema import ATTRIBUTE_FIELDS, Observation
from shared.taxonomy import (
    CURRENT_VERSION,
    Label,
    UnknownTaxonomyVersionError,
    available_versions,
    current_taxonomy,
    load_taxonomy,
    parse_taxonomy,
)

REQUIRED_CATEGORIES = {
    "interruption",
    "workaround",
    "double_entry",
    "system_failure",
    "login",
    "alert",
    "information_search",
    "paper",
    "equipment",
    "positive_use",
}


def test_current_version_is_shipped() -> None:
    assert CURRENT_VERSION in available_versions()
    assert current_taxonomy().version == CURRENT_VERSION


def test_grid_has_the_programme_categories() -> None:
    assert current_taxonomy().category_codes == REQUIRED_CATEGORIES


@pytest.mark.parametrize(
    ("attribute", "codes"),
    [
        (
            "role",
            {
                "ide",
                "aide_soignant",
                "medecin",
                "cadre_sante",
                "secretaire_medicale",
                "ash",
                "pharmacien",
                "kinesitherapeute",
                "autre",
            },
        ),
        (
            "tool",
            {
                "patient_record",
                "care_plan_software",
                "messaging",
                "phone",
                "badge",
                "computer_on_wheels",
                "tablet",
                "printer",
                "other",
            },
        ),
        ("dimension", {"work_content", "rhythm", "work_spaces", "colleague_relations", "patient_relations"}),
        ("effect", {"positive", "negative", "ambivalent"}),
        ("impact", {"qvt", "work_quality", "care_quality"}),
        ("severity", {"1", "2", "3"}),
        ("interruption_source", {"colleague", "patient_family", "phone", "device_alert", "self"}),
    ],
)
def test_grid_has_the_programme_attributes(attribute: str, codes: set[str]) -> None:
    assert current_taxonomy().attribute(attribute).codes == codes


def test_every_label_exists_in_french_and_english() -> None:
    taxonomy = current_taxonomy()
    labels = [c.label for c in taxonomy.categories] + [a.label for a in taxonomy.attributes]
    labels += [v.label for a in taxonomy.attributes for v in a.values]
    for label in labels:
        assert label.fr.strip() and label.en.strip(), label
    # French first: the French labels really are French for the ones whose words differ.
    assert current_taxonomy().category("double_entry").label("fr") == "Double saisie / ressaisie"
    assert current_taxonomy().category("double_entry").label("en") == "Double entry / re-keying"


def test_categories_have_distinct_colours() -> None:
    colours = [c.colour for c in current_taxonomy().categories]
    assert len(set(colours)) == len(colours)
    assert all(len(c) == 7 and c.startswith("#") for c in colours)


def test_schema_agrees_with_grid_on_single_and_multiple_attributes() -> None:
    taxonomy = current_taxonomy()
    assert set(ATTRIBUTE_FIELDS) == {a.code for a in taxonomy.attributes}
    for attribute in taxonomy.attributes:
        annotation = str(Observation.model_fields[ATTRIBUTE_FIELDS[attribute.code]].annotation)
        assert ("list" in annotation) == attribute.multiple, attribute.code


def test_json_form_round_trips() -> None:
    taxonomy = current_taxonomy()
    assert parse_taxonomy(taxonomy.as_dict()) == taxonomy


def test_duplicate_codes_are_refused() -> None:
    raw = copy.deepcopy(current_taxonomy().as_dict())
    raw["attributes"][0]["values"].append(dict(raw["attributes"][0]["values"][0]))
    with pytest.raises(ValueError, match="duplicate role code 'ide'"):
        parse_taxonomy(raw)


def test_unknown_version_is_a_clear_error() -> None:
    with pytest.raises(UnknownTaxonomyVersionError, match=r"1999\.1"):
        load_taxonomy("1999.1")


def test_archived_categories_help_and_mappings_round_trip_and_archived_ones_stay_valid() -> None:
    raw = copy.deepcopy(current_taxonomy().as_dict())
    raw["categories"][8]["archived"] = True
    raw["categories"][0]["help"] = {"fr": "Toute interruption", "en": "Any interruption"}
    raw["mappings"] = [{"attribute": "category", "old": ["paper", "equipment"], "new": ["positive_use"]}]
    grid = parse_taxonomy(raw)
    assert parse_taxonomy(grid.as_dict()) == grid
    assert "equipment" in grid.category_codes  # old observations stay valid
    assert "equipment" not in [c.code for c in grid.active_categories]  # new visits do not offer it
    assert grid.category("interruption").help == Label("Toute interruption", "Any interruption")
    assert [(m.old, m.new, m.is_merge) for m in grid.mappings] == [
        (("paper", "equipment"), ("positive_use",), True)
    ]
