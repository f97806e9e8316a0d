"""The task's env, built from its config: what ``Run`` trains on and a resumed agent
rebuilds its running episodes in."""

from __future__ import annotations

import difflib
import importlib
from functools import partial
from typing import Any

import gymnasium as gym
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv

from jepa_agent.agent.vector import wrap_env
from jepa_agent.configurator import AgentConfig

__all__ = ["default_config", "make_env", "make_vector_env", "register_optional_suites", "split_env_id"]


def make_env(config: AgentConfig, *, render: bool = False) -> gym.Env:
    """The task's env (``task.env`` with ``task.env_kwargs``), rendering RGB frames if asked."""
    register_optional_suites(config.task.env)
    kwargs = dict(config.task.env_kwargs)
    if render:
        kwargs.setdefault("render_mode", "rgb_array")
    return gym.make(config.task.env, **kwargs)


def default_config(overrides: dict[str, Any] | None = None) -> AgentConfig:
    """The config an agent gets when none is given: ``AgentConfig()`` with ``overrides``
    (dotted keys, ``{"task.env": "Hopper-v5"}``), or, where that config's task objective
    resolves to ``reward`` on its env (``configurator.resolve``: no ``desired_goal``), the
    reward tasks' recipe (the shipped ``reward`` config) with them. One recipe for every
    reward task, as the shipped locomotion configs are it and their env id."""
    from jepa_agent.agent.spaces import inspect_env
    from jepa_agent.configurator.loading import apply_overrides, load_config
    from jepa_agent.configurator.resolve import Facts, resolve_objective

    overrides = dict(overrides or {})
    config = apply_overrides(AgentConfig(), overrides)
    env = make_env(config)
    try:
        facts = Facts.of(inspect_env(env).input_shapes)
    finally:
        env.close()
    reward = resolve_objective(config.task.objective, facts) == "reward"
    return apply_overrides(load_config("reward"), overrides) if reward else config


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
    ``maze`` extra); an id unknown after that fails with the closest registered ids.

    ``"some_module:SomeEnv-v0"`` is read as ``gymnasium.make`` reads it: ``some_module`` is
    imported (registering its envs), then ``SomeEnv-v0`` must be registered. A module that
    cannot be imported, or that registers no such id, fails naming the module (and the ids
    it registered)."""
    from jepa_agent import envs  # noqa: F401  (registers the jepa_agent/* ids)

    module, name = split_env_id(env_id)
    if module is not None:
        _import_registering(module, name, env_id)
        return
    if env_id in gym.registry:
        return
    try:
        import gymnasium_robotics
    except ImportError:
        gymnasium_robotics = None
    if gymnasium_robotics is not None:
        gym.register_envs(gymnasium_robotics)
    if env_id not in gym.registry:
        missing = (
            "; gymnasium-robotics (PointMaze_UMaze-v3 and other goal envs) is not installed: "
            "pip install -e '.[maze]'" if gymnasium_robotics is None else ""
        )
        raise ValueError(f"unknown env {env_id!r}{_closest(env_id)}{missing}")


def split_env_id(env_id: str) -> tuple[str | None, str]:
    """``"some_module:SomeEnv-v0"`` -> ``("some_module", "SomeEnv-v0")``; an id without a
    module -> ``(None, env_id)`` (Gymnasium's ``module:id`` syntax: one colon at most)."""
    if ":" not in env_id:
        return None, env_id
    module, _, name = env_id.partition(":")
    if not module or not name or ":" in name:
        raise ValueError(
            f"env {env_id!r} is not an id: write 'SomeEnv-v0', or 'some_module:SomeEnv-v0' to import "
            "some_module (which registers SomeEnv-v0) first"
        )
    return module, name


def _import_registering(module: str, name: str, env_id: str) -> None:
    """Import ``module`` and check that ``name`` is registered after it."""
    before = set(gym.registry)
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is not None and (module == err.name or module.startswith(f"{err.name}.")):
            raise ValueError(
                f"env {env_id!r}: no module named {module!r} to import (the part before ':' names the "
                "module that registers the env); install it or put its folder on PYTHONPATH"
            ) from None
        raise ValueError(f"env {env_id!r}: importing module {module!r} failed: {_one_line(err)}") from err
    except Exception as err:  # the user's module raised while it was imported
        raise ValueError(
            f"env {env_id!r}: importing module {module!r} failed: {type(err).__name__}: {_one_line(err)}"
        ) from err
    if name in gym.registry:
        return
    ids = sorted((set(gym.registry) - before) | {i for i, spec in gym.registry.items() if _from_module(spec, module)})
    registered = f"it registered {', '.join(ids)}" if ids else "it registered no env"
    raise ValueError(
        f"env {env_id!r}: module {module!r} was imported but {name!r} is not registered ({registered}); "
        f"register it there with gymnasium.register(id={name!r}, entry_point=...){_closest(name)}"
    )


def _from_module(spec: Any, module: str) -> bool:
    """Whether an env spec's entry point lives in ``module`` (or a module inside it)."""
    entry = spec.entry_point
    where = entry.partition(":")[0] if isinstance(entry, str) else getattr(entry, "__module__", None) or ""
    return where == module or where.startswith(f"{module}.")


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def _closest(env_id: str) -> str:
    """The closest registered ids as a hint (``; did you mean ...?``), or nothing."""
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""
