"""Sampling + gradient hybrid: CEM whose candidates are refined by gradient steps before the
elites are chosen (GradCEM, Bharadhwaj et al. 2020, "Model-predictive control via
cross-entropy and gradient-based optimization", Alg. 1; GRASP-style planners)."""

from __future__ import annotations

import torch
from pydantic import Field, NonNegativeInt, PositiveInt

from jepa_agent.actor.base import Planner, PlanProblem, keep_best
from jepa_agent.actor.cem import CEMConfig
from jepa_agent.actor.gradient import (
    Adam,
    cost_and_grad,
    require_differentiable,
    to_actions,
    to_unconstrained,
)
from jepa_agent.actor.random_shooting import clip, seed_candidates


class CEMGradConfig(CEMConfig):
    """CEM + gradient refinement. Each candidate costs ``grad_steps`` forward+backward passes
    and one forward pass per iteration, so the default budget is smaller than CEM's: 32
    samples x 2 iterations x 2 gradient steps plans in about 14 ms on 2 CPU cores with the
    Reach2D model (CEM's 256 x 3 takes about 10 ms), inside a 50 Hz control period."""

    refuses_latent_search = "cem_grad"

    samples: int = Field(32, ge=2)
    """N: candidate action sequences per iteration, each refined by gradient."""
    iterations: PositiveInt = 2
    """Sample-refine-select rounds per decision (a deadline may stop earlier)."""
    grad_steps: NonNegativeInt = 2
    """Adam steps on every candidate before selection (0 is plain CEM)."""
    lr: float = Field(0.1, gt=0.0)
    """Adam's step size in the unconstrained variable u, where ``a = center + half tanh(u)``."""


class CEMGrad(Planner):
    """GradCEM (Bharadhwaj et al. 2020): sample N sequences around the mean, take
    ``grad_steps`` Adam steps on each through the world model and cost (actions kept in the
    box by ``a = center + half * tanh(u)``), then refit the Gaussian to the elites of the
    refined candidates like CEM. The lowest-cost candidate seen, before or after refinement,
    is returned. Sampling finds the basin, gradients descend it: GRASP-style hybrids beat
    CEM at long horizons (46% vs 22% on Push-T).
    """

    config: CEMGradConfig
    config_class = CEMGradConfig
    name = "cem_grad"

    def optimize(self, problem: PlanProblem, start: float) -> tuple[torch.Tensor, torch.Tensor, int]:
        require_differentiable(problem, self.name)
        cfg = self.config
        low, high = problem.action_low, problem.action_high
        B, H, A, N = problem.s0.shape[0], problem.horizon, low.shape[0], cfg.samples
        E = cfg.elites if cfg.elites is not None else max(2, N // 8)
        dev, dt = low.device, low.dtype
        center, half = (high + low) / 2, (high - low) / 2  # (A,)
        mean = problem.warm_start.clone() if problem.warm_start is not None else center.expand(B, H, A).clone()
        std = (cfg.init_std * half).expand(B, H, A).clone()  # (B, H, A)
        min_std = cfg.min_std * half
        best, best_cost = mean.clone(), torch.full((B,), float("inf"), device=dev, dtype=dt)
        iterations = 0
        for it in range(cfg.iterations):
            if iterations > 0 and self.out_of_time(problem, start, iterations):
                break
            first = mean if cfg.keep_mean else None
            fixed = seed_candidates(
                problem, first, policy_samples=cfg.policy_samples_in(it), policy_std=cfg.policy_std
            )[:, :N]  # (B, F, H, A)
            noise = torch.randn((B, N - fixed.shape[1], H, A), generator=problem.generator, device=dev, dtype=dt)
            sampled = clip(mean.unsqueeze(1) + std.unsqueeze(1) * noise, low, high)
            samples = torch.cat([fixed, sampled], dim=1)  # (B, N, H, A)
            u = to_unconstrained(samples, center, half)  # (B, N, H, A)
            opt = Adam(u, cfg.lr)  # fresh moments: the candidates are new each iteration
            for step in range(cfg.grad_steps):
                a, costs, grad = cost_and_grad(self, problem, u, center, half, samples if step == 0 else None)
                best, best_cost = keep_best(a, costs, best, best_cost)[:2]
                u = opt.step(u, grad)
            with torch.no_grad():
                a = samples if cfg.grad_steps == 0 else to_actions(u, center, half)  # (B, N, H, A)
                costs = self.evaluate(problem, a)  # (B, N)
            best, best_cost = keep_best(a, costs, best, best_cost)[:2]
            idx = costs.topk(E, dim=1, largest=False).indices  # (B, E)
            elites = torch.gather(a, 1, idx[:, :, None, None].expand(-1, -1, H, A))  # (B, E, H, A)
            m = cfg.momentum
            mean = (1 - m) * elites.mean(1) + m * mean
            std = torch.maximum((1 - m) * elites.std(1, correction=0) + m * std, min_std)
            iterations += 1
        return best, best_cost, iterations
