"""The task's env, built from its config: what ``Run`` trains on and a resumed agent
rebuilds its running episodes in."""

from __future__ import annotations

from functools import partial

import gymnasium as gym
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv

from jepa_agent.agent.vector import wrap_env
from jepa_agent.configurator import AgentConfig

__all__ = ["make_env", "make_vector_env", "register_optional_suites"]


def make_env(config: AgentConfig, *, render: bool = False) -> gym.Env:
    """The task's env (``task.env`` with ``task.env_kwargs``), rendering RGB frames if asked."""
    register_optional_suites(config.task.env)
    kwargs = dict(config.task.env_kwargs)
    if render:
        kwargs.setdefault("render_mode", "rgb_array")
    return gym.make(config.task.env, **kwargs)


def make_vector_env(config: AgentConfig, num_envs: int, *, kind: str | None = None) -> VectorEnv:
    """``num_envs`` of the task's env as a Gymnasium vector env (``kind``: ``sync`` or
    ``async``; default ``training.vector_env``), autoreset in the same step, each env inside
    :class:`envs.ActionRepeat` (``task.action_repeat`` > 1) and :class:`envs.StepGuard`, as
    the agent steps every env: give it to ``Agent.train`` / ``evaluate`` with
    ``task.action_repeat`` kept as it is."""
    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
    kind = kind or config.training.vector_env
    if kind not in ("sync", "async"):
        raise ValueError(f"kind must be sync or async, got {kind!r}")
    register_optional_suites(config.task.env)
    fns = [partial(_wrapped_env, config) for _ in range(num_envs)]
    if kind == "async":
        vec: VectorEnv = AsyncVectorEnv(fns, autoreset_mode=AutoresetMode.SAME_STEP)
    else:
        vec = SyncVectorEnv(fns, autoreset_mode=AutoresetMode.SAME_STEP)
    vec.metadata["action_repeat"] = config.task.action_repeat  # the envs repeat it themselves
    return vec


def _wrapped_env(config: AgentConfig) -> gym.Env:
    return wrap_env(make_env(config), config.task.action_repeat)


def register_optional_suites(env_id: str) -> None:
    """Register our ids and, when ``env_id`` is still unknown, Gymnasium-Robotics' (the
    ``maze`` extra); an id unknown after that fails with the closest registered ids."""
    from jepa_agent import envs  # noqa: F401  (registers the jepa_agent/* ids)

    if env_id in gym.registry:
        return
    try:
        import gymnasium_robotics
    except ImportError:
        gymnasium_robotics = None
    if gymnasium_robotics is not None:
        gym.register_envs(gymnasium_robotics)
    if env_id not in gym.registry:
        import difflib

        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        missing = (
            "; gymnasium-robotics (PointMaze_UMaze-v3 and other goal envs) is not installed: "
            "pip install -e '.[maze]'" if gymnasium_robotics is None else ""
        )
        raise ValueError(f"unknown env {env_id!r}{hint}{missing}")
