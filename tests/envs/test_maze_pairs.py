"""Detour pairs: known answers on a small maze, determinism, and the refusal when too few exist."""

import pytest

from jepa_agent.envs.maze_pairs import detour_pairs, free_cells, line_blocked, path_length

U = [  # Gymnasium-Robotics' U-maze
    [1, 1, 1, 1, 1],
    [1, 0, 0, 0, 1],
    [1, 1, 1, 0, 1],
    [1, 0, 0, 0, 1],
    [1, 1, 1, 1, 1],
]


def test_known_answers_on_the_u_maze():
    assert free_cells(U) == [(1, 1), (1, 2), (1, 3), (2, 3), (3, 1), (3, 2), (3, 3)]
    assert line_blocked(U, (1, 1), (3, 1))  # straight down through the wall row
    assert not line_blocked(U, (1, 1), (1, 3))  # along the top corridor
    assert path_length(U, (1, 1), (3, 1)) == 6 and path_length(U, (1, 1), (1, 3)) == 2
    assert path_length([[0, 1, 0]], (0, 0), (0, 2)) == -1


def test_pairs_are_blocked_long_distinct_and_seeded():
    pairs = detour_pairs(U, 4, seed=3)
    assert len(set(pairs)) == 4 and pairs == detour_pairs(U, 4, seed=3)
    for a, b in pairs:
        assert line_blocked(U, a, b) and path_length(U, a, b) >= 3
    with pytest.raises(ValueError, match="detour pairs"):
        detour_pairs(U, 100)


def test_reach2d_wall_blocks_the_shoulder_and_its_pairs_cross_it():
    """The wall at 90 degrees stops the arm turning through it; goals never touch it; every
    detour pair has start and goal on either side with the short way through the wall."""
    import math

    import gymnasium as gym
    import numpy as np

    from jepa_agent import envs  # noqa: F401

    env = gym.make("jepa_agent/Reach2D-v0", wall_angle=math.pi / 2).unwrapped
    assert env.touches_wall(np.array([math.pi / 2, 0.0])) and not env.touches_wall(np.array([0.0, 0.0]))
    env.reset(seed=0, options={"qpos": [1.0, 0.0]})
    for _ in range(30):
        env.step(np.array([1.0, 0.0], np.float32))
    assert 1.0 < env.data.qpos[0] < math.pi / 2  # pushed against the wall, not through it
    for seed in range(20):
        env.reset(seed=seed)
        assert not env.touches_wall(env._goal_qpos)
    pairs = env.detour_pairs(10, seed=1)
    assert len(pairs) == 10
    for start, goal in pairs:
        assert (start[0] - math.pi / 2) * (goal[0] - math.pi / 2) < 0 and abs(goal[0] - start[0]) < math.pi
    with pytest.raises(ValueError, match="start pose"):
        gym.make("jepa_agent/Reach2D-v0", wall_angle=0.0)
    with pytest.raises(ValueError, match="needs an env with a wall"):
        gym.make("jepa_agent/Reach2D-v0").unwrapped.detour_pairs(2)
