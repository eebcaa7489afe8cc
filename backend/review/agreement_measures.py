"""Measures of agreement between two observers beyond kappa on categories, each with a 95 % interval and a
plain-French reading of its strength:

- Cohen's kappa on any attribute of matched pairs, with its large-sample standard error
  (sqrt(po (1 - po) / (n (1 - pe)²)), Cohen 1960) — a normal interval, clipped to [-1, 1];
- time-slice kappa (TimeCaT): the overlap cut into slices, each observer's state per slice being the timed
  event in hand (the one started last) or none; neighbouring seconds are not independent, so the interval
  counts one-minute blocks as its observations, not the slices;
- agreement on durations of matched timed events: Lin's concordance correlation coefficient, with the
  interval of its Fisher z transform (Lin 1989);
- sequence agreement: the two sequences of categories aligned by Needleman–Wunsch (match +1, mismatch
  and gap -1), the share of alignment positions where both agree, with its Wilson interval.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel

Z95 = 1.959963984540054
NONE_STATE = ""  # no timed event in hand during a slice
BLOCK_SECONDS = 60  # the interval of the time-slice kappa counts minutes, not slices


class Measure(BaseModel):
    value: float | None
    low: float | None
    high: float | None
    n: int  # what the measure was computed on: pairs, slices, aligned positions
    reading: str


def strength(kappa: float | None) -> str:
    """Landis & Koch's words (1977), in French."""
    if kappa is None:
        return "non calculable"
    if kappa < 0:
        return "moins bon que le hasard"
    for bound, word in ((0.2, "très faible"), (0.4, "faible"), (0.6, "modéré"), (0.8, "bon")):
        if kappa <= bound:
            return f"accord {word}"
    return "accord très bon"


def _kappa_parts(pairs: Sequence[tuple[str, str]]) -> tuple[float, float] | None:
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(1 for a, b in pairs if a == b) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in first) / (n * n)
    return observed, expected


def kappa_with_interval(pairs: Sequence[tuple[str, str]], effective_n: float | None = None) -> Measure:
    """Cohen's kappa and its 95 % interval; ``effective_n`` replaces n in the standard error when the
    items are not independent (time slices)."""
    parts = _kappa_parts(pairs)
    if parts is None or parts[1] >= 1:
        return Measure(value=None, low=None, high=None, n=len(pairs), reading=strength(None))
    observed, expected = parts
    kappa = (observed - expected) / (1 - expected)
    n = effective_n if effective_n is not None else len(pairs)
    error = math.sqrt(observed * (1 - observed) / (n * (1 - expected) ** 2))
    return Measure(
        value=kappa,
        low=max(-1.0, kappa - Z95 * error),
        high=min(1.0, kappa + Z95 * error),
        n=len(pairs),
        reading=strength(kappa),
    )


TimedState = tuple[datetime, datetime, str]  # start, end, category


def _state_at(moment: datetime, spans: Sequence[TimedState]) -> str:
    in_hand = [span for span in spans if span[0] <= moment < span[1]]
    return max(in_hand, key=lambda span: span[0])[2] if in_hand else NONE_STATE


def time_slice_kappa(
    first: Sequence[TimedState],
    second: Sequence[TimedState],
    start: datetime,
    end: datetime,
    slice_seconds: int,
) -> Measure:
    """Kappa over the slices of [start, end), each observer's state taken at the slice's middle."""
    step = timedelta(seconds=slice_seconds)
    pairs = []
    moment = start
    while moment + step <= end:
        middle = moment + step / 2
        pairs.append((_state_at(middle, first), _state_at(middle, second)))
        moment += step
    blocks = max(1.0, (end - start).total_seconds() / BLOCK_SECONDS)
    return kappa_with_interval(pairs, effective_n=min(blocks, float(len(pairs))) if pairs else None)


def concordance(pairs: Sequence[tuple[float, float]]) -> Measure:
    """Lin's concordance correlation coefficient of two observers' durations of the same events."""
    n = len(pairs)
    if n < 3:
        return Measure(value=None, low=None, high=None, n=n, reading="trop peu de paires minutées")
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs) / n
    syy = sum((y - my) ** 2 for y in ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in pairs) / n
    denominator = sxx + syy + (mx - my) ** 2
    if denominator == 0 or sxx == 0 or syy == 0:
        return Measure(value=None, low=None, high=None, n=n, reading="durées sans variation")
    ccc = 2 * sxy / denominator
    if abs(ccc) >= 1:
        return Measure(value=ccc, low=ccc, high=ccc, n=n, reading=_concordance_words(ccc))
    r = sxy / math.sqrt(sxx * syy)
    u = (mx - my) / math.pow(sxx * syy, 0.25)
    variance = (
        (1 - r**2) * ccc**2 / ((1 - ccc**2) * r**2)
        + 2 * ccc**3 * (1 - ccc) * u**2 / (r * (1 - ccc**2) ** 2)
        - ccc**4 * u**4 / (2 * r**2 * (1 - ccc**2) ** 2)
    ) / (n - 2)
    z, spread = math.atanh(ccc), Z95 * math.sqrt(max(variance, 0.0))
    return Measure(
        value=ccc, low=math.tanh(z - spread), high=math.tanh(z + spread), n=n, reading=_concordance_words(ccc)
    )


def _concordance_words(ccc: float) -> str:
    # McBride (2005): below 0.90 poor, up to 0.95 moderate, up to 0.99 substantial, above almost perfect.
    for bound, word in ((0.90, "faible"), (0.95, "modérée"), (0.99, "forte")):
        if ccc < bound:
            return f"concordance {word}"
    return "concordance quasi parfaite"


def align(first: Sequence[str], second: Sequence[str]) -> list[tuple[str | None, str | None]]:
    """Needleman–Wunsch global alignment (match +1, mismatch -1, gap -1); None marks a gap."""
    rows, cols = len(first), len(second)
    score = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        score[i][0] = -i
    for j in range(1, cols + 1):
        score[0][j] = -j
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            diagonal = score[i - 1][j - 1] + (1 if first[i - 1] == second[j - 1] else -1)
            score[i][j] = max(diagonal, score[i - 1][j] - 1, score[i][j - 1] - 1)
    aligned: list[tuple[str | None, str | None]] = []
    i, j = rows, cols
    while i > 0 or j > 0:
        if (
            i > 0
            and j > 0
            and score[i][j] == score[i - 1][j - 1] + (1 if first[i - 1] == second[j - 1] else -1)
        ):
            aligned.append((first[i - 1], second[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and score[i][j] == score[i - 1][j] - 1:
            aligned.append((first[i - 1], None))
            i -= 1
        else:
            aligned.append((None, second[j - 1]))
            j -= 1
    return aligned[::-1]


def wilson(successes: int, n: int) -> tuple[float, float]:
    centre = (successes + Z95**2 / 2) / (n + Z95**2)
    half = Z95 * math.sqrt(successes * (n - successes) / n + Z95**2 / 4) / (n + Z95**2)
    return max(0.0, centre - half), min(1.0, centre + half)


def sequence_agreement(first: Sequence[str], second: Sequence[str]) -> Measure:
    """The share of positions of the alignment where both observers recorded the same category."""
    aligned = align(first, second)
    if not aligned:
        return Measure(value=None, low=None, high=None, n=0, reading="aucun événement")
    same = sum(1 for a, b in aligned if a is not None and a == b)
    low, high = wilson(same, len(aligned))
    share = same / len(aligned)
    return Measure(
        value=share,
        low=low,
        high=high,
        n=len(aligned),
        reading=f"{round(100 * share)} % des positions alignées concordent",
    )
