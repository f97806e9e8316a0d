"""Tests of envs/reach_goals.py: goal sampling, distance and reward as plain functions."""

import numpy as np
import pytest

from jepa_agent.envs.reach_goals import (
    GOAL_SAMPLING_ATTEMPTS,
    goal_distance,
    goal_reward,
    sample_goal_qpos,
)


def _planar_site(qpos: np.ndarray) -> np.ndarray:
    """A toy 'fingertip': the configuration itself, lifted to 3-D."""
    return np.array([qpos[0], qpos[1], 0.0])


def test_goal_reward_known_answers():
    """Dense reward is -distance; sparse is -1 beyond the threshold and 0 within it."""
    achieved, desired = np.array([[0.0, 0.0], [0.3, 0.4]]), np.zeros(2)
    np.testing.assert_allclose(goal_reward(achieved, desired, reward_type="dense", success_threshold=0.1), [0.0, -0.5])
    np.testing.assert_array_equal(goal_reward(achieved, desired, reward_type="sparse", success_threshold=0.1), [0.0, -1.0])
    with pytest.raises(ValueError, match="goal dim G"):
        goal_distance(np.zeros(2), np.zeros(3))


def test_sample_goal_qpos_keeps_goals_far_from_the_start():
    """Every sampled goal's fingertip lies at least min_goal_distance from the start pose's."""
    rng = np.random.default_rng(0)
    start = np.zeros(2)
    for _ in range(50):
        goal = sample_goal_qpos(
            rng, -np.ones(2), np.ones(2), site_position=_planar_site, accept=lambda q, s: True,
            start_qpos=start, goal_dims=np.array([0, 1]), min_goal_distance=0.8,
        )
        assert np.linalg.norm(goal) >= 0.8


def test_sample_goal_qpos_gives_up_when_nothing_is_accepted():
    """A hook that rejects every draw ends in a RuntimeError after GOAL_SAMPLING_ATTEMPTS draws."""
    calls = []
    with pytest.raises(RuntimeError, match=f"no acceptable goal in {GOAL_SAMPLING_ATTEMPTS} draws"):
        sample_goal_qpos(
            np.random.default_rng(0), -np.ones(2), np.ones(2), site_position=_planar_site,
            accept=lambda q, s: calls.append(q) is not None, start_qpos=np.zeros(2), goal_dims=np.array([0, 1]),
        )
    assert len(calls) == GOAL_SAMPLING_ATTEMPTS
