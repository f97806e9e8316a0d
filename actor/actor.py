"""Receding-horizon control: plan (mode 2) or react (mode 1), execute the first action."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from jepa_agent.actor.base import Planner, PlanProblem, PlanResult, TrajectoryCost
from jepa_agent.actor.policy import Policy, PolicyFn, propose
from jepa_agent.world_model import WorldModel, check_shape


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
    offset_gain: float = Field(0.0, ge=0.0, le=1.0)
    """Offset-free MPC: at each decision the latent the world model predicted for the last
    executed action is compared with the one observed, an exponential average of the
    difference (this gain per step) is kept per env, and the planner's model adds it to every
    step it predicts. A persistent disturbance estimate, the integral action that removes
    the steady error a locally biased model leaves (it ends its plans a few cm off the goal
    and stops there). It starts at 0 each episode; the distilled policy (mode 1) ignores it;
    with it the planner steps the model once per predicted step (no batched or compiled
    rollout). 0: off."""
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
        # offset-free MPC: the last decision's (latent (B, D), executed action (B, A)), which
        # rows of it are this episode's (B,), and the disturbance estimate (B, D)
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None
        self._last_valid: torch.Tensor | None = None
        self.offset: torch.Tensor | None = None

    def reset(self, rows: torch.Tensor | None = None) -> None:
        """Forget the previous plan (call at every episode start); with ``rows`` (B,) bool,
        only for those envs (a new episode there while the others go on): their warm start
        becomes the middle of the action range, a cold start."""
        self.planner.reset(rows)
        if rows is None or self.offset is None or self.offset.shape[0] != rows.shape[0]:
            self._last, self._last_valid, self.offset = None, None, None
        else:
            self.offset = torch.where(rows[:, None], 0.0, self.offset)
            if self._last_valid is not None:
                self._last_valid = self._last_valid & ~rows
        if rows is None or self._prev is None or self._prev.shape[0] != rows.shape[0]:
            self._prev = None
            self.last_result = None
            return
        center = (self.action_low + self.action_high) / 2  # (A,)
        self._prev = torch.where(rows[:, None, None], center, self._prev)  # (B, H, A)

    def state(self) -> dict[str, Any]:
        """The warm start, the last plan and the planner's state: what the next ``act``
        depends on besides its arguments (saved with a resumable checkpoint)."""
        return {"prev": self._prev, "last_result": self.last_result, "planner": self.planner.state(),
                "offset": (self._last, self._last_valid, self.offset)}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`'s result."""
        self._prev, self.last_result = state["prev"], state["last_result"]
        self._last, self._last_valid, self.offset = state.get("offset", (None, None, None))
        self.planner.load_state(state["planner"])

    def executed(self, actions: torch.Tensor | np.ndarray | None) -> None:
        """Tell the actor what was executed after its last decision, when that differs from
        what it returned (exploration noise; shapes (B, A)), or None when the last step was
        not its decision (random exploration): the offset estimate then skips that step.
        A no-op unless the offset estimate is on (nothing is converted then)."""
        if self._last is None:
            return
        if actions is None:
            self._last = None
            return
        actions = torch.as_tensor(actions).to(self._last[1])
        check_shape("actions", actions, ("B", "A"), B=self._last[1].shape[0], A=self._last[1].shape[1])
        self._last = (self._last[0], actions)

    @torch.no_grad()
    def _update_offset(self, s: torch.Tensor) -> torch.Tensor:
        """The disturbance estimate after observing ``s`` (B, D): the average of ``s`` minus
        the model's prediction of it from the last decision's latent and executed action."""
        B, gain = s.shape[0], self.config.offset_gain
        if self.offset is None or self.offset.shape[0] != B:
            self.offset, self._last, self._last_valid = torch.zeros_like(s), None, None
        if self._last is not None and self._last_valid is not None and self._last[0].shape[0] == B:
            s_prev, a_prev = self._last
            residual = s - self.world_model.step(s_prev, a_prev)  # (B, D)
            self.offset = torch.where(self._last_valid[:, None], (1 - gain) * self.offset + gain * residual,
                                      self.offset)
        return self.offset

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
        plan_model = self._plan_model
        if self.config.offset_gain > 0:
            plan_model = _Offset(self.world_model, self._update_offset(s))
        problem = PlanProblem(
            s0=s,
            goal=goal,
            horizon=self.horizon,
            action_low=self.action_low,
            action_high=self.action_high,
            world_model=plan_model,
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
        if self.config.offset_gain > 0:
            self._last = (s, result.actions[:, 0])
            self._last_valid = torch.ones(s.shape[0], dtype=torch.bool, device=s.device)
        return result.actions[:, 0]


class _CompiledRollout:
    """A world model whose ``rollout`` is ``torch.compile``d; everything else is the model's."""

    def __init__(self, world_model: WorldModel) -> None:
        self._model = world_model
        self.rollout = torch.compile(world_model.rollout, dynamic=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


class _Offset:
    """A world model that adds a per-env constant ``offset`` (B, D) to every step it predicts
    (offset-free MPC's disturbance); the planner's rows are env-major (B * M rows), each env's
    offset repeated over its M candidates. Everything else is the model's."""

    def __init__(self, world_model: WorldModel, offset: torch.Tensor) -> None:
        self._model = world_model
        self._offset = offset

    def _per_row(self, rows: int) -> torch.Tensor:
        B = self._offset.shape[0]
        if rows % B:
            raise ValueError(f"offset-free planning needs env-major rows, a multiple of the {B} envs; got {rows}")
        return self._offset.repeat_interleave(rows // B, dim=0)  # (rows, D)

    def step(self, s: torch.Tensor, a: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        return self._model.step(s, a, z) + self._per_row(s.shape[0])

    def rollout(self, s0: torch.Tensor, actions: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Shapes: s0 (B, D), actions (B, H, A), z (B, H, Z) or None -> (B, H, D)."""
        self._model.check_rollout_inputs(s0, actions, z)
        d = self._per_row(s0.shape[0])
        s, states = s0, []
        for t in range(actions.shape[1]):
            s = self._model.step(s, actions[:, t], None if z is None else z[:, t]) + d
            states.append(s)
        return torch.stack(states, dim=1)  # (B, H, D)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)
