"""Turn an env's faults into the end of its episode, so a vector env of many goes on."""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from jepa_agent.envs.state import env_state, set_env_state, take_instability

__all__ = ["FAULT_KINDS", "StepGuard", "nonfinite_faults"]

log = logging.getLogger(__name__)

FAULT_KINDS = ("env_error", "sim_unstable", "nonfinite_obs", "nonfinite_reward")
"""What :class:`StepGuard` reports in ``info["fault"]``."""


class StepGuard(gym.Wrapper):
    """A step that raises, returns a non-finite observation or reward, or leaves MuJoCo
    unstable (it reset its state after NaN or huge values) comes back as a truncated step
    with ``info["fault"]`` naming what happened (see :data:`FAULT_KINDS`) and the last good
    observation; a vector env then resets this env while the others go on. The agent's loop
    does not store such a step: the episode ends before it.

    ``resume_state`` reads and writes the state of the whole wrapped chain
    (:func:`envs.state.env_state`); vector envs reach it through ``get_attr`` / ``set_attr``,
    in this process or a worker's.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._last_obs: Any = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        take_instability(self.env)  # warnings from before this episode are not its fault
        self._last_obs = obs
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        try:
            obs, reward, terminated, truncated, info = self.env.step(action)
        except Exception as err:  # the env (a user's, or a simulator) raised
            log.warning("env step raised (%s: %s); its episode ends", type(err).__name__, err)
            return self._last_obs, 0.0, False, True, {"fault": "env_error"}
        fault = _fault_of(self.env, obs, reward)
        if fault is not None:
            return self._last_obs, 0.0, False, True, {**info, "fault": fault}
        self._last_obs = obs
        return obs, reward, terminated, truncated, info

    @property
    def resume_state(self) -> dict[str, Any]:
        """The state of the wrapped env and its wrappers, and the last observation (plain data)."""
        return {"env": env_state(self.env), "last_obs": copy.deepcopy(self._last_obs)}

    @resume_state.setter
    def resume_state(self, state: dict[str, Any]) -> None:
        set_env_state(self.env, state["env"])
        self._last_obs = copy.deepcopy(state["last_obs"])


def _fault_of(env: gym.Env, obs: Any, reward: Any) -> str | None:
    if take_instability(env):
        return "sim_unstable"
    one = {k: np.asarray(v)[None] for k, v in obs.items()} if isinstance(obs, Mapping) else np.asarray(obs)[None]
    return nonfinite_faults(one, [reward])[0]


def nonfinite_faults(obs: Any, reward: Any) -> list[str | None]:
    """Per env of a batch: ``nonfinite_reward``, ``nonfinite_obs`` (a NaN or inf in any
    floating entry) or None. Shapes: obs (B, ...) or {key: (B, ...)}, reward (B,)."""
    reward = np.asarray(reward, dtype=np.float64).reshape(-1)
    B = len(reward)
    bad_obs = np.zeros(B, dtype=bool)
    for v in (obs.values() if isinstance(obs, Mapping) else (obs,)):
        x = np.asarray(v)
        if x.dtype.kind == "f":
            bad_obs |= ~np.isfinite(x.reshape(B, -1)).all(axis=1)
    return [
        "nonfinite_reward" if not np.isfinite(r) else "nonfinite_obs" if b else None
        for r, b in zip(reward, bad_obs, strict=True)
    ]
