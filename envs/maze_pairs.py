"""Start-goal pairs in a maze whose straight line is blocked: the long-horizon evaluation sets.

A maze map is a grid of rows (``1`` a wall, anything else free), as Gymnasium-Robotics'
``maze_map``. A pair ``((i0, j0), (i1, j1))`` of free cells is a *detour* pair when the
segment between the two cells' centres passes through a wall cell, so no straight-line
policy reaches the goal. :func:`detour_pairs` draws a fixed, seeded set of them, with the
shortest path (moves between free neighbour cells) at least ``min_path`` cells long, for
``env.reset(options={"reset_cell": start, "goal_cell": goal})``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["detour_pairs", "free_cells", "line_blocked", "path_length"]

Cell = tuple[int, int]


def _walls(maze_map: Sequence[Sequence[Any]]) -> np.ndarray:
    return np.array([[str(c) == "1" for c in row] for row in maze_map], dtype=bool)  # (rows, cols)


def free_cells(maze_map: Sequence[Sequence[Any]]) -> list[Cell]:
    """Every cell that is not a wall, row by row."""
    walls = _walls(maze_map)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(~walls), strict=True)]


def line_blocked(maze_map: Sequence[Sequence[Any]], a: Cell, b: Cell, samples_per_cell: int = 20) -> bool:
    """Whether the segment between the centres of cells ``a`` and ``b`` enters a wall cell."""
    walls = _walls(maze_map)
    p, q = np.array(a, dtype=np.float64) + 0.5, np.array(b, dtype=np.float64) + 0.5
    n = max(2, int(np.ceil(np.abs(q - p).max() * samples_per_cell)) + 1)
    points = p + np.linspace(0.0, 1.0, n)[:, None] * (q - p)  # (n, 2) in cell units
    cells = np.floor(points).astype(int)
    return bool(walls[cells[:, 0], cells[:, 1]].any())


def path_length(maze_map: Sequence[Sequence[Any]], a: Cell, b: Cell) -> int:
    """Moves between 4-neighbour free cells on the shortest path from ``a`` to ``b`` (-1: none)."""
    walls = _walls(maze_map)
    seen = {a: 0}
    todo = deque([a])
    while todo:
        cell = todo.popleft()
        if cell == b:
            return seen[cell]
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nxt = (cell[0] + di, cell[1] + dj)
            if 0 <= nxt[0] < walls.shape[0] and 0 <= nxt[1] < walls.shape[1] and not walls[nxt] and nxt not in seen:
                seen[nxt] = seen[cell] + 1
                todo.append(nxt)
    return -1


def detour_pairs(
    maze_map: Sequence[Sequence[Any]], n: int = 50, *, seed: int = 0, min_path: int = 3
) -> list[tuple[Cell, Cell]]:
    """``n`` distinct (start, goal) cell pairs whose straight line is blocked by a wall and
    whose shortest path is at least ``min_path`` moves, drawn with ``seed``. Raises if the
    maze has fewer such pairs than ``n``."""
    cells = free_cells(maze_map)
    candidates = [
        (a, b) for a in cells for b in cells
        if a != b and line_blocked(maze_map, a, b) and path_length(maze_map, a, b) >= min_path
    ]
    if len(candidates) < n:
        raise ValueError(f"the maze has {len(candidates)} detour pairs with a path of >= {min_path} moves, asked for {n}")
    rng = np.random.default_rng(seed)
    return [candidates[i] for i in rng.choice(len(candidates), n, replace=False)]
