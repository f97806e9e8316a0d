"""The coarse level of a hierarchical JEPA: a predictor that steps K actions at a time.

It lives in the fine model's latent space. An action encoder compresses a chunk of K
primitive actions ``a_{t:t+K}`` into a small macro-action ``m_t`` in ``[-1, 1]^M``; the
predictor maps ``(s_t, m_t, z_t)`` to ``s_{t+K}``, trained against the fine model's EMA
target embedding of ``o_{t+K}`` over a rollout of ``train_steps`` coarse steps. Its own
latent variable ``z_t`` (posterior sees the target, KL-bounded, planning samples the
N(0, I) prior) carries what the chunk leaves undetermined.

As a :class:`WorldModel` its action is the macro-action (``action_dim`` = M), so any
planner of the suite plans at the coarse level unchanged (``actor.HierarchicalPlanner``).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveInt
from torch import nn

from jepa_agent.perception import mlp_layers
from jepa_agent.world_model.base import WorldModel, check_shape


class CoarseWorldModelConfig(BaseModel):
    """Configuration of :class:`CoarseWorldModel`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    k: int = Field(5, ge=2, le=100)
    """K: primitive actions (env steps of the agent) per coarse step."""
    macro_dim: PositiveInt = 4
    """M: size of the latent macro-action a chunk of K actions is compressed to."""
    chunk_encoding: Literal["learned", "mean"] = "learned"
    """``learned``: the action encoder; ``mean``: the chunk's mean action, not learned (an
    ablation: ``macro_dim`` must then equal the action size, and the top plans mean actions
    in [-1, 1]^A, which fits envs whose action box is [-1, 1])."""
    hidden_dim: PositiveInt = 128
    """Width of the predictor and of the action encoder."""
    layers: int = Field(2, ge=1, le=8)
    """Hidden layers of the predictor."""
    latent_var_dim: NonNegativeInt = 2
    """Z: the coarse latent variable (what a chunk leaves undetermined); 0 disables it."""
    kl_coef: NonNegativeFloat = 1.0
    """Weight of the KL information bound on the coarse latent variable."""
    train_steps: int = Field(3, ge=1, le=32)
    """Coarse steps rolled out in training: windows of ``train_steps * k + 1`` observations."""
    rho: float = Field(0.9, gt=0.0, le=1.0)
    """Weight ``rho**j`` of the coarse step-j prediction loss."""
    lr: float = Field(1e-3, gt=0.0)
    """Learning rate of the coarse model's optimiser."""


class ActionChunkEncoder(nn.Module):
    """Compresses K primitive actions into a macro-action. Shapes: (..., K, A) -> (..., M) in [-1, 1]."""

    def __init__(self, k: int, action_dim: int, macro_dim: int, hidden_dim: int, device: torch.device | str) -> None:
        super().__init__()
        self.k, self.action_dim = k, action_dim
        self.net = nn.Sequential(*mlp_layers(k * action_dim, hidden_dim, macro_dim, 1, device))

    def forward(self, chunk: torch.Tensor) -> torch.Tensor:
        if tuple(chunk.shape[-2:]) != (self.k, self.action_dim):
            raise ValueError(f"an action chunk must be (..., K, A)=(..., {self.k}, {self.action_dim}), got {tuple(chunk.shape)}")
        return torch.tanh(self.net(chunk.flatten(-2)))


class CoarseWorldModel(WorldModel):
    """``s_{t+K} = norm(s_t + f(s_t, m_t, z_t))`` in the fine model's latent space.

    ``latent_dim`` D and ``normalize`` (the fine encoder's output LayerNorm) come from the
    fine model; ``primitive_dim`` is the env's action size A, ``action_dim`` the macro size M.
    """

    def __init__(
        self, config: CoarseWorldModelConfig, *, latent_dim: int, primitive_dim: int, normalize: bool = True,
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.config = config
        self.latent_dim = D = latent_dim
        self.action_dim = M = config.macro_dim
        self.primitive_dim = primitive_dim
        self.k = config.k
        self.latent_var_dim = Z = config.latent_var_dim
        self.normalize = normalize
        H = config.hidden_dim
        if config.chunk_encoding == "mean" and M != primitive_dim:
            raise ValueError(f"chunk_encoding=mean makes the macro-action the chunk's mean action: macro_dim must be "
                             f"the action size {primitive_dim}, got {M}")
        self.action_encoder = ActionChunkEncoder(config.k, primitive_dim, M, H, device) if config.chunk_encoding == "learned" else None
        self.predictor = nn.Sequential(*mlp_layers(D + M + Z, H, D, config.layers, device))
        if Z > 0:
            self.posterior = nn.Sequential(*mlp_layers(2 * D + M, H, 2 * Z, 1, device))  # -> (mean, log_std)

    def step(self, s: torch.Tensor, a: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """One coarse step under macro-action ``a``. Shapes: s (B, D), a (B, M), z (B, Z) or None -> (B, D)."""
        parts = [s, a]
        if self.latent_var_dim > 0:
            parts.append(a.new_zeros((*a.shape[:-1], self.latent_var_dim)) if z is None else z)
        s_next = s + self.predictor(torch.cat(parts, dim=-1))
        return F.layer_norm(s_next, (self.latent_dim,)) if self.normalize else s_next

    def encode_actions(self, actions: torch.Tensor) -> torch.Tensor:
        """Macro-actions of consecutive K-chunks. Shapes: (B, J*K, A) -> (B, J, M)."""
        B, T, A = actions.shape
        if T % self.k:
            raise ValueError(f"actions must hold whole chunks of k={self.k} steps, got {T}")
        chunks = actions.reshape(B, T // self.k, self.k, A)
        return chunks.mean(2) if self.action_encoder is None else self.action_encoder(chunks)

    def loss(self, batch: dict[str, Any], *, diagnostics: bool = True, head: Any = None) -> tuple[torch.Tensor, dict[str, float]]:
        """Coarse prediction loss.

        Shapes: batch["s0"] (B, D) the fine encoder's embedding of ``o_0`` (the caller
        detaches it: the coarse level learns on the fine latent space, never reshapes it),
        batch["targets"] (B, J, D) the fine target encoder's embeddings of ``o_{jK}``,
        j = 1..J, batch["actions"] (B, J*K, A).
        """
        s, targets = batch["s0"], batch["targets"]
        check_shape("s0", s, ("B", "D"), D=self.latent_dim)
        B, J = targets.shape[:2]
        check_shape("targets", targets, ("B", "J", "D"), B=B, D=self.latent_dim)
        check_shape("actions", batch["actions"], ("B", "T", "A"), B=B, T=J * self.k, A=self.primitive_dim)
        m = self.encode_actions(batch["actions"])  # (B, J, M)
        cfg = self.config
        losses, kl_total = [], s.new_zeros(())
        for j in range(J):
            z = None
            if self.latent_var_dim > 0:
                mean, log_std = self.posterior(torch.cat([s, m[:, j], targets[:, j]], -1)).chunk(2, -1)
                log_std = log_std.clamp(-5.0, 2.0)
                z = mean + log_std.exp() * torch.randn_like(mean)
                kl_total = kl_total + 0.5 * (mean.pow(2) + (2 * log_std).exp() - 1.0 - 2 * log_std).sum(-1).mean()
            s = self.step(s, m[:, j], z)
            losses.append(F.mse_loss(s, targets[:, j]))
        weights = torch.tensor([cfg.rho**j for j in range(J)], device=s.device)
        pred = (torch.stack(losses) * weights).sum() / weights.sum()
        total = pred + cfg.kl_coef * kl_total / J
        info = {"coarse_pred_loss": float(pred.detach()), "coarse_kl": float(kl_total.detach() / J)}
        info.update({f"coarse_pred_loss_t{j + 1}": float(v.detach()) for j, v in enumerate(losses)})
        return total, info

    def extra_repr(self) -> str:
        return f"D={self.latent_dim}, K={self.k}, A={self.primitive_dim}, M={self.action_dim}, Z={self.latent_var_dim}"
