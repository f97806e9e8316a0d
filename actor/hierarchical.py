"""Hierarchical planning (H-JEPA): macro-actions at the coarse level, subgoals for the fine level.

Top-down, each control step of B envs:

1. where a new subgoal is due (every ``replan_every`` steps, when the current one is
   reached, or at an episode's start) the ``high`` planner searches ``macro_steps`` latent
   macro-actions on the coarse world model (``world_model.CoarseWorldModel``) to minimise the
   goal energy at the coarse level plus the critic;
2. a predicted coarse latent (the ``subgoal_step``-th; by default the first) becomes that
   env's subgoal;
3. the ``low`` planner plans primitive actions on the fine model toward the subgoal, with
   the task's own cost (its goal term and critic now read the subgoal).

Both levels are ordinary planners of the suite on ordinary world models: the hierarchy is
composition. ``deadline_s`` covers both levels (``high_share`` of it goes to the top).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, ClassVar

import torch
from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator

from jepa_agent.actor.base import Planner, PlannerConfig, PlanProblem, TrajectoryCost
from jepa_agent.world_model import WorldModel


class HierarchicalConfig(PlannerConfig):
    """Configuration of :class:`HierarchicalPlanner`. ``high`` and ``low`` name the planner of
    each level as a module spec (``{"name": "cem", "options": {...}}``)."""

    sets_subgoals: ClassVar[bool] = True

    high: dict[str, Any] = {"name": "cem", "options": {"samples": 256, "iterations": 4}}
    """The coarse level's planner (over macro-actions in ``[-1, 1]^M``)."""
    low: dict[str, Any] = {"name": "cem", "options": {}}
    """The fine level's planner (over primitive actions, toward the subgoal)."""
    macro_steps: PositiveInt = 4
    """Coarse steps the top plans ahead (it sees ``macro_steps * k`` primitive steps)."""
    subgoal_step: PositiveInt = 1
    """Which of the top's predicted coarse latents becomes the subgoal: 1, the first (``k``
    actions ahead); 2, the second (``2 k`` ahead, beyond a fine horizon of ``k``: the fine
    planner keeps moving instead of stopping at a subgoal it has reached in its horizon)."""
    replan_every: PositiveInt | None = None
    """Primitive steps between new subgoals; None: the coarse model's ``k``."""
    subgoal_threshold: NonNegativeFloat = 0.0
    """Latent distance from the subgoal at which it counts as reached and the top replans
    at once (0: only every ``replan_every`` steps)."""
    high_share: float = Field(0.5, gt=0.0, lt=1.0)
    """Share of ``deadline_s`` the top may use when it replans."""
    direct: float | None = Field(None, gt=0.0, le=1.0)
    """Hand the fine level the goal itself, not a subgoal, where the subgoal (the top's
    ``subgoal_step``-th coarse latent) already makes at least this share of its plan's progress
    toward the goal (latent distance; 0.9: the goal is that near, and a predicted latent short
    of it would only add the coarse model's error). None: always the coarse latent."""

    @model_validator(mode="after")
    def _subgoal_within_plan(self) -> HierarchicalConfig:
        if self.subgoal_step > self.macro_steps:
            raise ValueError(f"subgoal_step must be at most macro_steps ({self.macro_steps}), got {self.subgoal_step}")
        return self


class HierarchicalPlanner(Planner):
    """A coarse planner that sets subgoals and a fine planner that reaches them.

    ``coarse_model``: the coarse world model (its ``action_dim`` is the macro size);
    ``coarse_cost``: the cost of coarse trajectories (``cost(states (..., M, D), macro-actions
    (..., M, Mdim), goal (..., D)) -> (...)``; the configurator builds the goal energy plus the
    critic, with the discount and weight of K primitive steps per coarse step).
    """

    config: HierarchicalConfig
    state_attrs = ("subgoal", "since", "high_warm")

    def __init__(
        self, config: HierarchicalConfig, *, high: Planner, low: Planner, coarse_model: WorldModel,
        coarse_cost: TrajectoryCost,
    ) -> None:
        super().__init__(config)
        self.high, self.low = high, low
        self.coarse_model, self.coarse_cost = coarse_model, coarse_cost
        self.every = config.replan_every or int(getattr(coarse_model, "k", 1))
        self.subgoal: torch.Tensor | None = None  # (B, D)
        self.since: torch.Tensor | None = None  # (B,) primitive steps since each env's subgoal was set
        self.high_warm: torch.Tensor | None = None  # (B, M, Mdim) the last coarse plan
        self.last_high = None
        """The top's last :class:`PlanResult` (its predicted coarse latents are the imagined subgoals)."""

    @property
    def imagined_subgoals(self) -> torch.Tensor | None:
        """The top's predicted coarse latents (B, macro_steps, D) of its last plan (the
        agent keeps them in short-term memory), or None before the first."""
        return None if self.last_high is None else self.last_high.states

    def reset(self, rows: torch.Tensor | None = None) -> None:
        """Forget the subgoals (of the envs ``rows`` (B,) bool only, where given)."""
        if rows is None or self.since is None or self.since.shape[0] != rows.shape[0]:
            self.subgoal = self.since = self.high_warm = None
            self.high.reset()
            self.low.reset()
            return
        self.since = torch.where(rows, torch.full_like(self.since, self.every), self.since)  # due at once
        self.high.reset(rows)
        self.low.reset(rows)

    def due(self, s0: torch.Tensor) -> torch.Tensor:
        """Which envs need a new subgoal now. Shapes: s0 (B, D) -> (B,) bool."""
        B = s0.shape[0]
        if self.subgoal is None or self.since is None or self.subgoal.shape[0] != B:
            return torch.ones(B, dtype=torch.bool, device=s0.device)
        due = self.since >= self.every
        if self.config.subgoal_threshold > 0:
            due = due | ((s0 - self.subgoal).norm(dim=-1) < self.config.subgoal_threshold)
        return due

    def optimize(self, problem: PlanProblem, start: float) -> tuple[torch.Tensor, torch.Tensor, int]:
        due = self.due(problem.s0)  # (B,)
        high_iters = 0
        if bool(due.any()):  # one host sync per step: the top runs only when some env needs it
            high_iters = self._new_subgoals(problem, due)
        assert self.subgoal is not None and self.since is not None
        self.since = self.since + 1
        left = None
        if problem.deadline_s is not None:
            left = max(problem.deadline_s - (time.perf_counter() - start), 0.0)
        fine = dataclasses.replace(problem, goal=self.subgoal, deadline_s=left)
        actions, cost, iterations = self.low.optimize(fine, time.perf_counter())
        return actions, cost, iterations + high_iters

    def _new_subgoals(self, problem: PlanProblem, due: torch.Tensor) -> int:
        """Plan the top for the B envs and take its ``subgoal_step``-th coarse latent (or, with
        ``direct``, the goal) as the subgoal of the ``due`` ones (the others keep theirs).
        Returns the top's iterations."""
        s0, B = problem.s0, problem.s0.shape[0]
        coarse = self.coarse_model
        ones = torch.ones(coarse.action_dim, device=s0.device, dtype=s0.dtype)
        mine = self.since is not None and self.since.shape[0] == B  # state for these B envs
        warm = None
        if mine and self.high_warm is not None:
            warm = torch.cat([self.high_warm[:, 1:], self.high_warm[:, -1:]], dim=1)  # (B, macro_steps, M)
        top = PlanProblem(
            s0=s0, goal=problem.goal, horizon=self.config.macro_steps, action_low=-ones, action_high=ones,
            world_model=coarse, cost=self.coarse_cost, warm_start=warm, generator=problem.generator,
            deadline_s=None if problem.deadline_s is None else self.config.high_share * problem.deadline_s,
        )
        result = self.high.plan(top)
        states = result.states if result.states is not None else coarse.rollout(s0, result.actions)
        self.last_high = result
        chosen = states[:, self.config.subgoal_step - 1]  # (B, D)
        if self.config.direct is not None:
            d0 = (s0 - problem.goal).norm(dim=-1)  # (B,)
            gap = (states - problem.goal[:, None]).norm(dim=-1)  # (B, M)
            best = d0 - gap.min(dim=1).values  # (B,) the plan's progress toward the goal
            reach = d0 - gap[:, self.config.subgoal_step - 1]  # (B,) the subgoal's progress
            near = (best > 0) & (reach >= self.config.direct * best)  # (B,)
            chosen = torch.where(near[:, None], problem.goal, chosen)
        if mine and self.subgoal is not None and self.high_warm is not None and self.since is not None:
            self.subgoal = torch.where(due[:, None], chosen, self.subgoal)  # (B, D)
            self.high_warm = torch.where(due[:, None, None], result.actions, self.high_warm)
            self.since = torch.where(due, torch.zeros_like(self.since), self.since)
        else:
            self.subgoal, self.high_warm = chosen, result.actions
            self.since = torch.zeros(B, dtype=torch.long, device=s0.device)
        return result.iterations
