"""Cross-entropy method (Rubinstein 1999; as an MPC planner: Chua et al. 2018, PETS)."""

from __future__ import annotations

import torch
from pydantic import Field, PositiveInt, model_validator

from jepa_agent.actor.sampling import SamplingPlanner, SamplingPlannerConfig


class CEMConfig(SamplingPlannerConfig):
    """CEM: refit the Gaussian to the lowest-cost ``elites`` candidates."""

    elites: PositiveInt | None = None
    """Candidates the distribution is refitted to; must not exceed ``samples``. None: an
    eighth of the samples (at least 2), so a budget sweep over ``samples`` stays valid."""
    momentum: float = Field(0.1, ge=0.0, lt=1.0)
    """Fraction of the old (mean, std) kept at each refit; damps the search."""

    @model_validator(mode="after")
    def _elites_fit(self) -> CEMConfig:
        if self.elites is not None and self.elites > self.samples:
            raise ValueError(f"elites must be <= samples={self.samples}, got {self.elites}")
        return self


class CEM(SamplingPlanner):
    """Returns the lowest-cost candidate seen over all iterations."""

    config: CEMConfig
    config_class = CEMConfig

    @property
    def num_elites(self) -> int:
        cfg = self.config
        return cfg.elites if cfg.elites is not None else max(2, cfg.samples // 8)

    def refit(
        self, samples: torch.Tensor, costs: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        idx = costs.topk(self.num_elites, dim=1, largest=False).indices  # (B, E)
        elites = torch.gather(
            samples, 1, idx[:, :, None, None].expand(-1, -1, *samples.shape[2:])
        )  # (B, E, H, A)
        m = self.config.momentum
        new_mean = (1 - m) * elites.mean(1) + m * mean
        new_std = (1 - m) * elites.std(1, correction=0) + m * std
        return new_mean, new_std
