"""Goal-space coverage: known answers, the env's own goal distribution, and the run's metric."""

from __future__ import annotations

import csv

import gymnasium as gym
import numpy as np
import pytest

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent.app.run import Run, RunOptions
from jepa_agent.agent.coverage import GoalCoverage
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides

from .test_run_loop import TINY


def test_known_answer_on_a_square():
    """Goals filling the unit square in 4x4 cells: a corner point covers 1/16, the centre 4 points 4/16."""
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 41), np.linspace(0, 1, 41)), -1).reshape(-1, 2)
    cov = GoalCoverage(grid, cells=4)
    assert len(cov.support) == 16 and cov.fraction == 0.0
    cov.add(np.array([[0.01, 0.01]]))
    assert cov.fraction == pytest.approx(1 / 16)
    cov.add(np.array([[0.4, 0.4], [0.6, 0.4], [0.4, 0.6], [0.6, 0.6], [5.0, 5.0]]))  # the last is outside
    assert cov.fraction == pytest.approx(5 / 16)
    assert cov.visited_mask(np.array([[0.01, 0.02], [0.9, 0.9]])).tolist() == [True, False]


def test_support_follows_the_goal_distribution():
    """An L-shaped goal set: cells outside the L are not in the support, so reaching the L is all."""
    rng = np.random.default_rng(0)
    goals = np.concatenate([rng.uniform([0, 0], [1, 0.2], (500, 2)), rng.uniform([0, 0], [0.2, 1], (500, 2))])
    cov = GoalCoverage(goals, cells=5)
    assert len(cov.support) == 9  # the bottom row and the left column of a 5x5 grid
    cov.add(goals)
    assert cov.fraction == 1.0
    with pytest.raises(ValueError, match=r"\(M, G\)"):
        GoalCoverage(np.zeros(3))


def test_from_a_reach_env_and_logged_by_a_run(tmp_path):
    """Run measures coverage on Reach2D's goals: it grows with the data and is in metrics.csv."""
    assert GoalCoverage.from_env(gym.make("jepa_agent/Reach2D-v0"), samples=200).support
    config = apply_overrides(AgentConfig(), TINY)
    run = Run(config, tmp_path, RunOptions(steps=300, num_envs=2, episodes=1, log=("csv",), log_every=100))
    run.train()
    run.close()
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    values = [float(r["train/coverage"]) for r in rows if r.get("train/coverage")]
    assert len(values) >= 2 and 0 < values[0] <= values[-1] <= 1
    assert "coverage" in run.history["episodes"][-1]


def test_a_maze_is_measured_in_its_own_cells():
    """A 3x4 maze (walls round a 1x2 corridor), scale 2: each goal cell is one coverage cell,
    points anywhere in a cell visit it, and the visit counts say which cells are thin."""
    from types import SimpleNamespace

    scale, rows, cols = 2.0, 3, 4
    xy = lambda i, j: np.array([(j + 0.5) * scale - cols * scale / 2, rows * scale / 2 - (i + 0.5) * scale])  # noqa: E731
    maze = SimpleNamespace(maze_size_scaling=scale, map_length=rows, map_width=cols,
                           maze_map=[[1, 1, 1, 1], [1, 0, 0, 1], [1, 1, 1, 1]],
                           unique_goal_locations=[xy(1, 1), xy(1, 2)], cell_rowcol_to_xy=lambda c: xy(*c))
    cov = GoalCoverage.for_maze(maze)
    assert len(cov.support) == 2 and cov.fraction == 0.0
    cov.add(np.array([xy(1, 1) + [0.9, -0.9], xy(1, 1), xy(0, 0)]))  # two in the left cell, one in a wall
    assert cov.fraction == 0.5
    assert cov.visits(np.array([xy(1, 1), xy(1, 2)])).tolist() == [2, 0]
    np.testing.assert_allclose(sorted(map(tuple, cov.cell_centres())), sorted([tuple(xy(1, 1)), tuple(xy(1, 2))]))
