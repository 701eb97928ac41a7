"""Small-cell suppression for published counts: no count under 10, and no way back to one.

A coverage table counts people per area (rows) and category (columns), with the totals an
analyst expects: each column's total over the areas and, when the categories split every area
(``partition``: IDPoor level 1 and level 2 are the poor), each area's total and the grand total.
A count of a few people can point at those people, so every count under :data:`THRESHOLD`
is shown as ``<10`` (primary suppression). That alone is not enough: with the column total
published, one hidden cell in a column is the total minus the others. Complementary
suppression hides further cells until no hidden count can be worked out from the published
ones, whatever the reader combines:

- A table is a set of lines (a column with its total; with a partition also a row with its
  total, and the totals row with the grand total). Signed so that every line sums to zero, a
  change to hidden cells that keeps every published figure is a flow on the bipartite graph
  whose nodes are the table's rows and columns (totals included) and whose edges are the
  hidden cells. A hidden cell can be worked out exactly when it lies on no cycle of that graph:
  when it is a *bridge*. So cells are hidden until the graph of hidden cells has no bridge.
- Counts are never negative. A cycle of hidden cells moves only if the cells it lowers are
  above zero, so complements are taken among cells that are not zero where there is a choice,
  and then every hidden count of 1 to 9 is audited the way statistical offices audit a table:
  linear programming gives the least and the greatest value it could take given all that is
  published; while one of them is pinned to a single value, one more cell beside it is hidden.

A hidden zero can sometimes be worked out as zero; that says no one is in the cell, which
points at no one, and is accepted (docs/analysts.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scipy.optimize import linprog

THRESHOLD = 10
HIDDEN = f"<{THRESHOLD}"

Cell = tuple[int, int]


@dataclass(frozen=True)
class CountTable:
    """Counts per area (rows) and category (columns) before anything is hidden."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    # The categories split every row: row totals and a grand total are published too.
    partition: bool = False

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.rows):
            raise ValueError(f"{len(self.rows)} rows named, {len(self.counts)} rows of counts")
        for name, row in zip(self.rows, self.counts, strict=True):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"row {name} has {len(row)} counts for {len(self.columns)} columns"
                )
            if any(count < 0 for count in row):
                raise ValueError(f"row {name} has a negative count")


@dataclass(frozen=True)
class PublishedTable:
    """A table as it may be published: ``None`` where a count is hidden (shown as ``<10``).

    ``cells`` holds the counts, then a last row of column totals and, for a partition, a last
    column of row totals (its last entry the grand total).
    """

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    partition: bool
    cells: tuple[tuple[int | None, ...], ...]

    def text(self, row: int, column: int) -> str:
        """A cell as shown to people: the count, or ``<10``."""
        value = self.cells[row][column]
        return HIDDEN if value is None else str(value)

    @property
    def hidden(self) -> int:
        """How many figures are hidden, totals included."""
        return sum(value is None for line in self.cells for value in line)


def extended(table: CountTable) -> list[list[int]]:
    """The counts with their totals: a last row of column totals and, for a partition, a
    last column of row totals."""
    grid = [list(row) for row in table.counts]
    grid.append([sum(row[j] for row in table.counts) for j in range(len(table.columns))])
    if table.partition:
        for row in grid:
            row.append(sum(row))
    return grid


def suppress(table: CountTable, threshold: int = THRESHOLD) -> PublishedTable:
    """``table`` with every count under ``threshold`` hidden, and enough others that none of
    them can be worked out from what is shown."""
    grid = extended(table)
    height, width = len(grid), len(grid[0]) if grid else 0
    hidden = {(i, j) for i in range(height) for j in range(width) if grid[i][j] < threshold}
    while True:
        extra = _complement(grid, hidden, table.partition)
        if extra is None:
            extra = _unpin(grid, hidden, table.partition, threshold)
        if extra is None:
            break
        hidden.add(extra)
    cells = tuple(
        tuple(None if (i, j) in hidden else grid[i][j] for j in range(width)) for i in range(height)
    )
    return PublishedTable(table.rows, table.columns, table.partition, cells)


def _complement(grid: list[list[int]], hidden: set[Cell], partition: bool) -> Cell | None:
    """One more cell to hide, or None when every hidden cell is protected."""
    height, width = len(grid), len(grid[0]) if grid else 0
    if not partition:
        # Columns are independent lines: each needs none or at least two hidden cells, and
        # hidden counts that are not all zero (else all of them are known to be zero).
        for j in range(width):
            column = [(i, j) for i in range(height)]
            needed = _line_needs(grid, hidden, column)
            if needed:
                return needed
        return None
    for bridge in _bridges(hidden, height, width):
        return _cheapest_crossing(grid, hidden, bridge, height, width)
    for line in _lines(height, width):
        needed = _line_needs(grid, hidden, line)
        if needed:
            return needed
    return None


def _lines(height: int, width: int) -> list[list[Cell]]:
    rows = [[(i, j) for j in range(width)] for i in range(height)]
    columns = [[(i, j) for i in range(height)] for j in range(width)]
    return rows + columns


def _line_needs(grid: list[list[int]], hidden: set[Cell], line: Sequence[Cell]) -> Cell | None:
    """A cell of ``line`` to hide so that its hidden cells are not worked out, if one is."""
    inside = [cell for cell in line if cell in hidden]
    if not inside:
        return None
    if len(inside) >= 2 and any(grid[i][j] > 0 for i, j in inside):
        return None
    return _smallest(grid, [cell for cell in line if cell not in hidden])


def _smallest(grid: list[list[int]], candidates: Sequence[Cell]) -> Cell | None:
    """The cell that costs the reader least to lose: the smallest count above zero (a zero
    moves nothing), else any."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (grid[c[0]][c[1]] == 0, grid[c[0]][c[1]], c))


def _bridges(hidden: set[Cell], height: int, width: int) -> list[Cell]:
    """The hidden cells on no cycle of the row-column graph (each could be worked out)."""
    adjacency: dict[int, list[tuple[int, Cell]]] = {}
    for i, j in hidden:
        row, column = i, height + j
        adjacency.setdefault(row, []).append((column, (i, j)))
        adjacency.setdefault(column, []).append((row, (i, j)))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    found: list[Cell] = []
    for start in sorted(adjacency):
        if start in order:
            continue
        # Tarjan's bridge search, iteratively: (node, edge it was reached by, next neighbour)
        order[start] = low[start] = len(order)
        stack: list[tuple[int, Cell | None, int]] = [(start, None, 0)]
        while stack:
            node, via, k = stack[-1]
            neighbours = adjacency[node]
            if k < len(neighbours):
                stack[-1] = (node, via, k + 1)
                nxt, edge = neighbours[k]
                if edge == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = len(order)
                    stack.append((nxt, edge, 0))
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent] and via is not None:
                        found.append(via)
    return sorted(found)


def _cheapest_crossing(
    grid: list[list[int]], hidden: set[Cell], bridge: Cell, height: int, width: int
) -> Cell | None:
    """A cell whose hiding puts ``bridge`` on a cycle: one joining the two sides the bridge
    alone connects; else one more cell beside it, to grow its side."""
    rest = hidden - {bridge}
    side = _reach(rest, bridge[0], height)
    rows_a = {n for n in side if n < height}
    columns_a = {n - height for n in side if n >= height}
    other = _reach(rest, height + bridge[1], height)
    rows_b = {n for n in other if n < height}
    columns_b = {n - height for n in other if n >= height}
    crossing = [
        (i, j)
        for i, j in [(i, j) for i in rows_a for j in columns_b]
        + [(i, j) for i in rows_b for j in columns_a]
        if (i, j) not in hidden
    ]
    if crossing:
        return _smallest(grid, crossing)
    i, j = bridge
    beside = [(i, k) for k in range(width) if (i, k) not in hidden]
    beside += [(k, j) for k in range(height) if (k, j) not in hidden]
    return _smallest(grid, beside)


def _reach(edges: set[Cell], start: int, height: int) -> set[int]:
    """The nodes connected to ``start`` (rows are 0.., columns height..) by ``edges``."""
    adjacency: dict[int, set[int]] = {}
    for i, j in edges:
        adjacency.setdefault(i, set()).add(height + j)
        adjacency.setdefault(height + j, set()).add(i)
    seen = {start}
    todo = [start]
    while todo:
        node = todo.pop()
        for nxt in adjacency.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _equations(
    grid: list[list[int]], hidden: list[Cell], partition: bool
) -> tuple[list[list[float]], list[float]]:
    """Every published relation as equations over the hidden cells: for each line, the sum
    of its hidden members (the total counted negative) equals what the shown ones leave."""
    height, width = len(grid), len(grid[0])
    index = {cell: k for k, cell in enumerate(hidden)}
    lines = [[(i, j) for i in range(height)] for j in range(width)]
    if partition:
        lines += [[(i, j) for j in range(width)] for i in range(height)]
    matrix: list[list[float]] = []
    values: list[float] = []
    for line in lines:
        coefficients = [0.0] * len(hidden)
        rest = 0.0
        for position, (i, j) in enumerate(line):
            sign = -1.0 if position == len(line) - 1 else 1.0  # the line's total comes last
            if (i, j) in index:
                coefficients[index[(i, j)]] += sign
            else:
                rest -= sign * grid[i][j]
        if any(coefficients):
            matrix.append(coefficients)
            values.append(rest)
    return matrix, values


def pinned(grid: list[list[int]], hidden: set[Cell], partition: bool, threshold: int) -> list[Cell]:
    """The hidden counts of 1 to ``threshold - 1`` that the published figures pin to a
    single value (linear programming over every relation the table publishes)."""
    unknown = sorted(hidden)
    matrix, values = _equations(grid, unknown, partition)
    found: list[Cell] = []
    for k, (i, j) in enumerate(unknown):
        if not 0 < grid[i][j] < threshold:
            continue
        if not matrix:
            continue  # nothing relates it to anything shown
        objective = [0.0] * len(unknown)
        ranges: list[float] = []
        for sign in (1.0, -1.0):
            objective[k] = sign
            result = linprog(objective, A_eq=matrix, b_eq=values, bounds=(0, None), method="highs")
            # Unbounded (status 3) only ever above: counts are never negative.
            fun = None if result.status == 3 else result.fun
            ranges.append(float("inf") if fun is None else sign * float(fun))
        low, high = ranges
        if high - low < 1 - 1e-9:
            found.append((i, j))
    return found


def _unpin(
    grid: list[list[int]], hidden: set[Cell], partition: bool, threshold: int
) -> Cell | None:
    """One more cell to hide beside the first pinned count, or None when none is pinned."""
    for i, j in pinned(grid, hidden, partition, threshold):
        height, width = len(grid), len(grid[0])
        beside = [(i, k) for k in range(width) if (i, k) not in hidden] if partition else []
        beside += [(k, j) for k in range(height) if (k, j) not in hidden]
        if not beside:
            beside = [(a, b) for a in range(height) for b in range(width) if (a, b) not in hidden]
        return _smallest(grid, beside)
    return None
