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

from cost.base import CostTerm
from cost.nets import mlp


class TaskCostConfig(BaseModel):
    """Configuration of :class:`MLPTaskCost`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden_dim: PositiveInt = 128
    """Width of the hidden layers."""
    layers: int = Field(2, ge=1, le=8)
    """Hidden layers."""
    loss_weight: float = Field(1.0, gt=0.0)
    """Weight of the regression loss next to the world model's: the cost is O(0.01-1) per
    step while the latent prediction error is O(1), so a small weight leaves the cost
    head, and the latent features it reads, underfitted."""


class TaskCost(nn.Module):
    """``c(s_{t+1}, a_t)``: the env's cost ``-r_t`` of the action that led to ``s_{t+1}``.

    Subclasses implement :meth:`forward`. Shapes: states (..., H, D), actions (..., H, A)
    -> (..., H).
    """

    loss_weight: float = 1.0

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Weighted regression on a window. Shapes: batch["states"] (B, T, D) (the states
        reached by batch["actions"] (B, T, A), predicted or encoded), batch["costs"] (B, T)."""
        pred = self(batch["states"], batch["actions"])  # (B, T)
        err = F.mse_loss(pred, batch["costs"])
        return self.loss_weight * err, {"task_cost_rmse": float(err.detach().sqrt())}


class MLPTaskCost(TaskCost):
    """An MLP on ``[s, a]`` (SiLU hidden layers)."""

    def __init__(
        self, config: TaskCostConfig, *, latent_dim: int, action_dim: int, device: torch.device | str = "cpu"
    ) -> None:
        super().__init__()
        self.config = config
        self.loss_weight = config.loss_weight
        self.net = mlp(latent_dim + action_dim, config.hidden_dim, 1, config.layers, device)

    def forward(self, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([states, actions], dim=-1)).squeeze(-1)


class LearnedTaskCost(CostTerm):
    """The task cost as an intrinsic term: ``TaskCost(states, actions)`` (the goal is unused)."""

    def __init__(self, task_cost: TaskCost) -> None:
        self.task_cost = task_cost

    def compute(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        # Planners pass actions (B, N, 1, H, A) against states (B, N, K, H, D): broadcast the
        # leading axes so the MLP sees one input row per (candidate, latent sample, step).
        lead = torch.broadcast_shapes(states.shape[:-1], actions.shape[:-1])
        return self.task_cost(states.expand(*lead, states.shape[-1]), actions.expand(*lead, actions.shape[-1]))
