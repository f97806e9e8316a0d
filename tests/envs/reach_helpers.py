"""Helpers shared by the reach-env tests (both variants, both actuations)."""

from __future__ import annotations

import numpy as np

from envs import Reach2DEnv, Reach3DEnv, ReachEnv

ENV_CLASSES = [Reach2DEnv, Reach3DEnv]
ENV_ID = {Reach2DEnv: "jepa_agent/Reach2D-v0", Reach3DEnv: "jepa_agent/Reach3D-v0"}


def wrapped_joint_error(env: ReachEnv, target: np.ndarray, qpos: np.ndarray) -> np.ndarray:
    """target - qpos, taken modulo 2 pi on the unlimited (continuous) joints."""
    err = target - qpos
    unlimited = env.model.jnt_limited == 0
    err[unlimited] = (err[unlimited] + np.pi) % (2 * np.pi) - np.pi
    return err
