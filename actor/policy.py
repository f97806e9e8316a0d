"""Mode-1 policy: a fast reactive controller distilled from the planner (mode 2)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from torch import nn

from jepa_agent.world_model import WorldModel, mlp_layers


class Policy(nn.Module):
    """``a = pi(s, g)``, in the action bounds. Subclasses implement :meth:`forward`.

    Shapes: s (..., D), g (..., D) -> a (..., A).
    """

    action_dim: int

    @abstractmethod
    def forward(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor: ...

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Behaviour cloning of the planner's executed actions (masked MSE).

        Shapes: batch["states"] (B, T, D), batch["goals"] (B, D), batch["actions"] (B, T, A),
        batch["mask"] (B, T) bool: which actions came from the planner.
        """
        states, goals, actions, mask = batch["states"], batch["goals"], batch["actions"], batch["mask"]
        pred = self(states, goals.unsqueeze(1).expand_as(states))  # (B, T, A)
        err = (pred - actions).pow(2).sum(-1)  # (B, T)
        m = mask.to(err.dtype)
        loss = (err * m).sum() / m.sum().clamp_min(1.0)
        return loss, {"policy_loss": float(loss.detach())}

    @torch.no_grad()
    def propose(self, world_model: WorldModel, s0: torch.Tensor, goal: torch.Tensor, horizon: int) -> torch.Tensor:
        """Roll the policy through the world model (prior mode of z) to seed a planner.

        Shapes: s0 (B, D), goal (B, D) -> proposals (B, 1, H, A).
        """
        return propose(self, world_model, s0, goal, horizon)


PolicyFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""Any ``(s (B, D), g (B, D)) -> a (B, A)``: a Policy, or a critic's greedy actor."""


@torch.no_grad()
def propose(policy: PolicyFn, world_model: WorldModel, s0: torch.Tensor, goal: torch.Tensor, horizon: int) -> torch.Tensor:
    """The action sequence a policy takes through the world model (prior mode of z).

    Shapes: s0 (B, D), goal (B, D) -> proposals (B, 1, H, A).
    """
    s, actions = s0, []
    for _ in range(horizon):
        a = policy(s, goal)  # (B, A)
        actions.append(a)
        s = world_model.step(s, a)
    return torch.stack(actions, dim=1).unsqueeze(1)  # (B, 1, H, A)


class MLPPolicyConfig(BaseModel):
    """Configuration of :class:`MLPPolicy`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden_dim: PositiveInt = 128
    """Width of the hidden layers."""
    layers: int = Field(2, ge=1, le=8)
    """Hidden layers."""


class MLPPolicy(Policy):
    """MLP on ``[s, g, g - s]`` with a tanh squashed into the action bounds."""

    def __init__(
        self,
        config: MLPPolicyConfig,
        *,
        latent_dim: int,
        action_low: torch.Tensor,
        action_high: torch.Tensor,
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.config = config
        self.action_dim = action_low.shape[0]
        self.net = nn.Sequential(*mlp_layers(3 * latent_dim, config.hidden_dim, self.action_dim, config.layers, device))
        self.register_buffer("action_center", ((action_high + action_low) / 2).to(device))
        self.register_buffer("action_half", ((action_high - action_low) / 2).to(device))

    def forward(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.action_center + self.action_half * torch.tanh(self.net(torch.cat([s, g, g - s], dim=-1)))


