"""The learned task cost: the environment's reward, predicted from latent state and action.

In the position paper the intrinsic cost is hard-wired; for a task defined by the
environment's reward, that reward *is* the hard-wired part, but the planner can only score
imagined trajectories if it can predict it in latent space. :class:`TaskCost` is that
predictor. It is trained with the world model, on the latents the predictor itself rolls
out over a window (TD-MPC2's reward head), so planning scores imagined states with the very
function that was fitted on imagined states; its gradient also shapes the representation,
keeping what the reward depends on in the latent. In planning it is an ordinary cost term,
used frozen (nothing in planning changes it).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from torch import nn

from jepa_agent.cost.base import CostTerm
from jepa_agent.cost.nets import mlp


class TaskCostConfig(BaseModel):
    """Configuration of :class:`MLPTaskCost`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden_dim: PositiveInt = 128
    """Width of the hidden layers."""
    layers: int = Field(2, ge=1, le=8)
    """Hidden layers."""
    termination: bool | None = None
    """Also predict whether a transition ends the episode (Gymnasium's ``terminated``: a
    hopper that falls), so planning counts no cost past a predicted termination and values
    what lies beyond it at zero. Without it, an imagined fall looks like any other state
    and only the critic can tell. None: on once the replay holds a terminated episode (the
    agent decides when learning starts); False for a task that never terminates, where a
    spurious prediction could only mislead the planner."""
    terminal_pos_weight: float = Field(1.0, gt=0.0)
    """Weight of the terminating transitions in the termination head's cross-entropy
    (``pos_weight``). A fall is one transition in hundreds, so an unweighted head learns to
    call it with a probability near zero (two of the 40k Hopper audits measured under 0.03 at
    every step that ended an episode); a weight near the ratio of live to terminating
    transitions calls it more often, at the price of false alarms. 1: unweighted."""
    loss_weight: float = Field(1.0, gt=0.0)
    """Weight of the regression loss next to the world model's: the cost is O(0.01-1) per
    step while the latent prediction error is O(1), so a small weight leaves the cost
    head, and the latent features it reads, underfitted."""


class TaskCost(nn.Module):
    """``c(s_{t+1}, a_t)``: the env's cost ``-r_t`` of the action that led to ``s_{t+1}``.

    Subclasses implement :meth:`forward`, and :meth:`terminal_logit` to predict episode
    ends. Shapes: states (..., H, D), actions (..., H, A)
    -> (..., H).
    """

    loss_weight: float = 1.0
    terminal_pos_weight: float = 1.0
    """Weight of terminating transitions in the termination head's cross-entropy."""
    termination_active: bool = False
    """Whether :meth:`terminal_prob` predicts (see ``TaskCostConfig.termination``)."""

    def terminal_logit(self, states: torch.Tensor) -> torch.Tensor | None:
        """Logit of ``P(terminated | s_{t+1})`` per step, or None for a task cost without a
        termination head. Shapes: states (..., H, D) -> (..., H)."""
        return None

    def terminal_prob(self, states: torch.Tensor) -> torch.Tensor | None:
        """``P(terminated)`` of the transition into each state while termination is active,
        else None (planning then assumes no episode ends). Shapes: (..., H, D) -> (..., H)."""
        if not self.termination_active:
            return None
        logit = self.terminal_logit(states)
        return None if logit is None else torch.sigmoid(logit)

    def set_termination(self, active: bool) -> None:
        """Switch termination on or off (kept in the state dict)."""
        self.termination_active = bool(active)

    def get_extra_state(self) -> dict[str, Any]:
        return {"termination_active": self.termination_active}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.termination_active = bool(state.get("termination_active", False))

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Weighted regression on a window, plus the termination head's cross-entropy while
        termination is active.

        Shapes: batch["states"] (B, T, D) (the states reached by batch["actions"] (B, T, A),
        predicted or encoded), batch["costs"] (B, T), optionally batch["terminals"] (B, T) bool.
        """
        pred = self(batch["states"], batch["actions"])  # (B, T)
        err = F.mse_loss(pred, batch["costs"])
        total, info = self.loss_weight * err, {"task_cost_rmse": float(err.detach().sqrt())}
        terminals = batch.get("terminals")
        logit = self.terminal_logit(batch["states"]) if self.termination_active and terminals is not None else None
        if logit is not None:
            w = self.terminal_pos_weight
            bce = F.binary_cross_entropy_with_logits(
                logit, terminals.to(logit.dtype), pos_weight=logit.new_tensor(w) if w != 1.0 else None
            )
            total = total + bce
            info["terminal_bce"] = float(bce.detach())
        return total, info


class MLPTaskCost(TaskCost):
    """An MLP on ``[s, a]`` (SiLU hidden layers)."""

    def __init__(
        self, config: TaskCostConfig, *, latent_dim: int, action_dim: int, device: torch.device | str = "cpu"
    ) -> None:
        super().__init__()
        self.config = config
        self.loss_weight = config.loss_weight
        self.terminal_pos_weight = config.terminal_pos_weight
        self.net = mlp(latent_dim + action_dim, config.hidden_dim, 1, config.layers, device)
        # the termination head reads the reached state alone (a fall is a state, not an action)
        self.terminal = mlp(latent_dim, config.hidden_dim, 1, 1, device) if config.termination is not False else None
        self.termination_active = bool(config.termination)

    def forward(self, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([states, actions], dim=-1)).squeeze(-1)

    def terminal_logit(self, states: torch.Tensor) -> torch.Tensor | None:
        return None if self.terminal is None else self.terminal(states).squeeze(-1)


class LearnedTaskCost(CostTerm):
    """The task cost as an intrinsic term: ``TaskCost(states, actions)`` (the goal is unused)."""

    def __init__(self, task_cost: TaskCost) -> None:
        self.task_cost = task_cost

    def compute(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        # Planners pass actions (B, N, 1, H, A) against states (B, N, K, H, D): broadcast the
        # leading axes so the MLP sees one input row per (candidate, latent sample, step).
        lead = torch.broadcast_shapes(states.shape[:-1], actions.shape[:-1])
        return self.task_cost(states.expand(*lead, states.shape[-1]), actions.expand(*lead, actions.shape[-1]))
