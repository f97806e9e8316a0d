"""Coverage: how much of the goal space the agent's experience has reached.

The goal space is cut into cells (``cells`` per axis over the bounding box of the goals the
env asks for, or a maze's own cells); the support is the set of cells those goals fall in,
and coverage the fraction of the support that some stored state's ``achieved_goal`` has
visited. Measured on the env's own goal distribution, it says what exploration has to
reach, whatever shape the reachable region has (a joint-space box seen in Cartesian space,
a maze's free cells). Visits are counted per cell, so the thinly visited cells are known
too (``training.exploration.practice_frontier: sparse`` sets practice goals there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["GoalCoverage"]


class GoalCoverage:
    """Visited cells of the goal distribution's support. Shapes: goals (M, G).

    ``cells``: cells per axis (an int, or one per axis). ``low`` and ``width`` (G,) place the
    grid; by default it spans the goals' bounding box."""

    def __init__(
        self, goals: np.ndarray, cells: int | Any = 10, *, low: Any = None, width: Any = None
    ) -> None:
        goals = np.asarray(goals, dtype=np.float64)
        if goals.ndim != 2 or len(goals) < 2:
            raise ValueError(f"goals must be (M, G) with M >= 2, got {goals.shape}")
        G = goals.shape[1]
        self.cells = np.broadcast_to(np.asarray(cells, dtype=np.int64), (G,)).copy()
        if (self.cells < 1).any():
            raise ValueError(f"cells must be >= 1 on every axis, got {cells}")
        self.low = goals.min(0) if low is None else np.asarray(low, dtype=np.float64).reshape(G)
        if width is None:
            self.width = np.maximum(goals.max(0) - self.low, 1e-9) / self.cells  # (G,)
        else:
            self.width = np.asarray(width, dtype=np.float64).reshape(G)
        self.high = self.low + self.width * self.cells
        self.support = set(self._ids(goals).tolist())
        self.counts: dict[int, int] = {}
        """Stored states per visited cell (cells outside the support included)."""

    def state(self) -> dict[str, Any]:
        """The grid, the support and the visit counts as plain data (a resumable checkpoint
        keeps them); :meth:`from_state` rebuilds the same coverage."""
        return {"cells": self.cells, "low": self.low, "width": self.width,
                "support": sorted(self.support), "counts": dict(self.counts)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> GoalCoverage:
        """The coverage :meth:`state` describes."""
        cov = cls.__new__(cls)
        cov.cells = np.asarray(state["cells"], dtype=np.int64)
        cov.low = np.asarray(state["low"], dtype=np.float64)
        cov.width = np.asarray(state["width"], dtype=np.float64)
        cov.high = cov.low + cov.width * cov.cells
        cov.support = {int(c) for c in state["support"]}
        cov.counts = {int(k): int(v) for k, v in state["counts"].items()}
        return cov

    @property
    def visited(self) -> set[int]:
        """The cells some stored state has reached."""
        return set(self.counts)

    @classmethod
    def from_env(cls, env: Any, *, samples: int = 1000, cells: int = 10, seed: int = 2_000_000) -> GoalCoverage:
        """From the ``desired_goal`` of ``samples`` resets of a goal env (seeds ``seed + i``).

        A Gymnasium-Robotics maze (``env.unwrapped.maze``) is measured in its own cells: the
        support is the cells goals can be drawn in, and ``cells`` is not used."""
        maze = getattr(env.unwrapped, "maze", None)
        if maze is not None and hasattr(maze, "unique_goal_locations"):
            return cls.for_maze(maze)
        goals = []
        for i in range(samples):
            obs, _ = env.reset(seed=seed + i)
            if not isinstance(obs, dict) or "desired_goal" not in obs:
                raise ValueError("coverage needs a goal env: a dict observation with desired_goal and achieved_goal")
            goals.append(np.asarray(obs["desired_goal"], dtype=np.float64).reshape(-1))
        return cls(np.stack(goals), cells)

    @classmethod
    def for_maze(cls, maze: Any) -> GoalCoverage:
        """A Gymnasium-Robotics ``Maze``'s cells; the support is its goal cells."""
        scale = float(maze.maze_size_scaling)
        rows, cols = int(maze.map_length), int(maze.map_width)
        centres = np.asarray(maze.unique_goal_locations, dtype=np.float64)  # (M, 2) x, y
        if len(centres) < 2:  # one goal cell: coverage of the free cells instead
            free = [(i, j) for i in range(rows) for j in range(cols) if maze.maze_map[i][j] != 1]
            centres = np.array([maze.cell_rowcol_to_xy(np.array(c)) for c in free], dtype=np.float64)
        low = np.array([-cols * scale / 2, -rows * scale / 2])
        return cls(centres, cells=[cols, rows], low=low, width=[scale, scale])

    def _ids(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        idx = np.floor((points - self.low) / self.width).astype(np.int64)  # (N, G)
        idx = np.where(points <= self.high, np.minimum(idx, self.cells - 1), idx)  # the box's far faces are inside
        idx = np.clip(idx, -1, self.cells)  # outside the box: one cell past its edge, outside the support
        flat = np.zeros(len(idx), dtype=np.int64)
        for g in range(idx.shape[1]):
            flat = flat * (self.cells[g] + 2) + (idx[:, g] + 1)
        return flat

    def add(self, achieved: np.ndarray) -> None:
        """Count the cells of ``achieved`` (N, G) positions as visited."""
        ids, n = np.unique(self._ids(np.asarray(achieved).reshape(len(achieved), -1)), return_counts=True)
        for i, c in zip(ids.tolist(), n.tolist(), strict=True):
            self.counts[i] = self.counts.get(i, 0) + c

    @property
    def fraction(self) -> float:
        """Visited cells of the support over all cells of the support."""
        return len(self.support.intersection(self.counts)) / len(self.support)

    def visited_mask(self, points: np.ndarray) -> np.ndarray:
        """Which of ``points`` (N, G) lie in a visited cell (for drawing the visited region)."""
        return np.isin(self._ids(points), list(self.counts))

    def visits(self, points: np.ndarray) -> np.ndarray:
        """Stored states in the cell of each of ``points`` (N, G) (0 where none)."""
        return np.array([self.counts.get(i, 0) for i in self._ids(points).tolist()], dtype=np.int64)

    def cell_centres(self) -> np.ndarray:
        """Centres of the support's cells (S, G), for drawing."""
        G = len(self.cells)
        out = []
        for flat in sorted(self.support):
            idx = []
            for g in reversed(range(G)):
                idx.append(flat % (self.cells[g] + 2) - 1)
                flat //= self.cells[g] + 2
            out.append(self.low + (np.array(idx[::-1]) + 0.5) * self.width)
        return np.array(out)
