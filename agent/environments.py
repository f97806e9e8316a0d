"""The task's env, built from its config: what ``Run`` trains on and a resumed agent
rebuilds its running episodes in."""

from __future__ import annotations

import gymnasium as gym

from configurator import AgentConfig

__all__ = ["make_env", "register_optional_suites"]


def make_env(config: AgentConfig, *, render: bool = False) -> gym.Env:
    """The task's env (``task.env`` with ``task.env_kwargs``), rendering RGB frames if asked."""
    register_optional_suites(config.task.env)
    kwargs = dict(config.task.env_kwargs)
    if render:
        kwargs.setdefault("render_mode", "rgb_array")
    return gym.make(config.task.env, **kwargs)


def register_optional_suites(env_id: str) -> None:
    """Register our ids and, when ``env_id`` is still unknown, Gymnasium-Robotics' (the
    ``maze`` extra); an id unknown after that fails with the closest registered ids."""
    import envs  # noqa: F401  (registers the jepa_agent/* ids)

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
