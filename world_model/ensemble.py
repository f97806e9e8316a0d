"""An ensemble of small one-step predictors on the world model's latent: where they disagree,
the model does not know (Plan2Explore, Sekar et al. 2020; LEXA, Mendonca et al. 2021).

The heads see the same inputs and targets as the world model's predictor (a latent and an
action, the target encoder's embedding of the next observation) but not each other's
initial weights, so they agree where the data pins the next latent down and spread apart
where it does not. Their inputs are detached: they read the latent space, they do not shape
it. Unlike the latent variable's sample spread, which measures what the *environment*
leaves open (aleatoric, and about 0 on a deterministic task once its KL has collapsed),
their disagreement measures what the *data* leaves open (epistemic), and falls where data
accumulates.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LatentEnsemble"]


class LatentEnsemble(nn.Module):
    """E residual MLPs ``s' = s + f_e(s, a)``, all E in one batched matmul per layer."""

    def __init__(self, heads: int, latent_dim: int, action_dim: int, hidden_dim: int, *, device: torch.device | str = "cpu"):
        super().__init__()
        if heads < 2:
            raise ValueError(f"an ensemble needs at least 2 heads to disagree, got {heads}")
        self.heads, self.latent_dim = heads, latent_dim
        dims = [latent_dim + action_dim, hidden_dim, hidden_dim, latent_dim]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(dims[:-1], dims[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default init, per head
            self.weights.append(nn.Parameter(torch.empty(heads, fan_in, fan_out, device=device).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(heads, 1, fan_out, device=device).uniform_(-bound, bound)))

    def forward(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Every head's next latent. Shapes: s (..., D), a (..., A) -> (E, ..., D)."""
        lead = s.shape[:-1]
        x = torch.cat([s, a], dim=-1).reshape(1, -1, s.shape[-1] + a.shape[-1])  # (1, N, D+A)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b, x.expand(self.heads, -1, -1) if i == 0 else x, w)  # (E, N, out)
            if i < len(self.weights) - 1:
                x = F.silu(x)
        return s.unsqueeze(0) + x.reshape(self.heads, *lead, self.latent_dim)  # (E, ..., D)

    def loss(self, s: torch.Tensor, a: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean squared error of every head. Shapes: s (..., D), a (..., A), target (..., D) -> ()."""
        return (self(s.detach(), a) - target.detach().unsqueeze(0)).pow(2).sum(-1).mean()

    def disagreement(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Variance of the heads' predictions, summed over features. Shapes: (..., D), (..., A) -> (...)."""
        return self(s, a).var(dim=0, correction=0).sum(-1)
