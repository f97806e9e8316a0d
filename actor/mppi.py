"""Model predictive path integral control (Williams et al. 2017, Alg. 2), batched over envs."""

from __future__ import annotations

import torch
from pydantic import Field

from jepa_agent.actor.base import PlanProblem
from jepa_agent.actor.sampling import SamplingPlanner, SamplingPlannerConfig


class MPPIConfig(SamplingPlannerConfig):
    """MPPI: the new mean is the exp(-cost / temperature)-weighted average of all samples."""

    temperature: float = Field(0.5, gt=0.0)
    """Softmax temperature lambda. With ``normalize_costs`` it is in units of the
    candidates' cost standard deviation, which keeps one value right for any cost scale."""
    normalize_costs: bool = True
    """Divide costs by their per-environment std before weighting (False: raw Alg. 2)."""
    update_std: bool = True
    """Also refit the std to the weighted spread (as in TD-MPC); False keeps it fixed."""


class MPPI(SamplingPlanner):
    """Returns the weighted mean of the last iteration (the MPPI control sequence)."""

    config: MPPIConfig
    config_class = MPPIConfig

    def refit(
        self, samples: torch.Tensor, costs: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        c = costs - costs.amin(dim=1, keepdim=True)  # (B, N)
        if self.config.normalize_costs:
            c = c / (costs.std(dim=1, keepdim=True, correction=0) + 1e-6)
        w = torch.softmax(-c / self.config.temperature, dim=1)  # (B, N)
        self._weighted_cost = (w * costs).sum(1)  # (B,): the cost estimate of the new mean
        w = w[:, :, None, None]  # (B, N, 1, 1)
        new_mean = (w * samples).sum(1)  # (B, H, A)
        if not self.config.update_std:
            return new_mean, std
        new_std = torch.sqrt((w * (samples - new_mean.unsqueeze(1)).pow(2)).sum(1) + 1e-12)
        return new_mean, new_std

    def choose(
        self, problem: PlanProblem, mean: torch.Tensor, best: torch.Tensor, best_cost: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # The weighted mean of in-bounds samples is in bounds; its reported cost is the
        # importance-weighted estimate, which saves a rollout per decision.
        return mean, self._weighted_cost
