"""The total cost: weighted intrinsic terms summed over the horizon, plus the critic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat

from jepa_agent.cost.base import CostFn, CostTerm
from jepa_agent.cost.critic import Critic
from jepa_agent.cost.probe import Probe
from jepa_agent.cost.task_cost import LearnedTaskCost, TaskCost
from jepa_agent.cost.terms import (
    ActionEffort,
    ActionSmoothness,
    EpistemicDisagreement,
    LatentGoalDistance,
    Norm,
    ProbeGoalDistance,
)


class CostConfig(BaseModel):
    """Weights of the built-in intrinsic terms and of the critic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    goal_weight: NonNegativeFloat = 1.0
    """Weight of the latent goal energy (when the goal is part of the task, see
    ``TaskSpec.objective``)."""
    reward_weight: NonNegativeFloat = 1.0
    """Weight of the learned task cost, the env's ``-reward`` predicted in latent space (when
    the reward is part of the task, see ``TaskSpec.objective``)."""
    goal_norm: Norm = "l2"
    """Norm of the latent goal energy: l2 (DINO-WM), l1 (V-JEPA 2-AC) or sq (squared L2)."""
    goal_space: Literal["auto", "latent", "probe"] = "auto"
    """Where the goal energy is measured: ``latent``, the distance between latent states
    (``goal_norm``); ``probe``, the distance between the probe's readouts of them, in the
    env's units (metres: ``goal_weight`` 1 makes 1 m cost 1); ``auto``, the probe for a goal
    env without a goal observation (its goal is a ``desired_goal`` position: measured on
    PointMaze_UMaze, 0.86 success against 0.50 in latent space, same model) planned flat, and
    the latent space otherwise (a hierarchical planner's subgoals are predicted latents, which
    the probe reads badly: 0.00 against 0.30 on PointMaze_Medium detours). The configurator
    decides ``auto`` (``configurator.resolve``); :meth:`Cost.from_config` takes a decided one."""
    probe_weight: NonNegativeFloat = 0.0
    """Weight of the achieved-goal distance read out by the probe (per env unit: with
    metres, 10 makes 10 cm cost as much as one unit of latent distance). Needs a probe."""
    effort_weight: NonNegativeFloat = 0.01
    """Weight of the squared action magnitude."""
    smoothness_weight: NonNegativeFloat = 0.01
    """Weight of the squared change between consecutive actions."""
    epistemic_weight: float = 0.0
    """Weight of the world model's ensemble disagreement along the plan (needs
    ``world_model`` option ``ensemble_heads`` >= 2): positive avoids what the model does not
    know while acting for a user; training's collection sets its own, negative (seek), with
    ``training.epistemic_weight``."""
    critic_weight: NonNegativeFloat = 1.0
    """Weight of the critic's value at the end of the horizon (0 ignores the critic)."""
    gamma: float = Field(0.9, gt=0.0, le=1.0)
    """Discount over the horizon; the critic is trained with the same one."""


class Cost:
    """``C(states, actions, g) = sum_t gamma^t sum_i w_i c_i(s_t, a_t, g) + w_c gamma^H V(s_H, g)``.

    Terms may be :class:`CostTerm` objects or plain callables with the same signature. The
    learned task cost (the env's reward, predicted) is one of them; :meth:`fixed` is the sum
    of the others, which the critic's targets combine with the *observed* reward.
    """

    def __init__(
        self,
        terms: Sequence[tuple[CostTerm | CostFn, float]],
        *,
        critic: Critic | None = None,
        critic_weight: float = 1.0,
        gamma: float = 0.9,
        termination: Callable[[torch.Tensor], torch.Tensor | None] | None = None,
    ) -> None:
        if not terms:
            raise ValueError("Cost needs at least one (term, weight) pair, got none")
        self.terms = list(terms)
        self.termination = termination
        self.critic = critic
        self.critic_weight = critic_weight
        self.gamma = gamma

    @classmethod
    def from_config(
        cls,
        config: CostConfig,
        *,
        critic: Critic | None = None,
        probe: Probe | None = None,
        task_cost: TaskCost | None = None,
        goal: bool = True,
        reward: bool = False,
        disagreement: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    ) -> Cost:
        """The cost of a task defined by its goal, its reward, or both (``goal``, ``reward``):
        the goal energy enters only with ``goal``, the learned task cost only with ``reward``.
        ``config.goal_space`` must be decided (``latent`` or ``probe``) where the goal energy
        enters: ``auto`` depends on what a goal is, which the configurator knows
        (``configurator.resolve``)."""
        terms: list[tuple[CostTerm | CostFn, float]] = []
        if reward and config.reward_weight > 0:
            if task_cost is None:
                raise ValueError("a reward-defined task needs a task cost (AgentConfig.task_cost), got None")
            terms.append((LearnedTaskCost(task_cost), config.reward_weight))
        if goal and config.goal_weight > 0 and config.goal_space == "auto":
            raise ValueError("CostConfig.goal_space 'auto' is decided from the task by the configurator "
                             "(configurator.resolve.resolve); give latent or probe here")
        if goal and config.goal_weight > 0 and config.goal_space == "probe":
            if probe is None:
                raise ValueError("CostConfig.goal_space 'probe' needs a probe reading the achieved goal "
                                 "(AgentConfig.probe and observations with its key), got None")
            terms.append((ProbeGoalDistance(probe), config.goal_weight))
        elif goal and config.goal_weight > 0:
            terms.append((LatentGoalDistance(config.goal_norm), config.goal_weight))
        if goal and config.probe_weight > 0:
            if probe is None:
                raise ValueError("CostConfig.probe_weight > 0 needs a probe (AgentConfig.probe), got None")
            terms.append((ProbeGoalDistance(probe), config.probe_weight))
        if config.effort_weight > 0:
            terms.append((ActionEffort(), config.effort_weight))
        if config.smoothness_weight > 0:
            terms.append((ActionSmoothness(), config.smoothness_weight))
        if config.epistemic_weight != 0:
            if disagreement is None:
                raise ValueError("CostConfig.epistemic_weight != 0 needs a world model with an ensemble "
                                 "(world_model options: ensemble_heads >= 2)")
            terms.append((EpistemicDisagreement(disagreement), config.epistemic_weight))
        termination = task_cost.terminal_prob if reward and task_cost is not None else None
        return cls(
            terms, critic=critic, critic_weight=config.critic_weight, gamma=config.gamma, termination=termination
        )

    def intrinsic(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """Weighted sum of the intrinsic terms per step.

        Shapes: states (..., H, D), actions (..., H, A), goal (..., D) -> (..., H).
        """
        total = None
        for term, weight in self.terms:
            c = weight * term(states, actions, goal)
            total = c if total is None else total + c
        assert total is not None
        return total

    @property
    def task_cost_weight(self) -> float:
        """Weight of the learned task cost (0 when the reward is not part of the task)."""
        return sum(w for term, w in self.terms if isinstance(term, LearnedTaskCost))

    def fixed(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """The intrinsic terms without the learned task cost, per step: what the critic's
        targets add to the observed reward. Shapes as :meth:`intrinsic`; zeros if none."""
        total = states.new_zeros(states.shape[:-1])
        for term, weight in self.terms:
            if not isinstance(term, LearnedTaskCost):
                total = total + weight * term(states, actions, goal)
        return total

    def __call__(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """Total discounted cost of each imagined trajectory.

        With a ``termination`` model (``P(terminated)`` of the transition into each state),
        step ``t`` counts with the probability that no earlier step ended the episode, and
        the critic with the probability that none did: nothing is to come after an end.

        Shapes: states (..., H, D), actions (..., H, A), goal (..., D) -> (...).
        """
        per_step = self.intrinsic(states, actions, goal)  # (..., H)
        H = per_step.shape[-1]
        discount = self.gamma ** torch.arange(H, device=per_step.device, dtype=per_step.dtype)
        ends = None if self.termination is None else self.termination(states)  # (..., H) or None
        alive = None
        if ends is not None:
            alive = torch.cumprod(1.0 - ends, dim=-1)  # (..., H): no end up to and including t
            before = torch.cat([torch.ones_like(alive[..., :1]), alive[..., :-1]], dim=-1)  # (..., H)
            per_step = per_step * before
        total = (per_step * discount).sum(-1)
        if self.critic is not None and self.critic_weight > 0:
            value = self.critic.value(states[..., -1, :], goal)
            if alive is not None:
                value = value * alive[..., -1]
            total = total + self.critic_weight * self.gamma**H * value
        return total
