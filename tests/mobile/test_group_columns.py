"""The enrichment screen's columns: as many as the widest chip allows, groups kept in order, the tallest
column as short as can be."""

from __future__ import annotations

from mobile.group_columns import balanced_cuts, column_count


def test_the_widest_chip_decides_how_many_columns() -> None:
    widths = [1200.0, 590.0]  # a column's width with one column, with two
    assert column_count(400, widths) == 2
    assert column_count(590, widths) == 2
    assert column_count(591, widths) == 1  # a chip wider than half the screen: one column
    assert column_count(5000, widths) == 1


def test_groups_keep_their_order_and_the_taller_column_is_as_short_as_can_be() -> None:
    # The interruption's groups: source, effect, severity, role, tool, dimension, impact.
    heights = [130, 76, 76, 184, 184, 184, 76]
    (cut,) = balanced_cuts(heights, 2, gap=8)
    assert cut == 4
    tallest = max(sum(heights[:cut]) + 8 * (cut - 1), sum(heights[cut:]) + 8 * (len(heights) - cut - 1))
    every_other = [
        max(sum(heights[:k]) + 8 * (k - 1), sum(heights[k:]) + 8 * (len(heights) - k - 1))
        for k in range(1, len(heights))
    ]
    assert tallest == min(every_other)


def test_three_columns_and_too_few_groups() -> None:
    assert balanced_cuts([100, 50, 50, 100, 60, 60, 60], 3, gap=8) == [2, 4]
    assert balanced_cuts([10, 20], 3, gap=8) == [1, 2]  # the third column stays empty
    assert balanced_cuts([10], 3, gap=8) == [1, 1]
    assert balanced_cuts([], 2, gap=8) == [0]
    assert balanced_cuts([10, 20, 30], 1, gap=8) == []
