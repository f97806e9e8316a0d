"""Improved cross-entropy method, iCEM (Pinneri et al. 2020, "Sample-efficient cross-entropy
method for real-time planning", CoRL, Alg. 1)."""

from __future__ import annotations

import math

import torch
from pydantic import Field

from jepa_agent.actor.base import Planner, PlanProblem, keep_best
from jepa_agent.actor.cem import CEMConfig
from jepa_agent.actor.random_shooting import clip, seed_candidates


def colored_noise(
    shape: tuple[int, ...],
    horizon: int,
    beta: float,
    *,
    generator: torch.Generator | None,
    device: torch.device,
    dtype: torch.dtype,
) -> torch.Tensor:
    """Gaussian noise whose power spectral density along time falls as ``1 / f**beta``.

    beta = 0 is white noise, beta = 2 (iCEM's default) Brownian-like, smooth noise. Each time
    step has unit variance in expectation. Sampled in the frequency domain: Gaussian Fourier
    coefficients scaled by ``f**(-beta/2)`` (the lowest frequency stands in for f = 0), then an
    inverse real FFT, as in Timmer & Koenig (1995) and the ``colorednoise`` package iCEM uses.

    Shapes: shape (...,) + horizon -> (..., H).
    """
    if horizon == 1 or beta == 0.0:
        return torch.randn((*shape, horizon), generator=generator, device=device, dtype=dtype)
    f = torch.fft.rfftfreq(horizon, device=device, dtype=dtype)  # (F,), F = H // 2 + 1
    f[0] = f[1]  # 1/H: the lowest resolvable frequency carries the constant offset
    scale = f.pow(-beta / 2)  # (F,)
    # Normaliser: the std of each output step. A complex coefficient k contributes
    # 4 scale_k^2 / H^2 to the variance; the real ones (f = 0 and, for even H, the Nyquist
    # frequency, whose power is doubled below) contribute half of that.
    power = scale * scale  # (F,)
    power[0] = power[0] / 2
    if horizon % 2 == 0:
        power[-1] = power[-1] / 2
    sigma = 2 * torch.sqrt(power.sum()) / horizon
    re = torch.randn((*shape, f.shape[0]), generator=generator, device=device, dtype=dtype) * scale
    im = torch.randn((*shape, f.shape[0]), generator=generator, device=device, dtype=dtype) * scale
    # The f = 0 (and, for even H, the Nyquist) coefficient is real: all its power goes to re.
    im[..., 0] = 0
    re[..., 0] = re[..., 0] * math.sqrt(2)
    if horizon % 2 == 0:
        im[..., -1] = 0
        re[..., -1] = re[..., -1] * math.sqrt(2)
    return torch.fft.irfft(torch.complex(re, im), n=horizon, dim=-1) / sigma  # (..., H)


class ICEMConfig(CEMConfig):
    """iCEM: CEM with colored noise, a shrinking population and elites kept over iterations
    and over control steps. Defaults follow the paper (Pinneri et al. 2020, Sec. 4)."""

    refuses_latent_search = "icem"

    beta: float = Field(2.0, ge=0.0)
    """Exponent of the noise's power spectrum 1/f^beta along the horizon: 0 is white noise
    (plain CEM's), 2 smooth, low-frequency plans (the paper's choice for most tasks)."""
    population_decay: float = Field(1.25, ge=1.0)
    """gamma: iteration i samples max(2 * elites, samples * gamma^-i) sequences."""
    keep_elites_fraction: float = Field(0.3, ge=0.0, le=1.0)
    """xi: fraction of the elites carried into the next iteration's population and, shifted
    by one step, into the next control step's first iteration."""


class ICEM(Planner):
    """iCEM (Pinneri et al. 2020, Alg. 1), batched over B environments.

    Each iteration ``i`` draws ``N_i = max(2 E, N gamma^-i)`` candidates: the colored-noise
    samples ``clip(mean + std * noise)``, and in their place the kept elites (of the previous
    iteration, or in the first iteration the previous control step's elites shifted by one
    step), the warm start and the policy's proposals (first iteration) and the mean (last
    iteration). The Gaussian is refitted to the E elites with ``momentum`` and the best
    candidate seen in any iteration is returned.

    The planner keeps the last step's elites, so it is stateful: they are used only while the
    caller passes a warm start (a continuing episode, as :class:`~actor.Actor` does) for the same
    (B, H, A); a problem without a warm start, or of another shape, starts afresh.
    """

    config: ICEMConfig
    config_class = ICEMConfig
    state_attrs = ("_shifted_elites",)

    def __init__(self, config: ICEMConfig) -> None:
        super().__init__(config)
        self._shifted_elites: torch.Tensor | None = None  # (B, E_keep, H, A) from the last step

    def reset(self, rows: torch.Tensor | None = None) -> None:
        """Forget the elites kept from the previous control step (for a new episode in
        every env; where only some envs begin one, the kept elites stay one more step)."""
        if rows is None:
            self._shifted_elites = None

    @property
    def num_elites(self) -> int:
        """E: the configured elites, or an eighth of the samples (at least 2), as CEM."""
        cfg = self.config
        return cfg.elites if cfg.elites is not None else max(2, cfg.samples // 8)

    def population(self, iteration: int) -> int:
        """N_i: candidates evaluated in iteration ``iteration`` (0-based)."""
        cfg = self.config
        return max(2 * self.num_elites, math.ceil(cfg.samples * cfg.population_decay**-iteration))

    def optimize(self, problem: PlanProblem, start: float) -> tuple[torch.Tensor, torch.Tensor, int]:
        cfg = self.config
        low, high = problem.action_low, problem.action_high
        B, H, A = problem.s0.shape[0], problem.horizon, low.shape[0]
        dev, dt = low.device, low.dtype
        center, half = (high + low) / 2, (high - low) / 2  # (A,)
        E = self.num_elites
        keep = int(cfg.keep_elites_fraction * E)
        mean = problem.warm_start.clone() if problem.warm_start is not None else center.expand(B, H, A).clone()
        std = (cfg.init_std * half).expand(B, H, A).clone()  # (B, H, A)
        min_std = cfg.min_std * half
        kept = self._carried_elites(problem, keep)  # (B, <= keep, H, A)
        best, best_cost = mean.clone(), torch.full((B,), float("inf"), device=dev, dtype=dt)
        elites = mean.unsqueeze(1)  # (B, 1, H, A), replaced after the first iteration
        iterations = 0
        with torch.no_grad():
            for it in range(cfg.iterations):
                if iterations > 0 and self.out_of_time(problem, start, iterations):
                    break
                n = self.population(it)
                parts = []
                first = mean if it == 0 and cfg.keep_mean else None
                parts.append(
                    seed_candidates(problem, first, policy_samples=cfg.policy_samples_in(it), policy_std=cfg.policy_std)
                )
                if it == cfg.iterations - 1 and (it > 0 or not cfg.keep_mean):
                    parts.append(mean.unsqueeze(1))  # iCEM: the mean joins the last iteration
                parts.append(kept)
                fixed = torch.cat(parts, dim=1)[:, :n]  # (B, F, H, A)
                noise = colored_noise(
                    (B, n - fixed.shape[1], A), H, cfg.beta, generator=problem.generator, device=dev, dtype=dt
                ).transpose(-1, -2)  # (B, n - F, H, A)
                sampled = clip(mean.unsqueeze(1) + std.unsqueeze(1) * noise, low, high)
                samples = torch.cat([fixed, sampled], dim=1)  # (B, n, H, A)
                costs = self.evaluate(problem, samples)  # (B, n)
                best, best_cost, _ = keep_best(samples, costs, best, best_cost)
                idx = costs.topk(E, dim=1, largest=False).indices  # (B, E), sorted best first
                elites = torch.gather(samples, 1, idx[:, :, None, None].expand(-1, -1, H, A))  # (B, E, H, A)
                m = cfg.momentum
                mean = (1 - m) * elites.mean(1) + m * mean
                std = torch.maximum((1 - m) * elites.std(1, correction=0) + m * std, min_std)
                kept = elites[:, :keep]  # (B, keep, H, A)
                iterations += 1
        shifted = torch.cat([elites[:, :keep, 1:], elites[:, :keep, -1:]], dim=2)  # (B, keep, H, A)
        self._shifted_elites = shifted if keep > 0 else None
        return best, best_cost, iterations

    def _carried_elites(self, problem: PlanProblem, keep: int) -> torch.Tensor:
        """The previous step's shifted elites if this problem continues it, else none.

        Shapes: -> (B, keep or 0, H, A).
        """
        low = problem.action_low
        B, H, A = problem.s0.shape[0], problem.horizon, low.shape[0]
        prev = self._shifted_elites
        if (
            problem.warm_start is None
            or prev is None
            or keep == 0
            or prev.shape != (B, keep, H, A)
            or prev.device != low.device
            or prev.dtype != low.dtype
        ):
            self._shifted_elites = None
            return torch.empty((B, 0, H, A), device=low.device, dtype=low.dtype)
        return clip(prev, low, problem.action_high)
