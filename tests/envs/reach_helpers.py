"""Helpers shared by the reach-env tests (both variants, both actuations)."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

from jepa_agent.envs import Reach2DEnv, Reach3DEnv, ReachEnv

ENV_CLASSES = [Reach2DEnv, Reach3DEnv]
ENV_ID = {Reach2DEnv: "jepa_agent/Reach2D-v0", Reach3DEnv: "jepa_agent/Reach3D-v0"}


def wrapped_joint_error(env: ReachEnv, target: np.ndarray, qpos: np.ndarray) -> np.ndarray:
    """target - qpos, taken modulo 2 pi on the unlimited (continuous) joints."""
    err = target - qpos
    unlimited = env.model.jnt_limited == 0
    err[unlimited] = (err[unlimited] + np.pi) % (2 * np.pi) - np.pi
    return err


def assert_check_env_clean(env: gym.Env) -> None:
    """Gymnasium's check_env on the unwrapped env warns about nothing but infinite Box bounds.
    Rendering needs an EGL context; test_reach_render.py runs the full check with it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
    unexpected = [str(w.message) for w in caught if "infinity" not in str(w.message)]
    assert unexpected == []


def farthest_goal(env: ReachEnv) -> tuple[np.ndarray, np.ndarray]:
    """(goal qpos, start qpos) of the hardest reach: each limited joint's goal at the box bound
    farthest from home, start 0.1 rad the other way; the continuous joint0 half a turn away
    (the largest wrapped distance)."""
    low, high = env.goal_qpos_bounds
    home = env.home_qpos
    far = np.where(np.abs(high - home) >= np.abs(low - home), high, low)
    start = home - 0.1 * np.sign(far - home)
    far[0], start[0] = home[0] + np.pi, home[0]
    return far, start
