"""Every ``auto`` of a config, resolved once, from named facts.

A few config values stand for "decided by the task or the machine": ``device: auto``,
``task.objective: auto``, ``task.cost.goal_space: auto``, and module options left ``None``
for the task to decide (the world model's ``temporal_coef``, the critic's ``nonnegative``,
the goal encoder's ``normalize_output``). :func:`resolve` replaces each of them by its
concrete value, from :class:`Facts` about the env and the machine and from what the config
itself chooses; the :class:`~jepa_agent.configurator.Configurator` calls it when it is made,
and every module is built from the result. Nothing downstream decides an ``auto`` again.

=========================================  ========================================================
value                                      resolved from
=========================================  ========================================================
``device: auto``                           ``cuda`` where :attr:`Facts.cuda_available`, else ``cpu``
``task.objective: auto``                   ``goal`` where the observation has ``desired_goal``,
                                           else ``reward``
``task.cost.goal_space: auto``             ``probe`` where the goal is a ``desired_goal`` position
                                           (no goal observation, a goal encoder is built) that a
                                           probe reading ``achieved_goal`` measures, and the planner
                                           does not set its own subgoal latents; else ``latent``
the collection's ``goal_space``            as the task's, for the collection's planner, where
(``training.exploration.cost``)            ``training.exploration.cost`` replaces fields of the
                                           task's cost
world model ``temporal_coef: null``        0 for a reward task (smoothness serves the goal energy),
                                           else 1
critic ``nonnegative: null``               true for a goal task (its costs are distances), false
                                           where the reward is part of the cost
goal encoder ``normalize_output: null``    the state encoder's ``normalize_output`` (goal latents
                                           on the states' scale)
=========================================  ========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from jepa_agent.configurator.config import AgentConfig, ModuleSpec

__all__ = [
    "Facts",
    "builds_goal_encoder",
    "probe_key",
    "resolve",
    "resolve_device",
    "resolve_objective",
    "sets_own_subgoals",
]


@dataclass(frozen=True)
class Facts:
    """What the autos of a config are decided from: the env's observation and the machine."""

    observation_keys: frozenset[str]
    """Keys of the observation dict (a flat Box observation is ``observation``)."""
    has_goal_observation: bool = True
    """Whether the env gives ``goal_observation()``; without it a goal is a ``desired_goal``."""
    cuda_available: bool = False
    """Whether torch sees a CUDA device."""

    @classmethod
    def of(cls, input_shapes: Mapping[str, Sequence[int]] | Sequence[str], *, goal_observation: bool = True,
           cuda_available: bool | None = None) -> Facts:
        """The facts of an env's observation (``{key: shape}`` or its keys); CUDA as torch sees it
        unless given."""
        cuda = torch.cuda.is_available() if cuda_available is None else cuda_available
        return cls(frozenset(input_shapes), bool(goal_observation), bool(cuda))


# --------------------------------------------------------------------------- facts of the config
def builds_goal_encoder(config: AgentConfig, facts: Facts) -> bool:
    """Whether the agent has a goal encoder: one is configured and the observation has
    ``achieved_goal`` and ``desired_goal``."""
    return config.goal_encoder is not None and {"achieved_goal", "desired_goal"} <= facts.observation_keys


def probe_key(config: AgentConfig, facts: Facts) -> str | None:
    """The observation key the agent's probe reads out, or None without a probe (none
    configured, or an observation without its key)."""
    if config.probe is None:
        return None
    _, probe = config.probe.resolve("probe")
    key = getattr(probe, "key", "achieved_goal")
    return key if key in facts.observation_keys else None


def sets_own_subgoals(planner: ModuleSpec) -> bool:
    """Whether the planner hands its fine level subgoal latents of its own (declared by its
    config class, ``PlannerConfig.sets_subgoals``: the hierarchical planner's does)."""
    _, config = planner.resolve("planner")
    return bool(getattr(config, "sets_subgoals", False))


def resolve_objective(objective: str, facts: Facts) -> str:
    """``auto``: ``goal`` where the observation has ``desired_goal``, else ``reward``; any other
    objective as it is."""
    if objective == "auto":
        return "goal" if "desired_goal" in facts.observation_keys else "reward"
    return objective


def resolve_device(device: str, *, cuda_available: bool) -> str:
    """``auto``: ``cuda`` where CUDA is available, else ``cpu``; any other device as it is."""
    if device == "auto":
        return "cuda" if cuda_available else "cpu"
    return device


# --------------------------------------------------------------------------- the resolution
def resolve(config: AgentConfig, facts: Facts) -> AgentConfig:
    """``config`` with every ``auto`` (and every option left None for the task) replaced by its
    concrete value (the module docstring's table); a config without any comes back equal.
    A new config, never a mutation."""
    task = config.task
    objective = resolve_objective(task.objective, facts)
    cost = task.cost
    if cost.goal_space == "auto":
        cost = cost.model_copy(update={"goal_space": _goal_space(config, facts, task.planner)})
    task = task.model_copy(update={"objective": objective, "cost": cost})
    training, exploration = config.training, config.training.exploration
    collect_space = exploration.cost.get("goal_space", config.task.cost.goal_space)
    if exploration.cost and collect_space == "auto":  # the collection's own cost, for its planner
        planner = exploration.planner or task.planner
        exploration = exploration.model_copy(update={
            "cost": {**exploration.cost, "goal_space": _goal_space(config, facts, planner)}})
        training = training.model_copy(update={"exploration": exploration})
    _, encoder = config.encoder.resolve("encoder")
    update: dict[str, Any] = {
        "task": task,
        "training": training,
        "device": resolve_device(config.device, cuda_available=facts.cuda_available),
        "world_model": _decided(config.world_model, "world_model", "temporal_coef",
                                0.0 if objective == "reward" else 1.0),
        "critic": _decided(config.critic, "critic", "nonnegative", objective == "goal"),
        # the world model shares its encoder's output normalisation; goal latents follow it
        "goal_encoder": _decided(config.goal_encoder, "goal_encoder", "normalize_output",
                                 bool(getattr(encoder, "normalize_output", False))),
    }
    return config.model_copy(update=update)


def _goal_space(config: AgentConfig, facts: Facts, planner: ModuleSpec) -> str:
    """Where the goal energy of ``config``'s task is measured when planned by ``planner``: the
    probe reads a ``desired_goal`` position well (PointMaze_UMaze: 0.86 success against 0.50 in
    latent space), a hierarchical planner's predicted subgoal latents badly (0.00 against 0.30
    on PointMaze_Medium detours)."""
    goal_is_position = not facts.has_goal_observation and builds_goal_encoder(config, facts)
    probe_reads_goal = goal_is_position and probe_key(config, facts) == "achieved_goal"
    return "probe" if probe_reads_goal and not sets_own_subgoals(planner) else "latent"


def _decided(spec: ModuleSpec | None, kind: str, option: str, value: Any) -> ModuleSpec | None:
    """``spec`` with ``option`` set to ``value`` where its module's config has that option and
    leaves it None (the task decides); any other spec as it is."""
    if spec is None:
        return None
    _, config = spec.resolve(kind)
    if option not in type(config).model_fields or getattr(config, option) is not None:
        return spec
    return spec.model_copy(update={"options": {**spec.options, option: value}})

