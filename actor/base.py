"""The actor's planning interface: a planning problem in, the best action sequence out."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from jepa_agent.world_model import WorldModel, check_shape

Risk = Literal["mean", "cvar", "optimistic"]
TrajectoryCost = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class PlanProblem:
    """Everything a planner needs for one receding-horizon decision of B environments.

    Shapes: s0 (B, D), goal (B, D), action_low / action_high (A,),
    warm_start (B, H, A) or None, proposals (B, P, H, A) or None.
    ``cost(states (..., H, D), actions (..., H, A), goal (..., D)) -> (...)``.
    """

    s0: torch.Tensor
    goal: torch.Tensor
    horizon: int
    action_low: torch.Tensor
    action_high: torch.Tensor
    world_model: WorldModel
    cost: TrajectoryCost
    warm_start: torch.Tensor | None = None
    proposals: torch.Tensor | None = None
    generator: torch.Generator | None = None
    deadline_s: float | None = None

    def validate(self) -> None:
        wm = self.world_model
        check_shape("s0", self.s0, ("B", "D"), D=wm.latent_dim)
        B, A = self.s0.shape[0], wm.action_dim
        check_shape("goal", self.goal, ("B", "D"), B=B, D=wm.latent_dim)
        check_shape("action_low", self.action_low, ("A",), A=A)
        check_shape("action_high", self.action_high, ("A",), A=A)
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon}")
        if self.warm_start is not None:
            check_shape("warm_start", self.warm_start, ("B", "H", "A"), B=B, H=self.horizon, A=A)
        if self.proposals is not None:
            check_shape("proposals", self.proposals, ("B", "P", "H", "A"), B=B, H=self.horizon, A=A)


@dataclass
class PlanResult:
    """Shapes: actions (B, H, A), cost (B,), states (B, H, D) predicted under the prior mode
    (None when the planner's ``predict_states`` is off)."""

    actions: torch.Tensor
    cost: torch.Tensor
    states: torch.Tensor | None
    iterations: int


class PlannerConfig(BaseModel):
    """Options every planner shares: latent-variable samples and how their costs combine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latent_samples: PositiveInt = 1
    """K: samples of the world model's latent variable z per candidate."""
    risk: Risk = "mean"
    """How the K costs of a candidate combine: mean, worst-case CVaR, or optimistic (min)."""
    cvar_alpha: float = Field(0.5, gt=0.0, le=1.0)
    """CVaR level: the mean over the worst ``ceil(alpha * K)`` samples."""
    disagreement_weight: float = 0.0
    """Weight of the disagreement between the K predictions of a candidate (per-feature
    variance across latent samples, summed over features, averaged over the horizon): > 0
    penalises plans whose outcome the model cannot pin down (caution), < 0 rewards them
    (exploration). Needs ``latent_samples >= 2``."""
    predict_states: bool = True
    """Roll the chosen plan through the model once more for ``PlanResult.states`` (the
    imagined trajectory memory keeps); False saves H small sequential model calls."""

    sets_subgoals: ClassVar[bool] = False
    """Whether the planner hands its fine level subgoal latents of its own (not a config
    option: a property of the planner). The configurator measures such a planner's goal
    energy in latent space (``configurator.resolve``): a probe reads predicted latents badly."""

    @model_validator(mode="after")
    def _disagreement_needs_samples(self) -> PlannerConfig:
        if self.disagreement_weight != 0.0 and self.latent_samples < 2:
            raise ValueError(
                f"disagreement_weight={self.disagreement_weight} needs latent_samples >= 2 "
                f"(the spread of one prediction is zero), got latent_samples={self.latent_samples}"
            )
        return self


def keep_best(
    candidates: torch.Tensor, costs: torch.Tensor, best: torch.Tensor, best_cost: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fold one iteration's candidates into the best plan seen so far, per environment.

    Shapes: candidates (B, N, H, A), costs (B, N), best (B, H, A), best_cost (B,)
    -> (best (B, H, A), best_cost (B,), this iteration's lowest cost (B,)).
    """
    it_cost, it_idx = costs.min(dim=1)  # (B,)
    rows = torch.arange(candidates.shape[0], device=candidates.device)
    better = it_cost < best_cost
    best = torch.where(better[:, None, None], candidates[rows, it_idx], best)
    return best, torch.where(better, it_cost, best_cost), it_cost


class Planner(ABC):
    """Finds an action sequence minimising the cost of the world model's predictions.

    Subclasses implement :meth:`optimize`; the base validates the problem, evaluates
    candidates under K latent samples (:meth:`evaluate`) and predicts the chosen plan's states.
    """

    config: PlannerConfig
    state_attrs: tuple[str, ...] = ()
    """Attributes a planner carries from one control step to the next (iCEM's kept elites).
    A resumable checkpoint saves them, so a resumed run plans as the unstopped one would; a
    planner of your own that keeps state between calls lists it here."""

    def __init__(self, config: PlannerConfig) -> None:
        self.config = config

    def reset(self, rows: torch.Tensor | None = None) -> None:
        """A new episode begins in every env (``rows`` None) or in the envs ``rows`` (B,) bool:
        forget what was carried between steps for them. :class:`~actor.Actor` calls it.
        The base carries nothing."""
        return

    def state(self) -> dict[str, Any]:
        """What :attr:`state_attrs` holds now (tensors stay on their device)."""
        return {k: getattr(self, k) for k in self.state_attrs}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`'s result."""
        unknown = sorted(set(state) - set(self.state_attrs))
        if unknown:
            raise ValueError(f"{type(self).__name__} keeps no state named {unknown}; its state_attrs are {list(self.state_attrs)}")
        for k, v in state.items():
            setattr(self, k, v)

    @property
    def faults(self) -> dict[str, int]:
        """Faults survived since the caller last took them (:meth:`take_faults`):
        ``nonfinite_cost`` evaluations in which some candidates scored NaN/inf (ranked
        last), ``nonfinite_plan`` plans that came out non-finite (replaced by the warm start
        or the middle of the range)."""
        faults = self.__dict__.setdefault("_faults", {})
        pending = self.__dict__.pop("_nonfinite_evals", None)
        if pending is not None and int(pending) > 0:
            faults["nonfinite_cost"] = faults.get("nonfinite_cost", 0) + int(pending)
        return faults

    def take_faults(self) -> dict[str, int]:
        """Return :attr:`faults` and start counting afresh."""
        out = dict(self.faults)
        self.faults.clear()
        return out

    def _count(self, kind: str, n: int = 1) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + n

    def plan(self, problem: PlanProblem) -> PlanResult:
        problem.validate()
        if not torch.isfinite(problem.s0).all():
            raise ValueError("s0 contains NaN or inf")
        start = time.perf_counter()
        actions, cost, iterations = self.optimize(problem, start)
        bad = ~torch.isfinite(actions).flatten(1).all(1)  # (B,)
        if bad.any():
            # Never hand a non-finite plan on: fall back to the warm start, else the middle.
            self._count("nonfinite_plan", int(bad.sum()))
            fallback = problem.warm_start
            if fallback is None or not torch.isfinite(fallback).all():
                fallback = ((problem.action_low + problem.action_high) / 2).expand_as(actions)
            actions = torch.where(bad[:, None, None], fallback, actions)
            cost = torch.where(bad, torch.full_like(cost, float("inf")), cost)
        states = None
        if self.config.predict_states:
            with torch.no_grad():
                states = problem.world_model.rollout(problem.s0, actions)  # (B, H, D)
        return PlanResult(actions=actions.detach(), cost=cost.detach(), states=states, iterations=iterations)

    @abstractmethod
    def optimize(self, problem: PlanProblem, start: float) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Return (actions (B, H, A), cost (B,), iterations done)."""

    @staticmethod
    def out_of_time(problem: PlanProblem, start: float, done: int = 0) -> bool:
        """Whether to stop iterating: the deadline has passed, or one more iteration at the
        mean pace of the ``done`` so far would end past it (the deadline bounds the plan)."""
        if problem.deadline_s is None:
            return False
        elapsed = time.perf_counter() - start
        return elapsed + (elapsed / done if done > 0 else 0.0) >= problem.deadline_s

    def evaluate(
        self, problem: PlanProblem, actions: torch.Tensor, z: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Cost of every candidate, aggregated over K latent samples (shared by all candidates).

        Shapes: actions (B, N, H, A), z (B, N, K, H, Z) or None -> (B, N).
        """
        wm = problem.world_model
        B, N, H, A = actions.shape
        if z is not None:
            K = z.shape[2]  # given latents fix K (a latent search passes one per candidate)
        else:
            K = self.config.latent_samples if wm.latent_var_dim > 0 else 1
        s0 = problem.s0[:, None, None, :].expand(B, N, K, -1).reshape(B * N * K, -1)  # (BNK, D)
        a = actions.unsqueeze(2).expand(B, N, K, H, A).reshape(B * N * K, H, A)  # (BNK, H, A)
        if z is None and wm.latent_var_dim > 0:
            # Common random numbers: every candidate is scored under the same K latent
            # samples, so the ranking is decided by the actions, not by lucky draws.
            first = a.reshape(B, N, K, H, A)[:, 0].reshape(B * K, H, A)  # (BK, H, A)
            z = wm.sample_latent(s0.reshape(B, N, K, -1)[:, 0].reshape(B * K, -1), first, problem.generator)
            z = z.reshape(B, 1, K, H, -1).expand(B, N, K, H, -1)  # (B, N, K, H, Z)
        zz = None if z is None else z.reshape(B * N * K, H, -1)  # (BNK, H, Z)
        states = wm.rollout(s0, a, zz).reshape(B, N, K, H, -1)  # (B, N, K, H, D)
        goal = problem.goal[:, None, None, :]  # (B, 1, 1, D)
        costs = self.aggregate(problem.cost(states, actions.unsqueeze(2), goal))  # (B, N)
        if self.config.disagreement_weight != 0.0 and K > 1:
            spread = states.var(dim=2, correction=0).sum(-1).mean(-1)  # (B, N)
            costs = costs + self.config.disagreement_weight * spread
        return self._rank_nonfinite_last(costs)

    def _rank_nonfinite_last(self, costs: torch.Tensor) -> torch.Tensor:
        """NaN or inf candidate costs become worse than every finite one of their row, so
        they never win a plan nor poison a weighted mean; a row with no finite cost becomes
        all zeros (no preference). Shapes: (B, N) -> (B, N)."""
        finite = torch.isfinite(costs)
        # counted on the device and read when the faults are taken: no host sync per iteration
        hit = (~finite).any().to(torch.int64)
        pending = self.__dict__.get("_nonfinite_evals")
        self.__dict__["_nonfinite_evals"] = hit if pending is None else pending + hit
        big = torch.where(finite, costs, torch.full_like(costs, -float("inf"))).amax(1, keepdim=True)  # (B, 1)
        small = torch.where(finite, costs, torch.full_like(costs, float("inf"))).amin(1, keepdim=True)  # (B, 1)
        worst = torch.where(torch.isfinite(big), big + (big - small) + 1.0, torch.zeros_like(big))
        return torch.where(finite, costs, worst.expand_as(costs))

    def aggregate(self, costs: torch.Tensor) -> torch.Tensor:
        """Combine costs over latent samples. Shapes: (B, N, K) -> (B, N)."""
        if costs.shape[-1] == 1 or self.config.risk == "mean":
            return costs.mean(-1)
        if self.config.risk == "optimistic":
            return costs.amin(-1)
        k = max(1, int(round(self.config.cvar_alpha * costs.shape[-1] + 0.4999)))
        return costs.topk(k, dim=-1).values.mean(-1)
