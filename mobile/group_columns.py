"""Where the enrichment screen cuts its attribute groups into columns.

Kept apart from the screen (no Kivy here) because it is plain arithmetic worth testing on its own: groups
keep their order, read down each column then across, and the cuts make the tallest column as short as can
be, so that a 10" screen holds every group without scrolling.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations, pairwise


def column_count(widest: float, width_for: Sequence[float]) -> int:
    """The most columns whose width still holds the widest chip whole. ``width_for[k - 1]`` is a column's
    width when there are ``k`` of them; one column is always possible (a chip wider still wraps its text)."""
    for count in range(len(width_for), 1, -1):
        if widest <= width_for[count - 1]:
            return count
    return 1


def balanced_cuts(heights: Sequence[float], columns: int, gap: float) -> list[int]:
    """The indices where each column after the first begins, in order, so that the tallest column (its
    groups and the gaps between them) is as short as possible. Fewer groups than columns leave the last
    columns empty (their cut is ``len(heights)``)."""
    count = len(heights)
    if columns <= 1 or count == 0:
        return [count] * max(0, columns - 1)

    def tallest(cuts: tuple[int, ...]) -> float:
        bounds = (0, *cuts, count)
        parts = [heights[a:b] for a, b in pairwise(bounds)]
        return max(sum(part) + gap * max(0, len(part) - 1) for part in parts)

    # A screen has a dozen groups at most: trying every way to cut them is a few hundred sums.
    candidates = combinations(range(1, count + 1), columns - 1)
    best = min(candidates, key=lambda cuts: (tallest(cuts), cuts), default=None)
    if best is None:  # fewer groups than columns
        return [min(i + 1, count) for i in range(columns - 1)]
    return list(best)
