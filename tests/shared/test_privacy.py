"""The privacy guard against its corpus, and the properties the tablet, the server and the exports
rely on: sorted non-overlapping matches, masking that leaves nothing behind."""

from __future__ import annotations

import itertools

import pytest

from shared.privacy import (
    IDENTIFIER_KIND_LABELS,
    MASK,
    IdentifierKind,
    contains_identifiers,
    find_identifiers,
    mask_identifiers,
)
from tests.shared.privacy_corpus import Example, corpus, demo_notes

CORPUS = corpus()


def test_corpus_is_large_enough_to_mean_something() -> None:
    positives = [e for e in CORPUS if e.kinds]
    negatives = [e for e in CORPUS if not e.kinds]
    assert len(positives) >= 60
    assert len(negatives) >= 100
    assert {kind for e in positives for kind in e.kinds} == set(IdentifierKind)


@pytest.mark.parametrize("example", CORPUS, ids=lambda e: e.text[:50])
def test_corpus_example_is_classified_as_labelled(example: Example) -> None:
    found = {match.kind for match in find_identifiers(example.text)}
    expected = example.expected_by_guard
    if expected is None:  # a known false alarm
        assert found, "the guard no longer flags this; move it to the negatives"
    else:
        assert found == expected


@pytest.mark.parametrize(
    "example", [e for e in CORPUS if e.kinds and not e.known_limit], ids=lambda e: e.text[:50]
)
def test_masking_leaves_no_identifier(example: Example) -> None:
    matches = find_identifiers(example.text)
    masked = mask_identifiers(example.text)
    assert masked.count(MASK) == len(matches)
    for match in matches:
        assert match.text not in masked
    assert not contains_identifiers(masked)
    assert mask_identifiers(masked) == masked


def test_demo_notes_are_all_clean() -> None:
    for note in demo_notes():
        assert mask_identifiers(note) == note


def test_matches_are_sorted_and_do_not_overlap() -> None:
    text = "ch. 12 M. Martin, fille au 06 12 34 56 78, née le 12/03/1945 ; Mme Le Gall idem (a.b@c.fr)"
    matches = find_identifiers(text)
    assert [m.kind for m in matches] == [
        IdentifierKind.ROOM_AND_NAME,
        IdentifierKind.PHONE,
        IdentifierKind.BIRTH_DATE,
        IdentifierKind.CIVILITY_AND_NAME,
        IdentifierKind.EMAIL,
    ]
    for before, after in itertools.pairwise(matches):
        assert before.end <= after.start
    for match in matches:
        assert text[match.start : match.end] == match.text


def test_masking_keeps_the_situation() -> None:
    assert (
        mask_identifiers("chambre 12, Mme Dupont sonne pendant la saisie des transmissions.")
        == f"{MASK} sonne pendant la saisie des transmissions."
    )


def test_nir_needs_its_key_to_be_right() -> None:
    assert contains_identifiers("1 85 05 78 006 084 91")
    assert not contains_identifiers("1 85 05 78 006 084 90")
    assert not contains_identifiers("1 85 13 78 006 084 91")  # month 13 does not exist


def test_a_long_note_is_handled() -> None:
    note = ("Appel du bureau des entrées pendant la préparation des piluliers, Mme Dupont. " * 30)[:2000]
    assert len(find_identifiers(note)) == note.count("Mme Dupont")


def test_every_kind_has_a_french_and_english_label() -> None:
    assert set(IDENTIFIER_KIND_LABELS) == set(IdentifierKind)
    for labels in IDENTIFIER_KIND_LABELS.values():
        assert labels["fr"] and labels["en"]
