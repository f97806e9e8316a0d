"""Goal encoders: a goal given in achieved-goal space (a position) -> a latent goal state.

Goal envs of Gymnasium-Robotics (PointMaze, AntMaze, Fetch) give the goal as a vector
``desired_goal`` in the space of ``achieved_goal`` (a position), not as an observation the
perception module could encode. A goal encoder maps such a vector into latent space, so the
latent goal energy and the critic work unchanged: it is trained to predict the (target)
latent of the states whose ``achieved_goal`` it is given, i.e. the latent of "being there".
"""

from __future__ import annotations

from abc import abstractmethod

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from torch import nn

from jepa_agent.perception.mlp import mlp_layers


class GoalEncoderConfig(BaseModel):
    """Configuration of :class:`MLPGoalEncoder`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden_dim: PositiveInt = 128
    """Width of the hidden layers."""
    layers: int = Field(2, ge=1, le=8)
    """Hidden layers."""
    normalize_output: bool | None = None
    """LayerNorm without learned scale on the output. None: as the state encoder's, so goal
    latents live on the states' scale."""


class GoalEncoder(nn.Module):
    """``g = goal_encoder(desired_goal)``. Subclasses implement :meth:`forward`.

    Shapes: goals (..., G) -> (..., D).
    """

    latent_dim: int

    @abstractmethod
    def forward(self, goals: torch.Tensor) -> torch.Tensor: ...

    def loss(self, goals: torch.Tensor, latents: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Regression onto the latents of the states that achieved ``goals``.

        Shapes: goals (N, G) achieved goals, latents (N, D) their (stop-gradient) latents.
        """
        err = F.mse_loss(self(goals), latents)
        return err, {"goal_encoder_loss": float(err.detach())}


class MLPGoalEncoder(GoalEncoder):
    """An MLP from the goal vector to a latent (SiLU hidden layers, optional LayerNorm)."""

    def __init__(
        self, config: GoalEncoderConfig, *, goal_dim: int, latent_dim: int, device: torch.device | str = "cpu"
    ) -> None:
        super().__init__()
        self.config = config
        self.latent_dim = latent_dim
        self.net = nn.Sequential(*mlp_layers(goal_dim, config.hidden_dim, latent_dim, config.layers, device))

    def forward(self, goals: torch.Tensor) -> torch.Tensor:
        g = self.net(goals)
        return F.layer_norm(g, (self.latent_dim,)) if self.config.normalize_output is not False else g
