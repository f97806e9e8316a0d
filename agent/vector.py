"""The agent's loops step a Gymnasium vector env; this module is their view of it.

:func:`as_vector_env` takes what a user hands to ``Agent.train`` / ``collect`` /
``evaluate`` (one env, a list of envs stepped in lockstep, or a
``gymnasium.vector.VectorEnv``) and gives a :class:`VectorSteps`: the vector env plus the
bookkeeping of its autoreset mode. Whatever the mode, :meth:`VectorSteps.step` returns for
every env the observation that *ended* its transition (for an env whose episode ended, the
final observation, never the first of the next episode) and the observation its next
transition starts from, so no transition across an episode boundary reaches the replay
buffer.

Envs the agent wraps itself (one env or a list) are made into a ``SyncVectorEnv`` with
``SAME_STEP`` autoreset, each env inside :class:`envs.ActionRepeat` (when
``task.action_repeat`` > 1) and :class:`envs.StepGuard` (its faults end its episode, the
others go on). A user's vector env is used as it is: build its envs with the same wrappers
to get per-env fault handling (:func:`agent.environments.make_vector_env` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv

__all__ = ["Step", "VectorSteps", "as_vector_env", "unbatch_info", "wrap_env"]


def wrap_env(env: gym.Env, action_repeat: int = 1) -> gym.Env:
    """``env`` inside :class:`envs.ActionRepeat` (if ``action_repeat`` > 1) and
    :class:`envs.StepGuard`, as the agent steps every env."""
    from jepa_agent.envs import ActionRepeat, StepGuard

    if action_repeat > 1:
        env = ActionRepeat(env, action_repeat)
    return StepGuard(env)


def unbatch_info(info: Mapping[str, Any], n: int) -> list[dict[str, Any]]:
    """A vector env's info dict (values batched, ``_key`` masks saying which envs gave
    ``key``) as one plain info dict per env; nested dicts are unbatched the same way."""
    out: list[dict[str, Any]] = [{} for _ in range(n)]
    for key, value in info.items():
        if key.startswith("_"):
            continue
        mask = info.get(f"_{key}")
        has = np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        per_env = unbatch_info(value, n) if isinstance(value, Mapping) else value
        for i in np.flatnonzero(has):
            out[i][key] = per_env[i]
    return out


def _rows(obs: Any, n: int) -> list[Any]:
    """A batched observation (array or dict of arrays) as ``n`` per-env observations."""
    if isinstance(obs, Mapping):
        return [{k: np.asarray(v[i]) for k, v in obs.items()} for i in range(n)]
    return [np.asarray(obs[i]) for i in range(n)]


def _stack(rows: Sequence[Any]) -> Any:
    if isinstance(rows[0], Mapping):
        return {k: np.stack([np.asarray(r[k]) for r in rows]) for k in rows[0]}
    return np.stack([np.asarray(r) for r in rows])


class Step:
    """What one step of the B envs gave (raw observations, as the env returns them).

    Attributes: ``ended_obs`` (batched) the observation ending each env's transition;
    ``reward``, ``terminated``, ``truncated`` (B,); ``infos`` B step info dicts;
    ``start_obs`` (batched) where each env goes on from (a new episode's first observation
    where ``done``); ``reset_infos`` {i: reset info} of the envs that began a new episode.
    """

    def __init__(
        self,
        ended_obs: Any,
        reward: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        infos: list[dict[str, Any]],
        start_obs: Any,
        reset_infos: dict[int, dict[str, Any]],
    ) -> None:
        self.ended_obs, self.reward, self.terminated, self.truncated = ended_obs, reward, terminated, truncated
        self.infos, self.start_obs, self.reset_infos = infos, start_obs, reset_infos

    @property
    def done(self) -> np.ndarray:
        return self.terminated | self.truncated


class VectorSteps:
    """A vector env as the agent's loops step it (see the module docstring).

    ``sources``: what the user passed (kept to recognise the same envs on the next call).
    Nothing is closed here: the envs are the user's.
    """

    def __init__(self, vec: VectorEnv, sources: Any) -> None:
        self.vec, self.sources = vec, sources
        self.num_envs = int(vec.num_envs)
        mode = vec.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        self.mode = mode if isinstance(mode, AutoresetMode) else AutoresetMode(mode)

    def same(self, env: Any) -> bool:
        """``env`` is what this was made from (the same objects)."""
        if isinstance(env, Sequence) and isinstance(self.sources, Sequence):
            return len(env) == len(self.sources) and all(a is b for a, b in zip(env, self.sources, strict=True))
        return env is self.sources

    def reset(self, seed: int | Sequence[int | None] | None = None) -> tuple[Any, list[dict[str, Any]]]:
        """Reset every env (env ``i`` with ``seed + i``, or ``seed[i]``); batched obs, B infos."""
        obs, info = self.vec.reset(seed=seed)
        return obs, unbatch_info(info, self.num_envs)

    def reset_some(
        self, obs: Any, mask: np.ndarray, seeds: Sequence[int | None] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> tuple[Any, dict[int, dict[str, Any]]]:
        """Reset the envs ``mask`` (B,) bool (with ``seeds[i]`` where given, and ``options``
        for each of them); ``obs`` with their rows replaced, and their reset infos."""
        mask = np.asarray(mask, dtype=bool)
        seed = list(seeds) if seeds is not None else [None] * self.num_envs
        new, info = self.vec.reset(seed=seed, options={**(options or {}), "reset_mask": mask})
        infos = unbatch_info(info, self.num_envs)
        rows, fresh = _rows(obs, self.num_envs), _rows(new, self.num_envs)
        for i in np.flatnonzero(mask):
            rows[i] = fresh[i]
        return _stack(rows), {int(i): infos[i] for i in np.flatnonzero(mask)}

    def step(self, action: np.ndarray) -> Step:
        """Step all B envs with ``action`` (B, A); envs whose episode ended start the next."""
        obs, reward, terminated, truncated, info = self.vec.step(action)
        reward = np.asarray(reward, dtype=np.float64)
        terminated, truncated = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
        done = terminated | truncated
        infos = unbatch_info(info, self.num_envs)
        if not done.any():
            return Step(obs, reward, terminated, truncated, infos, obs, {})
        if self.mode == AutoresetMode.SAME_STEP:
            # the envs that ended were reset inside step: obs holds their new episode's first
            # observation, info["final_obs"] / ["final_info"] the end of the old one
            ended, reset_infos = _rows(obs, self.num_envs), {}
            for i in np.flatnonzero(done):
                ended[i] = infos[i].pop("final_obs")
                reset_infos[int(i)] = {k: v for k, v in infos[i].items() if k != "final_info"}
                infos[i] = infos[i].get("final_info", {})
            return Step(_stack(ended), reward, terminated, truncated, infos, obs, reset_infos)
        # NEXT_STEP would spend the next step on the reset; DISABLED leaves it to us: either
        # way the ended envs are reset now, so every step of every env is a transition
        start, reset_infos = self.reset_some(obs, done)
        return Step(obs, reward, terminated, truncated, infos, start, reset_infos)

    def goal_observations(self, rows: Sequence[int]) -> list[Any]:
        """``goal_observation()`` of the envs ``rows`` (for envs that give it only as a method):
        called directly on a ``SyncVectorEnv``'s envs, through ``call`` on the others'."""
        envs = getattr(self.vec, "envs", None)
        if envs is not None:
            return [envs[i].get_wrapper_attr("goal_observation")() for i in rows]
        every = self.vec.call("goal_observation")
        return [every[i] for i in rows]

    def states(self) -> list[Any]:
        """Every env's resumable state (:class:`envs.StepGuard`'s ``resume_state``)."""
        try:
            return list(self.vec.get_attr("resume_state"))
        except AttributeError as err:
            raise ValueError(
                "saving a resumable checkpoint needs the envs' states: build the vector env from "
                "envs wrapped in envs.StepGuard (agent.environments.make_vector_env does)"
            ) from err

    def set_states(self, states: Sequence[Any]) -> None:
        self.vec.set_attr("resume_state", list(states))



def as_vector_env(env: Any, action_repeat: int = 1) -> VectorSteps:
    """One env, a list of B envs or a ``VectorEnv`` (see the module docstring) as the loops'
    :class:`VectorSteps`. With ``action_repeat`` > 1 a ``VectorEnv``'s envs must repeat
    actions themselves (:class:`envs.ActionRepeat`), which its ``metadata["action_repeat"]``
    says (:func:`agent.environments.make_vector_env` sets it); else it is refused."""
    if isinstance(env, VectorEnv):
        if action_repeat > 1 and env.metadata.get("action_repeat") != action_repeat:
            raise ValueError(
                f"task.action_repeat={action_repeat} cannot be applied to a VectorEnv from outside: "
                "build it from envs wrapped in envs.ActionRepeat (agent.environments.make_vector_env does) "
                "and set task.action_repeat to 1"
            )
        return VectorSteps(env, env)
    envs = list(env) if isinstance(env, Sequence) else [env]
    if not envs:
        raise ValueError("expected an env, a non-empty list of envs or a gymnasium VectorEnv, got an empty list")
    for i, e in enumerate(envs):
        if not isinstance(e, gym.Env):
            raise TypeError(f"env {i} must be a gymnasium.Env (or pass a gymnasium VectorEnv), got {type(e).__name__}")
    wrapped = [wrap_env(e, action_repeat) for e in envs]
    vec = SyncVectorEnv([lambda w=w: w for w in wrapped], autoreset_mode=AutoresetMode.SAME_STEP)
    return VectorSteps(vec, env)
