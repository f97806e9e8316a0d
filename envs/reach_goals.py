"""Goals of the reach tasks: sampling goal configurations, distances and rewards in goal space.

Plain functions of numpy arrays, used by `envs.reach.ReachEnv`: `sample_goal_qpos` at
reset, `goal_distance` for each step's info, `goal_reward` for ``compute_reward`` (vectorised
over leading batch dimensions, as Gymnasium-Robotics' ``GoalEnv`` has it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["GOAL_SAMPLING_ATTEMPTS", "REWARD_TYPES", "goal_distance", "goal_reward", "sample_goal_qpos"]

REWARD_TYPES = ("dense", "sparse")
"""``"dense"``: ``-distance``; ``"sparse"``: ``-(distance > success_threshold)``."""
GOAL_SAMPLING_ATTEMPTS = 1000
"""Draws from the goal box before `sample_goal_qpos` gives up."""


def sample_goal_qpos(
    rng: np.random.Generator,
    low: np.ndarray,
    high: np.ndarray,
    *,
    site_position: Callable[[np.ndarray], np.ndarray],
    accept: Callable[[np.ndarray, np.ndarray], bool],
    start_qpos: np.ndarray,
    goal_dims: np.ndarray,
    min_goal_distance: float = 0.0,
) -> np.ndarray:
    """A goal configuration drawn uniformly from the box [low, high], redrawn until acceptable.

    A draw is kept when its fingertip (``site_position``, the 3-D site position in m) lies at
    least ``min_goal_distance`` from the start pose's fingertip in the goal coordinates
    ``goal_dims``, and ``accept(goal_qpos, site)`` agrees. One ``rng.uniform(low, high)``
    call per draw.

    Shapes: low, high, start_qpos (nq,) -> (nq,) float64; site_position (nq,) -> (3,).
    """
    far_from: np.ndarray | None = None
    if min_goal_distance > 0:
        far_from = site_position(start_qpos)[goal_dims]  # (G,)
    for _ in range(GOAL_SAMPLING_ATTEMPTS):
        goal_qpos = rng.uniform(low, high)  # (nq,)
        site = site_position(goal_qpos)  # (3,)
        far = far_from is None or np.linalg.norm(site[goal_dims] - far_from) >= min_goal_distance
        if far and accept(goal_qpos, site):
            return goal_qpos
    raise RuntimeError(
        f"no acceptable goal in {GOAL_SAMPLING_ATTEMPTS} draws from the goal box "
        f"[{low}, {high}]; check _accept_goal"
    )


def goal_distance(achieved_goal: np.ndarray, desired_goal: np.ndarray) -> np.ndarray:
    """Euclidean distance over the last axis, in float64.

    Shapes: achieved_goal (..., G), desired_goal (..., G) -> (...).
    """
    achieved = np.asarray(achieved_goal, dtype=np.float64)
    desired = np.asarray(desired_goal, dtype=np.float64)
    if achieved.shape[-1:] != desired.shape[-1:]:
        raise ValueError(
            f"achieved_goal and desired_goal must share the goal dim G, got "
            f"{achieved.shape} and {desired.shape}"
        )
    return np.linalg.norm(achieved - desired, axis=-1)


def goal_reward(
    achieved_goal: np.ndarray, desired_goal: np.ndarray, *, reward_type: str, success_threshold: float
) -> np.ndarray:
    """``-distance`` (``"dense"``) or ``-(distance > success_threshold)`` (``"sparse"``).

    Shapes: achieved_goal (..., G), desired_goal (..., G) -> (...), float64.
    """
    distance = goal_distance(achieved_goal, desired_goal)
    if reward_type == "sparse":
        return -(distance > success_threshold).astype(np.float64)
    return -distance
