"""Agreement measures against published worked examples and hand computations: Cohen's kappa and its
standard error, Wilson intervals (Newcombe 1998), Needleman–Wunsch (the textbook GATTACA example), Lin's
concordance, time-slice kappa, and the plain-French strength words."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from backend.review.agreement_measures import (
    align,
    concordance,
    kappa_with_interval,
    sequence_agreement,
    strength,
    time_slice_kappa,
    wilson,
)


def test_kappa_of_the_classic_two_by_two_example_with_its_interval() -> None:
    # 50 items: both yes 20, yes/no 5, no/yes 10, both no 15: po = 0.7, pe = 0.5, kappa = 0.4.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    measure = kappa_with_interval(pairs)
    error = math.sqrt(0.7 * 0.3 / (50 * 0.5**2))  # 0.1296
    assert measure.value == pytest.approx(0.4)
    assert (measure.low, measure.high) == pytest.approx((0.4 - 1.96 * error, 0.4 + 1.96 * error), abs=1e-3)
    assert measure.reading == "accord faible" and measure.n == 50


def test_kappa_is_undefined_without_pairs_or_with_a_single_category() -> None:
    assert kappa_with_interval([]).value is None
    single = kappa_with_interval([("a", "a")] * 4)
    assert single.value is None and single.reading == "non calculable"


@pytest.mark.parametrize(
    ("kappa", "words"),
    [
        (-0.1, "moins bon que le hasard"),
        (0.1, "accord très faible"),
        (0.55, "accord modéré"),
        (0.7, "accord bon"),
        (0.9, "accord très bon"),
    ],
)
def test_strength_in_plain_french(kappa: float, words: str) -> None:
    assert strength(kappa) == words


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611)],
)
def test_wilson_interval_matches_newcombe(successes: int, n: int, low: float, high: float) -> None:
    assert wilson(successes, n) == pytest.approx((low, high), abs=1e-4)


def test_needleman_wunsch_finds_the_textbook_optimum() -> None:
    aligned = align("GATTACA", "GCATGCU")
    score = sum(-1 if a is None or b is None else (1 if a == b else -1) for a, b in aligned)
    assert score == 0  # the optimal score of this example with +1 / -1 / -1
    assert "".join(a or "" for a, _ in aligned) == "GATTACA"
    assert "".join(b or "" for _, b in aligned) == "GCATGCU"


def test_sequence_agreement_counts_aligned_matches() -> None:
    same = sequence_agreement(["login", "alert", "paper"], ["login", "alert", "paper"])
    assert same.value == 1.0 and same.n == 3
    missed = sequence_agreement(["login", "alert", "paper"], ["login", "paper"])
    assert missed.value == pytest.approx(2 / 3) and missed.n == 3  # one gap
    assert (missed.low, missed.high) == pytest.approx(wilson(2, 3))
    assert sequence_agreement([], []).value is None


def _lin(pairs: list[tuple[float, float]]) -> float:
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    covariance = statistics.fmean((x - statistics.fmean(xs)) * (y - statistics.fmean(ys)) for x, y in pairs)
    return (
        2
        * covariance
        / (
            statistics.pvariance(xs)
            + statistics.pvariance(ys)
            + (statistics.fmean(xs) - statistics.fmean(ys)) ** 2
        )
    )


def test_concordance_of_durations() -> None:
    pairs = [(30.0, 32.0), (60.0, 55.0), (120.0, 130.0), (200.0, 190.0), (45.0, 50.0), (90.0, 100.0)]
    measure = concordance(pairs)
    assert measure.value == pytest.approx(_lin(pairs))
    assert measure.low is not None and measure.high is not None and measure.value is not None
    assert measure.low < measure.value < measure.high <= 1
    shifted = concordance([(x, x + 40) for x, _ in pairs])  # correlated perfectly, but biased: lower
    assert shifted.value is not None
    assert shifted.value < measure.value
    assert concordance(pairs[:2]).value is None  # too few pairs


def test_time_slice_kappa_over_hand_made_spans() -> None:
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def at(seconds: int) -> datetime:
        return start + timedelta(seconds=seconds)

    first = [(at(0), at(60), "login"), (at(120), at(180), "paper")]
    second = [(at(0), at(60), "login"), (at(150), at(180), "paper")]
    measure = time_slice_kappa(first, second, start, at(240), 10)
    # 24 slices: 6 login/login, 3 paper/none, 3 paper/paper, 12 none/none; po = 21/24.
    pairs = [("l", "l")] * 6 + [("p", "")] * 3 + [("p", "p")] * 3 + [("", "")] * 12
    assert measure.n == 24
    assert measure.value == pytest.approx(kappa_with_interval(pairs).value)
    # Neighbouring slices are not independent: the interval counts 4 one-minute blocks, so it is wider.
    naive = kappa_with_interval(pairs)
    assert measure.low is not None and naive.low is not None and measure.low < naive.low
