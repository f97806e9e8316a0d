"""Random shooting: score uniformly drawn action sequences, keep the best
(Nagabandi et al. 2018, "Neural network dynamics for model-based deep RL with
model-free fine-tuning", Sec. IV-B)."""

from __future__ import annotations

import torch
from pydantic import Field, NonNegativeInt, PositiveInt

from jepa_agent.actor.base import Planner, PlannerConfig, PlanProblem, keep_best


def clip(actions: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Clamp to the action box. Shapes: actions (..., A), low/high (A,) -> (..., A)."""
    return torch.maximum(torch.minimum(actions, high), low)


def seed_candidates(
    problem: PlanProblem,
    mean: torch.Tensor | None,
    *,
    policy_samples: int,
    policy_std: float,
) -> torch.Tensor:
    """The fixed first-iteration candidates of a planner, in bounds.

    ``mean`` (the warm start, or whatever the planner starts from) comes first, then
    ``policy_samples`` candidates from the mode-1 policy's proposals: each proposal itself,
    unperturbed, then (cycling through them) copies with Gaussian noise of std
    ``policy_std`` (fraction of the half-range), as :class:`~actor.SamplingPlanner` does.

    Shapes: mean (B, H, A) or None, problem.proposals (B, P, H, A) -> (B, F, H, A),
    F = (mean is not None) + (policy_samples if there are proposals else 0); F may be 0.
    """
    low, high = problem.action_low, problem.action_high
    B, H, A = problem.s0.shape[0], problem.horizon, low.shape[0]
    parts = []
    if mean is not None:
        parts.append(mean.unsqueeze(1))  # (B, 1, H, A)
    if problem.proposals is not None and policy_samples > 0:
        P = problem.proposals.shape[1]
        idx = torch.arange(policy_samples, device=low.device) % P
        props = problem.proposals[:, idx]  # (B, m, H, A)
        if policy_samples > P:
            noise = torch.randn(
                (B, policy_samples - P, H, A), generator=problem.generator, device=low.device, dtype=low.dtype
            )
            jitter = policy_std * (high - low) / 2 * noise  # (B, m - P, H, A)
            props = torch.cat([props[:, :P], props[:, P:] + jitter], dim=1)  # (B, m, H, A)
        parts.append(props)
    if not parts:
        return torch.empty((B, 0, H, A), device=low.device, dtype=low.dtype)
    return clip(torch.cat(parts, dim=1), low, high)  # (B, F, H, A)


class RandomShootingConfig(PlannerConfig):
    """Random shooting: ``samples`` uniform sequences per round, the best of all rounds wins."""

    samples: PositiveInt = 1024
    """N: uniformly drawn candidate sequences per round (the only search there is, so more
    than CEM's per-iteration count: about what CEM's default budget evaluates in total)."""
    iterations: PositiveInt = 1
    """Rounds of fresh samples (1 is classic random shooting; more is an anytime version
    whose rounds a deadline may cut short). Rounds do not learn from each other."""
    policy_samples: NonNegativeInt = 8
    """Candidates drawn around the mode-1 policy's proposals in the first round."""
    policy_std: float = Field(0.1, ge=0.0)
    """Std of the noise around the policy's proposals (fraction of the half-range)."""


class RandomShooting(Planner):
    """Draws N sequences uniformly inside the action box, plus the warm start and the policy's
    proposals in the first round, and returns the lowest-cost one.

    The baseline every other planner should beat: no distribution is refitted, so it needs
    exponentially many samples in H * A to get close to the optimum.
    """

    config: RandomShootingConfig
    config_class = RandomShootingConfig

    def optimize(self, problem: PlanProblem, start: float) -> tuple[torch.Tensor, torch.Tensor, int]:
        cfg = self.config
        low, high = problem.action_low, problem.action_high
        B, H, A, N = problem.s0.shape[0], problem.horizon, low.shape[0], cfg.samples
        dev, dt = low.device, low.dtype
        center = (high + low) / 2  # (A,)
        best = center.expand(B, H, A).clone()  # (B, H, A)
        best_cost = torch.full((B,), float("inf"), device=dev, dtype=dt)
        iterations = 0
        with torch.no_grad():
            for it in range(cfg.iterations):
                if iterations > 0 and self.out_of_time(problem, start, iterations):
                    break
                fixed = torch.empty((B, 0, H, A), device=dev, dtype=dt)
                if it == 0:
                    fixed = seed_candidates(
                        problem,
                        problem.warm_start,
                        policy_samples=cfg.policy_samples,
                        policy_std=cfg.policy_std,
                    )[:, :N]  # (B, F, H, A)
                u = torch.rand(
                    (B, N - fixed.shape[1], H, A), generator=problem.generator, device=dev, dtype=dt
                )
                uniform = low + (high - low) * u  # (B, N - F, H, A)
                samples = torch.cat([fixed, uniform], dim=1)  # (B, N, H, A)
                costs = self.evaluate(problem, samples)  # (B, N)
                best, best_cost, _ = keep_best(samples, costs, best, best_cost)
                iterations += 1
        return best, best_cost, iterations
