"""Rates' intervals checked against published tables and against a computation that shares nothing with the
code under test (binomial and Poisson tails summed term by term, their roots found by bisection)."""

from __future__ import annotations

import math

import pytest

from backend.dashboards.rates import (
    MIN_OBSERVED_HOURS,
    REASON_FEW_HOURS,
    REASON_NO_TIME,
    poisson_interval,
    rate,
    rate_ratio,
    read_ratio,
)


def _poisson_cdf(k: int, mean: float) -> float:
    term, total = math.exp(-mean), 0.0
    for i in range(k + 1):
        if i:
            term *= mean / i
        total += term
    return total


def _binomial_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def _root(f: object, low: float, high: float) -> float:
    """Where a monotone function crosses zero, to 1e-12, by bisection."""
    assert callable(f)
    f_low = f(low)
    for _ in range(200):
        middle = (low + high) / 2
        if (f(middle) > 0) == (f_low > 0):
            low, f_low = middle, f(middle)
        else:
            high = middle
    return (low + high) / 2


def _reference_poisson(k: int) -> tuple[float, float]:
    low = 0.0 if k == 0 else _root(lambda m: (1 - _poisson_cdf(k - 1, m)) - 0.025, 1e-9, 10 * k + 10)
    high = _root(lambda m: _poisson_cdf(k, m) - 0.025, 1e-9, 10 * k + 10)
    return low, high


# Garwood's exact 95 % limits as printed in the usual tables (e.g. Ulm, Am J Epidemiol 1990).
PUBLISHED = {0: (0.0, 3.689), 1: (0.0253, 5.572), 2: (0.2422, 7.225), 5: (1.623, 11.668), 10: (4.795, 18.390)}


@pytest.mark.parametrize("count", sorted(PUBLISHED))
def test_poisson_interval_matches_the_published_table(count: int) -> None:
    low, high = poisson_interval(count)
    assert low == pytest.approx(PUBLISHED[count][0], abs=6e-4)
    assert high == pytest.approx(PUBLISHED[count][1], abs=6e-4)


@pytest.mark.parametrize("count", [0, 1, 3, 7, 25, 80])
def test_poisson_interval_matches_the_tails_summed_by_hand(count: int) -> None:
    assert poisson_interval(count) == pytest.approx(_reference_poisson(count), rel=1e-7, abs=1e-9)


def test_rate_divides_the_interval_by_the_hours_observed() -> None:
    figure = rate(6, 4.0)
    low, high = _reference_poisson(6)
    assert figure.per_hour == 1.5
    assert figure.low == pytest.approx(low / 4)
    assert figure.high == pytest.approx(high / 4)
    assert figure.fragile is None


def test_zero_events_still_has_an_upper_bound() -> None:
    figure = rate(0, 10.0)
    assert figure.per_hour == 0 and figure.low == 0
    assert figure.high == pytest.approx(0.3689, abs=1e-4)


def test_tiny_and_empty_denominators_say_why() -> None:
    short = rate(3, MIN_OBSERVED_HOURS / 4)
    assert short.fragile == REASON_FEW_HOURS and short.per_hour == pytest.approx(6.0)
    empty = rate(2, 0.0)
    assert empty.fragile == REASON_NO_TIME
    assert empty.per_hour is None and empty.low is None and empty.high is None


def _reference_ratio(a: int, ta: float, b: int, tb: float) -> tuple[float, float]:
    """Exact conditional limits: Clopper–Pearson on a | a + b, from binomial sums, mapped to the ratio."""
    n = a + b
    p_low = 0.0 if a == 0 else _root(lambda p: (1 - _binomial_cdf(a - 1, n, p)) - 0.025, 1e-12, 1 - 1e-12)
    p_high = 1.0 if a == n else _root(lambda p: _binomial_cdf(a, n, p) - 0.025, 1e-12, 1 - 1e-12)
    to_ratio = tb / ta
    high = math.inf if p_high == 1.0 else p_high / (1 - p_high) * to_ratio
    return p_low / (1 - p_low) * to_ratio, high


@pytest.mark.parametrize(
    ("a", "ta", "b", "tb"),
    [(36, 20.0, 20, 20.0), (5, 3.0, 2, 7.5), (1, 1.0, 1, 1.0), (0, 4.0, 6, 5.0), (40, 12.5, 9, 30.0)],
)
def test_rate_ratio_interval_matches_binomial_sums(a: int, ta: float, b: int, tb: float) -> None:
    ratio = rate_ratio(a, ta, b, tb)
    low, high = _reference_ratio(a, ta, b, tb)
    assert ratio.ratio == pytest.approx((a / ta) / (b / tb))
    assert ratio.low == pytest.approx(low, rel=1e-6, abs=1e-12)
    assert ratio.high == pytest.approx(high, rel=1e-6)
    assert ratio.supported == (low > 1 or high < 1)


def test_ratio_without_reference_events_has_a_lower_bound_only() -> None:
    ratio = rate_ratio(7, 10.0, 0, 10.0)
    assert ratio.ratio is None and ratio.high is None
    assert ratio.low == pytest.approx(_reference_ratio(7, 10.0, 0, 10.0)[0], rel=1e-6)
    assert ratio.supported  # seven events against none over the same time: more, surely
    low = f"{_reference_ratio(7, 10.0, 0, 10.0)[0]:.1f}".replace(".", ",")
    assert (
        read_ratio(ratio, "d'interruptions")
        == f"Aucun événement de ce type en référence, intervalle {low}–∞."
    )


def test_nothing_on_either_side_cannot_be_compared() -> None:
    for ratio in (rate_ratio(0, 5.0, 0, 5.0), rate_ratio(3, 0.0, 4, 5.0)):
        assert ratio.ratio is None and ratio.low is None and not ratio.supported
        assert read_ratio(ratio, "d'interruptions").startswith("Pas assez de données")


def test_reading_in_plain_french() -> None:
    ratio = rate_ratio(90, 50.0, 50, 50.0)
    reading = read_ratio(ratio, "d'interruptions")
    low, high = (f"{bound:.1f}".replace(".", ",") for bound in _reference_ratio(90, 50.0, 50, 50.0))
    assert reading == f"1,8 fois plus d'interruptions par heure observée, intervalle {low}–{high}."
    fewer = read_ratio(rate_ratio(10, 50.0, 40, 50.0), "d'alertes")
    assert fewer.startswith("4,0 fois moins d'alertes par heure observée, intervalle")
    unsure = read_ratio(rate_ratio(6, 10.0, 5, 10.0), "d'alertes")
    assert unsure.endswith(": les données ne permettent pas de conclure à une différence.")


def test_no_event_on_the_compared_side_reads_as_none_with_its_interval() -> None:
    ratio = rate_ratio(0, 10.0, 8, 10.0)
    assert ratio.ratio == 0 and ratio.low == 0
    assert ratio.supported  # none against eight over the same time: fewer, surely
    high = f"{_reference_ratio(0, 10.0, 8, 10.0)[1]:.1f}".replace(".", ",")
    assert (
        read_ratio(ratio, "d'alertes")
        == f"Aucun événement de ce type du côté comparé, intervalle 0,0–{high}."
    )
