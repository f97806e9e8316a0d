"""The state of a collection run: the B envs' running episodes (:class:`Collection`), and
the running statistics the loops and the agent share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from jepa_agent.agent.spaces import success_of
from jepa_agent.agent.vector import VectorSteps

__all__ = ["MAX_FAULTS_IN_A_ROW", "Collection", "ObsDict", "error_text", "latest_metrics", "nanmean", "new_episode",
           "per_env", "reset_envs", "spell", "stack_obs", "success_so_far"]

ObsDict = dict[str, np.ndarray]
"""A batch of observations by entry: {key: (B, ...)}."""


def nanmean(values: Sequence[float]) -> float:
    """The mean of the finite values; NaN when there are none (no episode reported any)."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def success_so_far(so_far: float, now: float) -> float:
    """Running "succeeded at some step": NaN while the env reports no success."""
    if np.isnan(now):
        return so_far
    return max(0.0 if np.isnan(so_far) else so_far, now)


def stack_obs(obs: Sequence[Mapping[str, np.ndarray]]) -> ObsDict:
    """Stack per-env observation dicts into one batched dict. Shapes: [{k: (...)}] -> {k: (B, ...)}."""
    return {k: np.stack([np.asarray(o[k]) for o in obs]) for k in obs[0]}


def new_episode() -> dict[str, list]:
    """An empty episode record: what the agent collects of an env's running episode."""
    return {"obs": [], "actions": [], "costs": [], "planner": []}


MAX_FAULTS_IN_A_ROW = 100
"""Consecutive steps with a fault after which training stops with an error (a broken env
or module would otherwise loop forever)."""


def error_text(err: BaseException) -> str:
    """``Type: message`` on one line."""
    return f"{type(err).__name__}: {' '.join(str(err).split())}"


def latest_metrics(updates: list[dict[str, float]]) -> dict[str, float]:
    """The newest value of every metric in a list of per-update dicts (some are sparse)."""
    out: dict[str, float] = {}
    for u in updates:
        out.update(u)
    return out



def reset_envs(agent: Any, envs: list[Any], seed: int | None) -> tuple[ObsDict, ObsDict | None]:
    """Reset envs (env ``i`` with ``seed + i``); returns the batched observations and, for a
    goal-observation task, the batched goal observations (else None)."""
    obs, goals = [], []
    for i, e in enumerate(envs):
        o, info = e.reset(seed=None if seed is None else seed + i)
        obs.append(agent._adapt(o, batched=False))
        if agent.goal_kind == "observation":
            g = info.get("goal_observation")
            if g is None:
                g = e.get_wrapper_attr("goal_observation")()
            goals.append(agent._adapt(g, batched=False))
    return stack_obs(obs), (stack_obs(goals) if goals else None)


def per_env(name: str, value: Any, B: int, dtype: Any, width: int | None = None) -> np.ndarray:
    """``value`` as one entry per env: (B,) or, with ``width``, (B, width); finite numbers."""
    try:
        x = np.array(value, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers, one per env, got {value!r:.60}") from err
    shape = (B,) if width is None else (B, width)
    if x.size != int(np.prod(shape)):
        raise ValueError(f"{name} must have shape {shape} (one per env), got {x.shape}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite, got {spell(x.reshape(-1)[~np.isfinite(x.reshape(-1))][0])}")
    return x.reshape(shape)


def spell(value) -> str:
    """A non-finite number as people write it: NaN, inf or -inf."""
    return "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")


class Collection:
    """The running episodes of the B envs of a vector env stepped by ``loops.train`` /
    ``collect``: their current observations, returns, and the random actions held while
    exploring. The agent keeps it between calls (``train`` again with the same envs goes on
    with their episodes) and a resumable checkpoint saves it."""

    STATE = ("obs", "t", "length", "returns", "any_success", "random", "held", "practice", "practice_goal",
             "beyond", "achieve")
    """What a resumable checkpoint keeps of it (besides the envs)."""

    def __init__(self, steps: VectorSteps, obs: ObsDict, action_dim: int) -> None:
        B = steps.num_envs
        self.steps, self.obs = steps, obs
        self.t = np.zeros(B, dtype=np.int64)  # agent steps into each episode
        self.length = np.zeros(B, dtype=np.int64)  # env steps into each episode
        self.returns = np.zeros(B)
        self.any_success = np.full(B, np.nan)
        self.random = np.zeros(B, dtype=bool)  # an episode that had random actions
        self.practice = np.zeros(B, dtype=bool)  # an episode whose goal the agent set itself
        self.practice_goal: np.ndarray | None = None  # (B, G) the achieved goal a practice episode pursues
        self.beyond = np.zeros(B, dtype=bool)  # a practice episode that reached its goal: exploring past it
        self.achieve = np.zeros(B, dtype=bool)  # a practice goal drawn over the visited cells (the achiever's)
        self.held = np.zeros((B, action_dim), dtype=np.float32)

    def refresh_held(self, rng: np.random.Generator, low: np.ndarray, high: np.ndarray, repeat: int) -> None:
        """Draw new random actions for the envs whose held action has run its ``repeat``."""
        due = self.t % repeat == 0
        if due.any():
            self.held[due] = rng.uniform(low, high, (int(due.sum()), len(low))).astype(np.float32)

    def step(self, reward: np.ndarray, infos: list[dict[str, Any]], random: bool, env_steps: np.ndarray) -> None:
        self.t += 1
        self.length += env_steps
        self.returns += reward
        self.random |= random
        self.any_success = np.array([success_so_far(a, success_of(i)) for a, i in zip(self.any_success, infos, strict=True)])

    def finish(
        self, i: int, info: dict[str, Any], env_steps: int, terminated: bool, wall_s: float, fault: str | None = None
    ) -> dict[str, Any]:
        """The record of env ``i``'s finished episode (``fault``: what ended it early, if
        anything); its counters start again."""
        record = {
            "fault": fault,
            "env_steps": env_steps,
            "return": float(self.returns[i]),
            "success": success_of(info),
            "success_any": float(self.any_success[i]),
            "final_distance": float(info.get("distance", np.nan)),
            "length": int(self.length[i]),
            "terminated": terminated,
            "random": bool(self.random[i]),
            "practice": bool(self.practice[i]),
            "beyond": bool(self.beyond[i]),
            "achieve": bool(self.achieve[i]),
            "wall_s": wall_s,
        }
        self.t[i], self.length[i], self.returns[i], self.any_success[i], self.random[i] = 0, 0, 0.0, np.nan, False
        self.practice[i] = self.beyond[i] = self.achieve[i] = False
        return record
