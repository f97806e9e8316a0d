"""Coverage: how much of the goal space the agent's experience has reached.

The goal space is cut into cells (``cells`` per axis over the bounding box of the goals the
env asks for); the support is the set of cells those goals fall in, and coverage the
fraction of the support that some stored state's ``achieved_goal`` has visited. Measured on
the env's own goal distribution, it says what exploration has to reach, whatever shape the
reachable region has (a joint-space box seen in Cartesian space, a maze's free cells).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["GoalCoverage"]


class GoalCoverage:
    """Visited cells of the goal distribution's support. Shapes: goals (M, G)."""

    def __init__(self, goals: np.ndarray, cells: int = 10) -> None:
        goals = np.asarray(goals, dtype=np.float64)
        if goals.ndim != 2 or len(goals) < 2:
            raise ValueError(f"goals must be (M, G) with M >= 2, got {goals.shape}")
        if cells < 1:
            raise ValueError(f"cells must be >= 1, got {cells}")
        self.cells = cells
        self.low = goals.min(0)
        self.high = goals.max(0)
        self.width = np.maximum(self.high - self.low, 1e-9) / cells  # (G,)
        self.support = set(self._ids(goals).tolist())
        self.visited: set[int] = set()

    @classmethod
    def from_env(cls, env: Any, *, samples: int = 1000, cells: int = 10, seed: int = 2_000_000) -> GoalCoverage:
        """From the ``desired_goal`` of ``samples`` resets of a goal env (seeds ``seed + i``)."""
        goals = []
        for i in range(samples):
            obs, _ = env.reset(seed=seed + i)
            if not isinstance(obs, dict) or "desired_goal" not in obs:
                raise ValueError("coverage needs a goal env: a dict observation with desired_goal and achieved_goal")
            goals.append(np.asarray(obs["desired_goal"], dtype=np.float64).reshape(-1))
        return cls(np.stack(goals), cells)

    def _ids(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        idx = np.floor((points - self.low) / self.width).astype(np.int64)  # (N, G)
        idx = np.where(points <= self.high, np.minimum(idx, self.cells - 1), idx)  # the box's far faces are inside
        idx = np.clip(idx, -1, self.cells)  # outside the box: one cell past its edge, outside the support
        flat = np.zeros(len(idx), dtype=np.int64)
        for g in range(idx.shape[1]):
            flat = flat * (self.cells + 2) + (idx[:, g] + 1)
        return flat

    def add(self, achieved: np.ndarray) -> None:
        """Count the cells of ``achieved`` (N, G) positions as visited."""
        self.visited.update(np.unique(self._ids(np.asarray(achieved).reshape(len(achieved), -1))).tolist())

    @property
    def fraction(self) -> float:
        """Visited cells of the support over all cells of the support."""
        return len(self.visited & self.support) / len(self.support)

    def visited_mask(self, points: np.ndarray) -> np.ndarray:
        """Which of ``points`` (N, G) lie in a visited cell (for drawing the visited region)."""
        return np.isin(self._ids(points), list(self.visited))
