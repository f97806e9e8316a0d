"""How the agent collects its training data, chosen here with the task's other modules:
the collection actor (its planner, its cost, the epistemic term and that term's schedule)
and the practice goals the agent sets itself (which tasks can have them, and which stored
observations they are).

The loops (``agent.loops``) call these; the agent keeps what they return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from jepa_agent.actor import Actor
from jepa_agent.configurator.config import ExplorationConfig
from jepa_agent.cost import Cost, EpistemicDisagreement
from jepa_agent.memory import ReplayBuffer
from jepa_agent.world_model import WorldModel

__all__ = ["Weighted", "check_practice", "collection_actor", "epistemic_weight", "practice_goals"]


class Weighted:
    """A cost term times a weight the agent changes as training goes (a schedule)."""

    def __init__(self, term: Callable[..., torch.Tensor], weight: float) -> None:
        self.term, self.weight = term, weight

    def __call__(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        return self.weight * self.term(states, actions, goal)


def check_practice(exploration: ExplorationConfig, *, goal_kind: str, world_model: WorldModel,
                   input_shapes: Mapping[str, Sequence[int]]) -> None:
    """Refuse practice goals the task cannot have, before the first step."""
    if exploration.practice_goals == 0:
        return
    key = "training.exploration."
    what = f"{key}practice_goals={exploration.practice_goals}"
    if goal_kind == "none":
        raise ValueError(f"{what} needs a goal task (a goal observation or desired_goal); this one is defined by the reward")
    if exploration.practice_frontier == "disagreement" and getattr(world_model, "ensemble", None) is None:
        raise ValueError(f"{what} at the disagreement frontier needs a world model with an ensemble "
                         f"(ensemble_heads >= 2), or {key}practice_frontier=sparse")
    if exploration.practice_frontier == "sparse" and "achieved_goal" not in input_shapes:
        raise ValueError(f"{what} at the sparse frontier needs observations with achieved_goal, got keys "
                         f"{sorted(input_shapes)}; use {key}practice_frontier=disagreement")
    if exploration.practice_achieve > 0 and "achieved_goal" not in input_shapes:
        raise ValueError(f"{key}practice_achieve={exploration.practice_achieve} draws goals over the visited "
                         f"goal-space cells and needs observations with achieved_goal, got keys "
                         f"{sorted(input_shapes)}; set it to 0")


def collection_actor(configurator: Any, modules: Any) -> tuple[Actor, Weighted | None]:
    """The actor training collects with, and its epistemic term (None without one):
    ``training.exploration.planner`` (None: the task's), the task's cost with
    ``training.exploration.cost`` replaced, and with ``training.exploration.epistemic_weight``
    that cost plus the epistemic term. ``modules``: the task's, as :class:`configurator.Modules` names them
    (world_model, critic, probe, policy, coarse_world_model, cost, actor); where nothing
    differs from the task's, its actor."""
    ecfg, task = configurator.config.training.exploration, configurator.task
    m = modules
    spec, cost, cost_config = ecfg.planner, m.cost, task.cost
    epistemic = None
    if ecfg.cost:
        cost_config = ecfg.collecting(task.cost)
        cost = configurator.build_cost(cost_config, world_model=m.world_model, critic=m.critic, probe=m.probe)
    if ecfg.epistemic_weight != 0:
        if getattr(m.world_model, "ensemble", None) is None:
            raise ValueError(
                f"training.exploration.epistemic_weight={ecfg.epistemic_weight} needs a world model with an "
                "ensemble (world_model options: ensemble_heads >= 2)"
            )
        epistemic = Weighted(EpistemicDisagreement(m.world_model.disagreement), ecfg.epistemic_weight)
        cost = Cost([*cost.terms, (epistemic, 1.0)], critic=cost.critic,
                    critic_weight=cost.critic_weight, gamma=cost.gamma, termination=cost.termination)
    elif spec is None and cost is m.cost:
        return m.actor, None
    planner = configurator.build_planner(
        spec if spec is not None else task.planner, coarse_model=m.coarse_world_model, critic=m.critic,
        cost=cost_config, objective=configurator.objective, probe=m.probe,
    )
    actor = Actor(
        task.actor, planner=planner, world_model=m.world_model,
        cost=cost, action_low=configurator.action_low, action_high=configurator.action_high, policy=m.policy,
        critic_policy=None if m.critic is None else m.critic.greedy_policy,
    )
    return actor, epistemic


def epistemic_weight(exploration: ExplorationConfig, env_steps: int) -> float:
    """The collection planner's epistemic weight after ``env_steps`` env steps
    (``exploration.epistemic_weight``, falling linearly to 0 over ``epistemic_decay_steps``)."""
    if exploration.epistemic_decay_steps == 0:
        return exploration.epistemic_weight
    return exploration.epistemic_weight * max(0.0, 1.0 - env_steps / exploration.epistemic_decay_steps)


@torch.no_grad()
def practice_goals(
    configurator: Any, replay: ReplayBuffer, n: int, *, rng: np.random.Generator,
    encode: Callable[[dict[str, np.ndarray]], torch.Tensor], world_model: WorldModel,
    generator: torch.Generator | None, visits: Callable[[np.ndarray], np.ndarray],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``n`` observations from the replay at the frontier (``exploration.practice_frontier``):
    where the world model is least certain (:meth:`Configurator.frontier` of their latents,
    ``encode(obs)`` (C, D)), or in the goal-space cells visited least
    (:meth:`Configurator.sparsest`; ``visits(achieved)``: stored states in each one's cell);
    each is instead, with probability ``exploration.practice_achieve``, drawn evenly over the
    visited cells (:meth:`Configurator.achiever`). Returns them and which are the latter
    (n,) bool."""
    tcfg = configurator.config.training.exploration
    batch = replay.sample(tcfg.practice_candidates, 1, rng=rng)
    obs = {k: v[:, 0] for k, v in batch["obs"].items()}  # (C, ...)
    achieve = int((rng.random(n) < tcfg.practice_achieve).sum()) if tcfg.practice_achieve > 0 else 0
    m = n - achieve  # at the frontier
    by_cell = achieve > 0 or (m > 0 and tcfg.practice_frontier == "sparse")
    cell_visits = visits(obs["achieved_goal"]) if by_cell else None  # (C,)
    if m == 0:
        idx = np.zeros(0, dtype=np.int64)
    elif tcfg.practice_frontier == "sparse":
        idx = configurator.sparsest(cell_visits, m, rng)
    else:
        s = encode(obs)  # (C, D)
        idx = configurator.frontier(s, world_model, m, generator=generator, action_low=configurator.action_low,
                                    action_high=configurator.action_high).cpu().numpy()
    if len(idx) < m:
        idx = np.resize(idx, m)
    if achieve:
        idx = np.concatenate([idx, configurator.achiever(cell_visits, achieve, rng)])
    return {k: v[idx] for k, v in obs.items()}, np.arange(n) >= m
