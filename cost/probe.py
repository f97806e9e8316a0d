"""A readout from latent states to a measured quantity (the achieved goal, in env units)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from torch import nn

from jepa_agent.cost.nets import mlp


class ProbeConfig(BaseModel):
    """Configuration of :class:`MLPProbe`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden_dim: PositiveInt = 128
    """Width of the hidden layer."""
    layers: int = Field(1, ge=0, le=4)
    """Hidden layers (0: a linear readout)."""
    key: str = "achieved_goal"
    """Observation key the probe reads out (Gymnasium-Robotics' achieved goal)."""


class Probe(nn.Module):
    """``y = probe(s)``: reads a measured quantity out of a latent state.

    It is trained on stop-gradient latents (it never shapes the representation) and used
    frozen by :class:`~cost.terms.ProbeGoalDistance`, so the goal energy can be measured in
    the env's own units. Subclasses implement :meth:`forward`.

    Shapes: s (..., D) -> (..., G).
    """

    key: str = "achieved_goal"

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Regression of the readout. Shapes: batch["states"] (..., D), batch["targets"] (..., G)."""
        err = F.mse_loss(self(batch["states"]), batch["targets"])
        return err, {"probe_rmse": float(err.detach().sqrt())}


class MLPProbe(Probe):
    """An MLP readout (SiLU hidden layers)."""

    def __init__(
        self, config: ProbeConfig, *, latent_dim: int, target_dim: int, device: torch.device | str = "cpu"
    ) -> None:
        super().__init__()
        self.config = config
        self.key = config.key
        self.net = mlp(latent_dim, config.hidden_dim, target_dim, config.layers, device)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.net(s)
