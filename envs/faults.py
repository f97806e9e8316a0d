"""A wrapper that makes an env misbehave on purpose: to test that training survives faults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = ["FAULTS", "InjectFaults"]

FAULTS = ("raise", "nan", "nan_reward", "explode")
"""``raise`` (``step`` raises RuntimeError), ``nan`` (every float in the observation is NaN),
``nan_reward`` (the reward is NaN), ``explode`` (MuJoCo velocities of 1e30 before the step:
the simulator goes unstable and resets its state)."""


class InjectFaults(gym.Wrapper):
    """``InjectFaults(env, {30: "raise", 120: "explode"})`` misbehaves at those steps,
    counted from 1 over the wrapper's life (across episodes); see :data:`FAULTS`."""

    def __init__(self, env: gym.Env, at: Mapping[int, str]) -> None:
        super().__init__(env)
        unknown = sorted(set(at.values()) - set(FAULTS))
        if unknown:
            raise ValueError(f"unknown faults {unknown}; expected some of {list(FAULTS)}")
        self.at, self.t = dict(at), 0

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self.t += 1
        what = self.at.get(self.t)
        if what == "raise":
            raise RuntimeError(f"injected fault at step {self.t}: the env raised")
        if what == "explode":
            self.env.unwrapped.data.qvel[:] = 1e30
        obs, reward, terminated, truncated, info = self.env.step(action)
        if what == "nan":
            if isinstance(obs, Mapping):
                obs = {k: np.full_like(v, np.nan) if np.asarray(v).dtype.kind == "f" else v for k, v in obs.items()}
            else:
                obs = np.full_like(obs, np.nan)
        if what == "nan_reward":
            reward = float("nan")
        return obs, reward, terminated, truncated, info
