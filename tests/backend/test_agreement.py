"""Inter-observer agreement: Cohen's kappa on hand-computed examples, matching in time windows,
and paired visits found in the demo programme."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from backend import models
from backend.admin.demo_data import build_demo
from backend.review.agreement import Event, cohen_kappa, deeper_agreement, match_events, paired_visits


def test_kappa_on_the_textbook_two_by_two_example() -> None:
    # 50 items: both "yes" 20, A yes/B no 5, A no/B yes 10, both "no" 15.
    # p_o = 35/50 = 0.7; p_e = 0.5 x 0.6 + 0.5 x 0.4 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    result = cohen_kappa(pairs)
    assert result.pairs == 50 and result.agreements == 35
    assert result.percent_agreement == pytest.approx(0.7)
    assert result.kappa == pytest.approx(0.4)
    assert result.categories == ["no", "yes"]
    assert result.matrix == [[15, 10], [5, 20]]


def test_kappa_with_three_categories_computed_by_hand() -> None:
    # A: I I I L L A ; B: I I L L L I.  Agreements: I-I twice, L-L twice -> p_o = 4/6.
    # A marginals I 3, L 2, A 1; B marginals I 3, L 3, A 0 -> p_e = (3x3 + 2x3 + 1x0) / 36 = 15/36.
    # kappa = (24/36 - 15/36) / (21/36) = 9/21 = 0.428571...
    pairs = [("I", "I"), ("I", "I"), ("I", "L"), ("L", "L"), ("L", "L"), ("A", "I")]
    result = cohen_kappa(pairs)
    assert result.percent_agreement == pytest.approx(4 / 6)
    assert result.kappa == pytest.approx(9 / 21)


def test_kappa_is_undefined_without_pairs_or_with_a_single_category() -> None:
    assert cohen_kappa([]).kappa is None
    only_one = cohen_kappa([("alert", "alert")] * 4)
    assert only_one.kappa is None and only_one.percent_agreement == 1.0
    assert cohen_kappa([("a", "b"), ("b", "a")]).kappa == pytest.approx(-1.0)


def _at(minutes: float, category: str) -> Event:
    return Event(uuid.uuid4(), datetime(2026, 5, 4, 9, tzinfo=UTC) + timedelta(minutes=minutes), category)


def test_events_are_matched_closest_first_within_the_window() -> None:
    first = [_at(0, "alert"), _at(10, "login"), _at(10.5, "paper"), _at(30, "paper")]
    second = [_at(0.5, "alert"), _at(10.4, "paper"), _at(11, "login"), _at(33, "paper")]
    pairs, only_first, only_second = match_events(first, second, timedelta(minutes=2))
    matched = [(a.category, b.category) for a, b in pairs]
    # 10.5 and 10.4 are closest (6 s), so "paper" pairs with "paper" and "login" with "login".
    assert matched == [("alert", "alert"), ("login", "login"), ("paper", "paper")]
    assert [e.category for e in only_first] == ["paper"] and [e.category for e in only_second] == ["paper"]
    assert [e.at for e in only_second] == [second[3].at]  # 3 minutes apart: not the same event


def test_the_interruption_source_and_the_severity_are_agreed_on_as_the_other_attributes() -> None:
    # The three-category example above, on sources: kappa 9/21; severities all the same: 1.
    sources = [
        ("phone", "phone"),
        ("phone", "phone"),
        ("phone", "colleague"),
        ("colleague", "colleague"),
        ("colleague", "colleague"),
        ("patient", "phone"),
    ]
    start = datetime(2026, 5, 4, 9, tzinfo=UTC)

    def seen(minute: int, source: str) -> Event:
        at = start + timedelta(minutes=minute)
        return Event(uuid.uuid4(), at, "interruption", interruption_source=source, severity=1 + minute % 3)

    pairs = [(seen(i, a), seen(i, b)) for i, (a, b) in enumerate(sources)]
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    deeper = deeper_agreement(first, second, pairs, (start, start + timedelta(minutes=10)), 10)
    assert deeper.attributes["interruption_source"].value == pytest.approx(9 / 21)
    assert deeper.attributes["severity"].value == pytest.approx(1.0)
    assert deeper.attributes["severity"].reading == "accord très bon"


def test_demo_paired_visit_is_found_and_scored(session: Session) -> None:
    build_demo(session)
    pairs = paired_visits(session, None)
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair.first_observer != pair.second_observer
    assert pair.agreement.pairs >= 5
    assert pair.agreement.kappa is not None and 0.5 < pair.agreement.kappa <= 1
    assert sum(map(sum, pair.agreement.matrix)) == pair.agreement.pairs
    # The deeper measures: the same kappa on categories, now with its interval; every measure read in words.
    deeper = pair.deeper
    assert deeper.category.value == pytest.approx(pair.agreement.kappa)
    assert deeper.category.low is not None and deeper.category.high is not None
    assert deeper.category.low <= pair.agreement.kappa <= deeper.category.high
    assert set(deeper.attributes) == {"role", "tool", "effect", "interruption_source", "severity"}
    assert all(m.n == pair.agreement.pairs for m in deeper.attributes.values())
    assert deeper.time_slices.n == int((pair.overlap_end - pair.overlap_start).total_seconds())
    assert deeper.sequence.n >= pair.agreement.pairs
    assert all(m.reading for m in (deeper.time_slices, deeper.durations, deeper.sequence))
    coarse = paired_visits(session, None, slice_seconds=60)[0].deeper.time_slices
    assert coarse.n == int((pair.overlap_end - pair.overlap_start).total_seconds()) // 60
    # Out of scope: another structure's reader sees no pair.
    other = session.exec(select(models.Structure.id).where(models.Structure.id != pair.structure_id)).first()
    assert other is not None
    assert paired_visits(session, {other}) == []
