"""Small-cell suppression: nothing under 10 shown, and no hidden count worked out from the rest.

The audit is the one statistical offices run on a published table: for every hidden cell,
the least and the greatest value it can take given every published figure, every total and
that counts are never negative (linear programming, scipy's HiGHS).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from analysts.suppression import HIDDEN, CountTable, PublishedTable, extended, suppress


def interval(
    table: CountTable, published: PublishedTable, cell: tuple[int, int]
) -> tuple[float, float]:
    """The least and greatest value ``cell`` can take given what ``published`` shows."""
    grid = extended(table)
    height, width = len(grid), len(grid[0])
    unknown = [(i, j) for i in range(height) for j in range(width) if published.cells[i][j] is None]
    index = {c: k for k, c in enumerate(unknown)}
    rows, values = [], []

    def line(members: list[tuple[int, int]], total: tuple[int, int]) -> None:
        coefficients = [0.0] * len(unknown)
        known = 0.0
        for c, sign in [(m, 1.0) for m in members] + [(total, -1.0)]:
            if c in index:
                coefficients[index[c]] += sign
            else:
                known += sign * grid[c[0]][c[1]]
        rows.append(coefficients)
        values.append(-known)

    inner_height = height - 1
    inner_width = width - 1 if table.partition else width
    for j in range(width):
        line([(i, j) for i in range(inner_height)], (inner_height, j))
    if table.partition:
        for i in range(height):
            line([(i, j) for j in range(inner_width)], (i, inner_width))
    objective = [0.0] * len(unknown)
    objective[index[cell]] = 1.0
    bounds = [(0, None)] * len(unknown)
    low = linprog(objective, A_eq=rows, b_eq=values, bounds=bounds, method="highs")
    high = linprog([-c for c in objective], A_eq=rows, b_eq=values, bounds=bounds, method="highs")
    assert low.status == 0, low.message  # the published figures fit the counts
    # Unbounded above (status 3): nothing published caps the cell.
    assert high.status in (0, 3), high.message
    return low.fun, (-high.fun if high.status == 0 else float("inf"))


counts = st.one_of(st.integers(0, 12), st.integers(0, 400))


@st.composite
def tables(draw: st.DrawFn) -> CountTable:
    height = draw(st.integers(1, 7))
    width = draw(st.integers(1, 5))
    grid = draw(
        st.lists(st.lists(counts, min_size=width, max_size=width), min_size=height, max_size=height)
    )
    return CountTable(
        rows=tuple(f"r{i}" for i in range(height)),
        columns=tuple(f"c{j}" for j in range(width)),
        counts=tuple(tuple(row) for row in grid),
        partition=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(tables())
def test_no_hidden_count_of_one_to_nine_can_be_worked_out(table: CountTable) -> None:
    published = suppress(table)
    grid = extended(table)
    for i, line in enumerate(published.cells):
        for j, value in enumerate(line):
            if value is None:
                if 1 <= grid[i][j] < 10:
                    low, high = interval(table, published, (i, j))
                    assert high - low >= 1 - 1e-6, (i, j, grid[i][j], low, high)
            else:
                assert value == grid[i][j] and value >= 10


def test_one_small_cell_in_a_column_hides_another_beside_it() -> None:
    table = CountTable(("a", "b", "c"), ("poor",), ((3,), (40,), (55,)))
    published = suppress(table)
    assert [published.text(i, 0) for i in range(4)] == [HIDDEN, HIDDEN, "55", "98"]


def test_a_partition_hides_a_rectangle_so_row_and_column_totals_give_nothing_away() -> None:
    table = CountTable(
        ("a", "b", "c"), ("level 1", "level 2"), ((4, 30), (25, 31), (60, 70)), partition=True
    )
    published = suppress(table)
    hidden = {
        (i, j) for i, line in enumerate(published.cells) for j, v in enumerate(line) if v is None
    }
    assert (0, 0) in hidden
    assert len(hidden) >= 4  # a cycle: two rows by two columns at least
    assert published.cells[3][2] == 220  # the grand total stays


def test_counts_that_do_not_fit_their_names_are_refused() -> None:
    with pytest.raises(ValueError, match="row b has 1 counts for 2 columns"):
        CountTable(("a", "b"), ("x", "y"), ((1, 2), (3,)))
    with pytest.raises(ValueError, match="negative"):
        CountTable(("a",), ("x",), ((-1,),))
