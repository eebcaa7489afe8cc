"""Rates per observed hour with their uncertainty: exact (Garwood) Poisson intervals for one rate, the
exact conditional (binomial) interval for the ratio of two, and a plain-French reading of each.

Events are counted over observed time, so a count is a Poisson variable whose mean is rate x hours.
Exact intervals keep their promised coverage however small the count, zero included.
"""

from __future__ import annotations

import math
from functools import lru_cache

from pydantic import BaseModel
from scipy.special import betaincinv, chdtri

CONFIDENCE = 0.95
# Below this, a rate is shown greyed with the reason: over so little time watched, one busy moment makes
# the rate.
MIN_OBSERVED_HOURS = 2.0
REASON_FEW_HOURS = "moins de 2 heures observées"
REASON_NO_TIME = "aucune heure observée"


class Rate(BaseModel):
    """Events per observed hour and its 95 % interval; ``fragile`` says why the figure is weak, if it is."""

    count: int
    hours: float
    per_hour: float | None
    low: float | None
    high: float | None
    fragile: str | None


@lru_cache(maxsize=4096)
def poisson_interval(count: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact interval of a Poisson mean from one observed count (Garwood, 1936): chi-square quantiles,
    taken from SciPy's special functions (``chdtri`` is the inverse survival function: a hundred times
    cheaper per call than ``scipy.stats.chi2.ppf``, which a weekly chart calls thousands of times)."""
    alpha = 1 - confidence
    low = 0.0 if count == 0 else float(chdtri(2 * count, 1 - alpha / 2)) / 2
    high = float(chdtri(2 * count + 2, alpha / 2)) / 2
    return low, high


def fragility(hours: float) -> str | None:
    """Why a rate over this time should not be read at face value (None: it may be)."""
    if hours <= 0:
        return REASON_NO_TIME
    if hours < MIN_OBSERVED_HOURS:
        return REASON_FEW_HOURS
    return None


def rate(count: int, hours: float) -> Rate:
    if hours <= 0:
        return Rate(count=count, hours=0.0, per_hour=None, low=None, high=None, fragile=REASON_NO_TIME)
    low, high = poisson_interval(count)
    return Rate(
        count=count,
        hours=hours,
        per_hour=count / hours,
        low=low / hours,
        high=high / hours,
        fragile=fragility(hours),
    )


class RateRatio(BaseModel):
    """Rate of period (or structure) A over that of B, with its exact 95 % interval.

    ``supported`` is False when the interval contains 1 (the data cannot tell a difference) or cannot be
    computed (no event on either side, or no time observed on one).
    """

    ratio: float | None
    low: float | None
    high: float | None
    supported: bool


def rate_ratio(
    count_a: int, hours_a: float, count_b: int, hours_b: float, confidence: float = CONFIDENCE
) -> RateRatio:
    """Exact conditional interval: given n = a + b events, a is binomial with p = R·Ta / (R·Ta + Tb);
    the Clopper–Pearson bounds of p map to bounds of R (an event-free side gives 0 or no upper bound)."""
    total = count_a + count_b
    if hours_a <= 0 or hours_b <= 0 or total == 0:
        return RateRatio(ratio=None, low=None, high=None, supported=False)
    alpha = 1 - confidence
    time_ratio = hours_b / hours_a
    p_low = 0.0 if count_a == 0 else float(betaincinv(count_a, count_b + 1, alpha / 2))
    p_high = 1.0 if count_b == 0 else float(betaincinv(count_a + 1, count_b, 1 - alpha / 2))
    low = p_low / (1 - p_low) * time_ratio
    high = math.inf if p_high >= 1 else p_high / (1 - p_high) * time_ratio
    ratio = math.inf if count_b == 0 else (count_a / hours_a) / (count_b / hours_b)
    return RateRatio(
        ratio=None if math.isinf(ratio) else ratio,
        low=low,
        high=None if math.isinf(high) else high,
        supported=low > 1 or high < 1,
    )


def french_number(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def read_ratio(ratio: RateRatio, what: str) -> str:
    """« 1,8 fois plus d'interruptions par heure observée, intervalle 1,3–2,5 », and what cannot be said.

    ``what`` names the events in the plural with its partitive (« d'interruptions », « d'événements »).
    """
    if ratio.low is None:
        return "Pas assez de données pour comparer (aucun événement, ou aucune heure observée d'un côté)."
    high = "∞" if ratio.high is None else french_number(ratio.high)
    interval = f"intervalle {french_number(ratio.low)}–{high}"
    if ratio.ratio is None:  # none in the reference: no ratio, only its lower bound
        reading = f"Aucun événement de ce type en référence, {interval}"
    elif ratio.ratio == 0:
        reading = f"Aucun événement de ce type du côté comparé, {interval}"
    elif ratio.ratio >= 1:
        reading = f"{french_number(ratio.ratio)} fois plus {what} par heure observée, {interval}"
    else:
        reading = f"{french_number(1 / ratio.ratio)} fois moins {what} par heure observée, {interval}"
    if not ratio.supported:
        reading += " : les données ne permettent pas de conclure à une différence"
    return reading + "."
