"""Shared loop of the sampling planners: a Gaussian over action sequences, refit each iteration."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from pydantic import Field, NonNegativeInt, PositiveInt, model_validator

from jepa_agent.actor.base import Planner, PlannerConfig, PlanProblem, keep_best


class SamplingPlannerConfig(PlannerConfig):
    """Budget and sampling distribution of CEM-like planners."""

    samples: int = Field(256, ge=2)
    """N: candidate action sequences per iteration."""
    iterations: PositiveInt = 3
    """Refits of the sampling distribution per decision (a deadline may stop earlier)."""
    init_std: float = Field(0.5, gt=0.0)
    """Initial std of the Gaussian, as a fraction of the half-range of the action bounds."""
    min_std: float = Field(0.05, ge=0.0)
    """Floor of the std (same units), so the search never freezes."""
    keep_mean: bool = True
    """Evaluate the current mean as one candidate: the warm start is never lost."""
    policy_samples: NonNegativeInt = 8
    """Candidates drawn around the mode-1 policy's proposals in the first iteration (in every
    one with ``policy_every_iteration``)."""
    policy_std: float = Field(0.1, ge=0.0)
    """Std of the noise around the policy's proposals (fraction of the half-range)."""
    policy_every_iteration: bool = False
    """Draw the ``policy_samples`` around the proposals in every iteration, not only the first
    (TD-MPC2's policy prior: its trajectories compete in each refit, so the mean never drifts
    far from what the prior proposes without a better candidate to show for it)."""
    search_latent: bool = False
    """Search the world model's latent variable z jointly with the actions: each candidate
    carries its own z sequence, drawn from a Gaussian refit together with the actions, and
    pays the negative log prior ``latent_prior_weight * |z|^2 / 2`` (energy minimisation
    over actions and latent configurations). Off: z is sampled from the prior K times and
    the K costs are combined by ``risk``. Models without a latent variable ignore it."""
    latent_prior_weight: float = Field(1.0, ge=0.0)
    """Weight of the N(0, I) prior on searched latents; 0 lets the search pick any z
    (fully optimistic), large values pin z to the prior's mode."""

    def policy_samples_in(self, iteration: int) -> int:
        """How many candidates iteration ``iteration`` (0-based) draws around the proposals."""
        return self.policy_samples if iteration == 0 or self.policy_every_iteration else 0

    refuses_latent_search: ClassVar[str | None] = None
    """Set by a subclass whose planner cannot search latents: its registered name, for the
    error ``search_latent=True`` then raises."""

    @model_validator(mode="after")
    def _latent_search_supported(self) -> SamplingPlannerConfig:
        if self.search_latent and self.refuses_latent_search:
            raise ValueError(
                f"planner '{self.refuses_latent_search}' does not search latents; "
                "use cem or mppi with search_latent"
            )
        return self


class SamplingPlanner(Planner):
    """Samples N sequences around ``mean``, scores them, refits ``(mean, std)``.

    Subclasses implement :meth:`refit`. The best candidate seen in any iteration is kept
    and returned by :meth:`choose` unless a subclass overrides it (MPPI returns its mean).
    """

    config: SamplingPlannerConfig
    config_class = SamplingPlannerConfig

    @abstractmethod
    def refit(
        self, samples: torch.Tensor, costs: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """New (mean, std). Shapes: samples (B, N, H, A), costs (B, N), mean/std (B, H, A)."""

    def choose(
        self, problem: PlanProblem, mean: torch.Tensor, best: torch.Tensor, best_cost: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return best, best_cost

    def optimize(self, problem: PlanProblem, start: float) -> tuple[torch.Tensor, torch.Tensor, int]:
        cfg = self.config
        low, high = problem.action_low, problem.action_high
        B, H, A, N = problem.s0.shape[0], problem.horizon, low.shape[0], cfg.samples
        Z = problem.world_model.latent_var_dim if cfg.search_latent else 0
        # With a latent search the Gaussian lives on (a, z): z is unbounded, centred at the
        # prior's mode, with unit scale. Everything below works on the last axis A + Z.
        center = torch.cat([(high + low) / 2, low.new_zeros(Z)])  # (A+Z,)
        half = torch.cat([(high - low) / 2, low.new_ones(Z)])  # (A+Z,)
        low = torch.cat([low, low.new_full((Z,), float("-inf"))])
        high = torch.cat([high, high.new_full((Z,), float("inf"))])
        if problem.warm_start is not None:
            mean = torch.cat([problem.warm_start, problem.warm_start.new_zeros(B, H, Z)], dim=-1)
        else:
            mean = center.expand(B, H, A + Z).clone()  # (B, H, A+Z)
        proposals = problem.proposals
        if proposals is not None and Z > 0:
            proposals = torch.cat([proposals, proposals.new_zeros(*proposals.shape[:-1], Z)], dim=-1)
        std = (cfg.init_std * half).expand(B, H, A + Z).clone()
        min_std = cfg.min_std * half
        best = mean.clone()
        best_cost = torch.full((B,), float("inf"), device=mean.device, dtype=mean.dtype)
        iterations = 0
        with torch.no_grad():
            for it in range(cfg.iterations):
                if iterations > 0 and self.out_of_time(problem, start, iterations):
                    break
                noise = torch.randn(
                    (B, N, H, A + Z), generator=problem.generator, device=mean.device, dtype=mean.dtype
                )
                samples = mean.unsqueeze(1) + std.unsqueeze(1) * noise  # (B, N, H, A+Z)
                n_fixed = 0
                if cfg.keep_mean:
                    samples[:, 0] = mean
                    n_fixed = 1
                if proposals is not None and cfg.policy_samples_in(it) > 0:
                    P = proposals.shape[1]
                    m = min(cfg.policy_samples_in(it), N - n_fixed)
                    idx = torch.arange(m, device=mean.device) % P
                    jitter = cfg.policy_std * half * noise[:, n_fixed : n_fixed + m]
                    jitter[:, :P] = 0  # the proposals themselves, unperturbed
                    samples[:, n_fixed : n_fixed + m] = proposals[:, idx] + jitter
                samples = torch.maximum(torch.minimum(samples, high), low)
                costs = self.score(problem, samples, A)  # (B, N)
                best, best_cost, _ = keep_best(samples, costs, best, best_cost)
                mean, std = self.refit(samples, costs, mean, std)
                std = torch.maximum(std, min_std)
                iterations += 1
        actions, cost = self.choose(problem, mean[..., :A], best[..., :A], best_cost)
        return actions, cost, iterations

    def score(self, problem: PlanProblem, samples: torch.Tensor, A: int) -> torch.Tensor:
        """Costs of candidates that may carry their own latents after the A action columns.

        Shapes: samples (B, N, H, A [+ Z]) -> (B, N).
        """
        if samples.shape[-1] == A:
            return self.evaluate(problem, samples)
        z = samples[..., A:]  # (B, N, H, Z)
        prior = 0.5 * self.config.latent_prior_weight * z.pow(2).sum((-1, -2))  # (B, N)
        return self.evaluate(problem, samples[..., :A], z.unsqueeze(2)) + prior
