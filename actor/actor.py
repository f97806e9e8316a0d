"""Receding-horizon control: plan (mode 2) or react (mode 1), execute the first action."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from actor.base import Planner, PlanProblem, PlanResult, TrajectoryCost
from actor.policy import Policy, PolicyFn, propose
from world_model import WorldModel, check_shape


class ActorConfig(BaseModel):
    """Configuration of :class:`Actor`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon: PositiveInt = 12
    """H: planning horizon in control steps; the critic covers what lies beyond."""
    mode: Literal["plan", "policy"] = "plan"
    """``plan``: mode 2, MPC with the planner; ``policy``: mode 1, the distilled policy alone."""
    policy_proposals: bool = True
    """Seed the planner with the policy's rolled-out action sequence."""
    critic_proposals: bool = True
    """Also seed it with the sequence the critic's greedy actor takes through the model, when
    the critic has one (an action-value critic: TD-MPC's policy prior)."""
    deadline_s: float | None = Field(None, gt=0.0)
    """Optional time budget per decision (anytime planning), counted from when the agent is
    asked to act (its encoding, the proposals and the plan all fall within it; the planner
    starts no iteration it would finish past it); None: run all iterations."""
    compile: bool = False
    """``torch.compile`` the world model's rollout and the trajectory cost the planner calls
    (the hot loop; worth it on a GPU). The first plans of each new batch shape are slow
    while it compiles; the results equal the uncompiled ones within float tolerance."""


class Actor:
    """Chooses actions for B environments; keeps the last plan to warm-start the next one.

    The warm start is the previous plan shifted by one step, its last action repeated.
    """

    def __init__(
        self,
        config: ActorConfig,
        *,
        planner: Planner,
        world_model: WorldModel,
        cost: TrajectoryCost,
        action_low: torch.Tensor,
        action_high: torch.Tensor,
        policy: Policy | None = None,
        critic_policy: PolicyFn | None = None,
    ) -> None:
        if not (torch.isfinite(action_low).all() and torch.isfinite(action_high).all()):
            raise ValueError(
                f"the actor needs finite action bounds, got low={action_low.tolist()} high={action_high.tolist()}"
            )
        if config.mode == "policy" and policy is None:
            raise ValueError("ActorConfig.mode='policy' needs a policy, got None")
        self.config = config
        self.planner = planner
        self.world_model = world_model
        self.cost = cost
        # what the planner calls: compiled copies of the hot loop when asked
        self._plan_model: Any = _CompiledRollout(world_model) if config.compile else world_model
        self._plan_cost: Any = torch.compile(cost.__call__, dynamic=False) if config.compile else cost
        self.action_low = action_low
        self.action_high = action_high
        self.policy = policy
        self.mode = config.mode
        self.use_policy_proposals = config.policy_proposals and policy is not None
        self.critic_policy = critic_policy if config.critic_proposals else None
        self.horizon = config.horizon
        self.last_result: PlanResult | None = None
        self._prev: torch.Tensor | None = None

    def reset(self, rows: torch.Tensor | None = None) -> None:
        """Forget the previous plan (call at every episode start); with ``rows`` (B,) bool,
        only for those envs (a new episode there while the others go on): their warm start
        becomes the middle of the action range, a cold start."""
        self.planner.reset(rows)
        if rows is None or self._prev is None or self._prev.shape[0] != rows.shape[0]:
            self._prev = None
            self.last_result = None
            return
        center = (self.action_low + self.action_high) / 2  # (A,)
        self._prev = torch.where(rows[:, None, None], center, self._prev)  # (B, H, A)

    def state(self) -> dict[str, Any]:
        """The warm start, the last plan and the planner's state: what the next ``act``
        depends on besides its arguments (saved with a resumable checkpoint)."""
        return {"prev": self._prev, "last_result": self.last_result, "planner": self.planner.state()}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`'s result."""
        self._prev, self.last_result = state["prev"], state["last_result"]
        self.planner.load_state(state["planner"])

    def warm_start(self, batch_size: int) -> torch.Tensor | None:
        prev = self._prev
        if prev is None or prev.shape[0] != batch_size or prev.shape[1] != self.horizon:
            return None
        return torch.cat([prev[:, 1:], prev[:, -1:]], dim=1)  # (B, H, A)

    @torch.no_grad()
    def act(
        self,
        s: torch.Tensor,
        goal: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        mode: Literal["plan", "policy"] | None = None,
        started: float | None = None,
    ) -> torch.Tensor:
        """Shapes: s (B, D), goal (B, D) -> actions (B, A). ``started``: the
        ``time.perf_counter()`` the decision began at (``deadline_s`` counts from it; default now)."""
        started = time.perf_counter() if started is None else started
        check_shape("s", s, ("B", "D"), D=self.world_model.latent_dim)
        check_shape("goal", goal, ("B", "D"), B=s.shape[0], D=self.world_model.latent_dim)
        if (mode or self.mode) == "policy":
            if self.policy is None:
                raise ValueError("mode 'policy' needs a policy, got None")
            return self.policy(s, goal)
        sources: list[PolicyFn] = []
        if self.use_policy_proposals and self.policy is not None:
            sources.append(self.policy)
        if self.critic_policy is not None:
            sources.append(self.critic_policy)
        proposals = None
        if sources:
            proposals = torch.cat(
                [propose(fn, self.world_model, s, goal, self.horizon) for fn in sources], dim=1
            )  # (B, P, H, A)
        problem = PlanProblem(
            s0=s,
            goal=goal,
            horizon=self.horizon,
            action_low=self.action_low,
            action_high=self.action_high,
            world_model=self._plan_model,
            cost=self._plan_cost,
            warm_start=self.warm_start(s.shape[0]),
            proposals=proposals,
            generator=generator,
            deadline_s=None if self.config.deadline_s is None
            else max(self.config.deadline_s - (time.perf_counter() - started), 0.0),
        )
        result = self.planner.plan(problem)
        self.last_result = result
        self._prev = result.actions
        return result.actions[:, 0]


class _CompiledRollout:
    """A world model whose ``rollout`` is ``torch.compile``d; everything else is the model's."""

    def __init__(self, world_model: WorldModel) -> None:
        self._model = world_model
        self.rollout = torch.compile(world_model.rollout, dynamic=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)
