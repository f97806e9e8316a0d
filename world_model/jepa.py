"""JEPA world model: predicts the *representation* of the next state, never the observation.

Training (one window of T+1 observations and T actions per sample):

* the online encoder embeds ``o_0``; the predictor rolls it forward with the actions and
  posterior latent variables, and each predicted ``s_t`` is compared with the EMA target
  encoder's embedding of ``o_t`` (stop-gradient), down-weighted by ``rho**t``;
* VICReg variance and covariance terms on the online embeddings keep them from collapsing
  (Bardes et al. 2022; PLDM and eb_jepa measure planning to fail without either);
* an inverse-dynamics head predicts ``a_t`` from ``(s_t, s_{t+1})`` so the encoder keeps the
  features the actions move (eb_jepa: 97% -> 1% success without it);
* the latent variable ``z_t`` comes from a posterior that sees the next target embedding;
  its information is bounded by ``KL(q(z | s_t, a_t, s'_{t+1}) || N(0, I))`` so it only
  carries what the context cannot determine. Planning samples the N(0, I) prior.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    model_validator,
)
from torch import nn

from jepa_agent.perception import Encoder, mlp_layers
from jepa_agent.world_model.base import WorldModel, check_shape
from jepa_agent.world_model.ensemble import LatentEnsemble


class JEPAWorldModelConfig(BaseModel):
    """Configuration of :class:`JEPAWorldModel`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden_dim: PositiveInt = 128
    """Width of the predictor MLP."""
    layers: int = Field(2, ge=1, le=8)
    """Hidden layers of the predictor."""
    latent_var_dim: NonNegativeInt = 4
    """Z: size of the latent variable for multimodal futures (0 disables it)."""
    ema_tau: float = Field(0.99, ge=0.0, lt=1.0)
    """Target encoder update ``target <- tau * target + (1 - tau) * online``."""
    rho: float = Field(0.9, gt=0.0, le=1.0)
    """Weight ``rho**t`` of the step-t prediction loss: near steps matter most for MPC."""
    var_coef: NonNegativeFloat = 1.0
    """VICReg variance hinge weight (keeps every latent feature's batch std near 1)."""
    cov_coef: NonNegativeFloat = 0.04
    """VICReg covariance weight (decorrelates latent features)."""
    temporal_coef: NonNegativeFloat | None = None
    """Weight of ``|s_t - s_{t+1}|^2`` on consecutive online embeddings (PLDM's temporal
    smoothness): nearby-in-time states get nearby latents, so the latent goal energy falls
    steadily along a path to the goal instead of being flat far from it. Measured on Reach2D
    with random data and no critic (benchmarks/diagnostics/temporal_ablation.py): 0.1 gives 10% success,
    1.0 gives 100%. None: 1.0 when the goal is part of the task, 0 for a task defined by the
    reward alone, where it blurs what the reward depends on (measured on Reacher-v5: the
    predicted reward's error along 12-step rollouts, the part that does not come from the
    action, falls from 0.05-0.07 to 0.025-0.04 without it)."""
    inverse_coef: NonNegativeFloat = 1.0
    """Inverse-dynamics head weight; 0 turns the head off."""
    kl_coef: NonNegativeFloat = 1.0
    """Weight of the KL information bound on the latent variable."""
    kl_free_nats: NonNegativeFloat = 0.0
    """Nats per step below which the KL is not penalised (0: every nat costs)."""
    ensemble_heads: NonNegativeInt = 0
    """E: small one-step predictors trained on the same targets (0: none; else at least 2);
    their disagreement is the epistemic cost term (``world_model.ensemble``)."""
    ensemble_hidden_dim: PositiveInt = 64
    """Width of each ensemble head."""
    ensemble_mix: float = Field(0.0, ge=0.0, le=1.0)
    """Weight of the ensemble heads' mean in the predictions the planner and the policy use
    (``step``, ``rollout``): ``(1 - w) predictor + w mean(heads)`` at every step, an average of
    predictors whose errors partly cancel (bagging) where the optimiser's curse would pick
    the one that errs toward the goal. Training is unchanged (the predictor and each head
    learn alone). Needs ``ensemble_heads``; 0: the predictor alone."""
    target_start_coef: NonNegativeFloat = 0.0
    """Weight of a second prediction loss in training: the predictor's rollout from the
    *target* embedding of ``o_0`` (the latent variable at the prior's mode), what
    :meth:`JEPAWorldModel.refit_loss` measures; its gradient reaches the predictor only. It
    trains the predictor for the start states ``plan_encoder="target"`` plans from. 0: off
    (measured on reach3d_far, seeds 0 and 3: agents trained with 1.0 did worse than those
    refitted after training with ``Agent.refit_predictor``)."""
    plan_encoder: Literal["online", "target"] = "online"
    """Which encoder embeds the observation a plan starts from (:meth:`JEPAWorldModel.encode`):
    ``online``, or ``target``, the EMA target encoder, whose space the predictions are
    trained to land in and where the goals, the critic, the policy, the probe and the ensemble
    heads read their latents. The two embed the same observation about a third of one step's
    latent move apart late in training (measured on reach3d_far's 60k achiever: 0.106 against
    0.294 per step); starting from ``target`` removes that offset from every plan (the README's
    "Planning from the target encoder"). Training is unchanged."""

    @model_validator(mode="after")
    def _heads(self) -> JEPAWorldModelConfig:
        if self.ensemble_heads == 1:
            raise ValueError("ensemble_heads must be 0 (none) or at least 2 (one head cannot disagree), got 1")
        if self.ensemble_mix > 0 and self.ensemble_heads == 0:
            raise ValueError(f"ensemble_mix={self.ensemble_mix} averages in the ensemble's heads: set ensemble_heads >= 2")
        return self


def effective_rank(x: torch.Tensor) -> torch.Tensor:
    """Effective rank (Roy & Vetterli 2007): exp of the entropy of normalised singular values.

    Shapes: x (N, D) -> (). 1 for a collapsed embedding, D for an isotropic one.
    """
    x = x - x.mean(dim=0, keepdim=True)
    sv = torch.linalg.svdvals(x.float())
    p = sv / sv.sum().clamp_min(1e-12)
    return torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum())


def gather_ranks(x: torch.Tensor) -> torch.Tensor:
    """``x`` of every rank of the default process group, concatenated in rank order, with
    gradient (``torch.distributed.nn.all_gather``: each rank's part gets the gradient of
    every rank's loss). Shapes: (N, D) -> (world_size * N, D)."""
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(x), dim=0)


def vicreg_terms(x: torch.Tensor, target_std: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """VICReg variance hinge and covariance penalty (Bardes et al. 2022, Eq. 1 and 3).

    Shapes: x (N, D) -> ((), ()).
    """
    x = x - x.mean(dim=0)
    std = torch.sqrt(x.var(dim=0) + 1e-4)
    var_loss = F.relu(target_std - std).mean()
    cov = (x.T @ x) / (x.shape[0] - 1)  # (D, D)
    off_diag = cov - torch.diag(torch.diagonal(cov))
    cov_loss = off_diag.pow(2).sum() / x.shape[1]
    return var_loss, cov_loss



class JEPAWorldModel(WorldModel):
    """Residual MLP predictor in the encoder's latent space, with EMA target encoder.

    ``s' = norm(s + f(s, a, z))`` where ``norm`` is the encoder's output LayerNorm (no learned
    scale), so predictions live on the same bounded scale as embeddings.
    """

    def __init__(
        self,
        config: JEPAWorldModelConfig,
        *,
        encoder: Encoder,
        action_dim: int,
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        self.target_encoder = copy.deepcopy(encoder).requires_grad_(False)
        self.latent_dim = D = encoder.latent_dim
        self.gather_batch_statistics = False
        """Data-parallel training (``Agent.distribute``) sets it: VICReg's variance and
        covariance are then taken over every rank's embeddings, as one process would."""
        self.action_dim = A = action_dim
        self.latent_var_dim = Z = config.latent_var_dim
        H = config.hidden_dim
        # The first layer is split into a state part and an action/latent part so a rollout
        # can compute the action term of every step in one matmul.
        self.in_state = nn.Linear(D, H, device=device)
        self.in_action = nn.Linear(A + Z, H, bias=False, device=device)
        body: list[nn.Module] = [nn.SiLU()]
        for _ in range(config.layers - 1):
            body += [nn.Linear(H, H, device=device), nn.SiLU()]
        body.append(nn.Linear(H, D, device=device))
        self.body = nn.Sequential(*body)
        # Predictions share the encoder's output normalisation, if it has one.
        self.normalize = bool(getattr(getattr(encoder, "config", None), "normalize_output", False))
        if Z > 0:
            self.posterior = nn.Sequential(*mlp_layers(2 * D + A, H, 2 * Z, 1, device))  # -> (mean, log_std)
        self.inverse = nn.Sequential(*mlp_layers(2 * D, H, A, 1, device)) if config.inverse_coef > 0 else None
        self.ensemble = (
            LatentEnsemble(config.ensemble_heads, D, A, config.ensemble_hidden_dim, device=device)
            if config.ensemble_heads else None
        )

    # ------------------------------------------------------------------ prediction
    def _out(self, s: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
        s_next = s + self.body(pre)
        if self.normalize:
            s_next = F.layer_norm(s_next, (self.latent_dim,))
        return s_next

    def _action_input(self, a: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        if self.latent_var_dim == 0:
            return a
        if z is None:
            z = a.new_zeros((*a.shape[:-1], self.latent_var_dim))
        return torch.cat([a, z], dim=-1)

    def step(self, s: torch.Tensor, a: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """The predictor's next latent, mixed with the ensemble's mean by ``ensemble_mix``.
        Shapes: s (B, D), a (B, A), z (B, Z) or None -> (B, D)."""
        return self._mix(s, a, self.predict(s, a, z))

    def predict(self, s: torch.Tensor, a: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """The predictor's own next latent (what its loss trains). Shapes: as :meth:`step`."""
        return self._out(s, self.in_state(s) + self.in_action(self._action_input(a, z)))

    def _mix(self, s: torch.Tensor, a: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        w = self.config.ensemble_mix
        if w == 0.0 or self.ensemble is None:
            return predicted
        return torch.lerp(predicted, self.ensemble(s, a).mean(0), w)

    def rollout(
        self, s0: torch.Tensor, actions: torch.Tensor, z: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Batched rollout, the planners' hot loop.

        The action/latent term of the first layer is computed for all H steps in one matmul,
        and the loop calls the functional ops directly (no per-step module dispatch);
        ``tests`` check it equals looping :meth:`step`.

        Shapes: s0 (B, D), actions (B, H, A), z (B, H, Z) or None -> (B, H, D).
        """
        self.check_rollout_inputs(s0, actions, z)
        # (B, H, hidden): W_a [a, z] + b for every step at once
        act_term = F.linear(self._action_input(actions, z), self.in_action.weight, self.in_state.bias)
        w_in = self.in_state.weight
        linears = [m for m in self.body if isinstance(m, nn.Linear)]
        hidden, (w_out, b_out) = linears[:-1], (linears[-1].weight, linears[-1].bias)
        s = s0
        states = []
        # unbind, not act_term[:, t]: the backward of H selects would zero-fill H full-size
        # gradients (measured: a fifth of a gradient planner's time); unbind's is one stack
        mixing = self.config.ensemble_mix > 0 and self.ensemble is not None
        raw = actions.unbind(1) if mixing else [None] * actions.shape[1]  # the heads read the actions
        for act_t, a_t in zip(act_term.unbind(1), raw, strict=True):
            h = F.silu(torch.addmm(act_t, s, w_in.T))  # (B, hidden)
            for lin in hidden:
                h = F.silu(F.linear(h, lin.weight, lin.bias))
            s_next = s + torch.addmm(b_out, h, w_out.T)  # (B, D)
            if self.normalize:
                s_next = F.layer_norm(s_next, (self.latent_dim,))
            s = self._mix(s, a_t, s_next) if mixing else s_next
            states.append(s)
        return torch.stack(states, dim=1)  # (B, H, D)

    # ------------------------------------------------------------------ encoding
    def encode(self, obs: Any) -> torch.Tensor:
        """Embedding of observations as the start state of a plan: the online encoder's, or the
        target's with ``plan_encoder="target"`` (no gradient then). Shapes: -> (B, D)."""
        if self.config.plan_encoder == "target":
            return self.encode_target(obs)
        return self.encoder(obs)

    @torch.no_grad()
    def encode_target(self, obs: Any) -> torch.Tensor:
        """EMA-target embedding: what predictions are trained to match (goals, critic inputs)."""
        return self.target_encoder(obs)

    @torch.no_grad()
    def adapt(self, obs: Any) -> None:
        """Fit the encoder's input normalisation; the target encoder gets the same."""
        self.encoder.adapt(obs)
        for b_t, b in zip(self.target_encoder.buffers(), self.encoder.buffers(), strict=True):
            b_t.copy_(b)

    @torch.no_grad()
    def refit(self, obs: Any) -> None:
        """Refit both encoders' input normalisation to ``obs``, each keeping its function."""
        self.encoder.refit(obs)
        self.target_encoder.refit(obs)

    @torch.no_grad()
    def update_target(self) -> None:
        """EMA step of the target encoder toward the online encoder."""
        tau = self.config.ema_tau
        for p_t, p in zip(self.target_encoder.parameters(), self.encoder.parameters(), strict=True):
            p_t.lerp_(p.detach(), 1.0 - tau)

    # ------------------------------------------------------------------ training
    def loss(
        self,
        batch: dict[str, Any],
        *,
        diagnostics: bool = True,
        head: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]] | None = None,
        readout: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]] | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """JEPA loss on windows.

        Shapes: batch["obs"] {key: (B, T+1, ...)}, batch["actions"] (B, T, A).
        ``head(predicted (B, T, D)) -> (loss, info)`` is a head trained on the predictor's
        own rollout of the window (the learned task cost); its loss is added, and its
        gradient reaches the predictor and the encoder. ``readout(online (B, T+1, D)) ->
        (loss, info)`` reads the online embeddings (the agent's probe); its loss is added and
        its gradient reaches the encoder.
        Returns the scalar loss and diagnostics: ``pred_loss_t{t}`` per horizon step,
        ``embed_std`` (mean per-feature batch std of online embeddings) and, when
        ``diagnostics``, ``embed_rank`` (an SVD: skip it on most updates).
        """
        actions = batch["actions"]
        obs = batch["obs"]
        B, T = actions.shape[:2]
        check_shape("actions", actions, ("B", "T", "A"), A=self.action_dim)
        flat = {k: v.reshape(B * (T + 1), *v.shape[2:]) for k, v in obs.items()}
        online = self.encoder(flat).reshape(B, T + 1, -1)  # (B, T+1, D)
        with torch.no_grad():
            target = self.target_encoder(flat).reshape(B, T + 1, -1)  # (B, T+1, D)

        cfg = self.config
        s = online[:, 0]
        pred_losses, predicted = [], []
        kl_total = actions.new_zeros(())
        for t in range(T):
            a = actions[:, t]
            z = None
            if self.latent_var_dim > 0:
                stats = self.posterior(torch.cat([s, a, target[:, t + 1]], dim=-1))
                mean, log_std = stats.chunk(2, dim=-1)
                log_std = log_std.clamp(-5.0, 2.0)
                z = mean + log_std.exp() * torch.randn_like(mean)
                kl = 0.5 * (mean.pow(2) + (2 * log_std).exp() - 1.0 - 2 * log_std).sum(-1)  # (B,)
                kl_total = kl_total + F.relu(kl - cfg.kl_free_nats).mean()
            s = self.predict(s, a, z)
            predicted.append(s)
            pred_losses.append(F.mse_loss(s, target[:, t + 1]))
        pred = self._rho_weighted(pred_losses)

        emb = online.reshape(B * (T + 1), -1)
        # data-parallel: the batch statistics of the whole global batch (gathered with gradient)
        var_loss, cov_loss = vicreg_terms(gather_ranks(emb) if self.gather_batch_statistics else emb)
        temporal = (online[:, 1:] - online[:, :-1]).pow(2).sum(-1).mean()
        total = (
            pred
            + cfg.var_coef * var_loss
            + cfg.cov_coef * cov_loss
            + (1.0 if cfg.temporal_coef is None else cfg.temporal_coef) * temporal
            + cfg.kl_coef * kl_total / T
        )
        info: dict[str, Any] = {}
        if cfg.target_start_coef > 0:
            target_start, _ = self._target_start_loss(target, actions)
            total = total + cfg.target_start_coef * target_start
            info["target_start_loss"] = target_start.detach()
        if head is not None:
            head_loss, head_info = head(torch.stack(predicted, dim=1))  # on (B, T, D)
            total = total + head_loss
            info.update(head_info)
        if readout is not None:
            ro_loss, ro_info = readout(online)
            total = total + ro_loss
            info.update(ro_info)
        if self.ensemble is not None:  # one-step heads on the target's latents, as planning feeds them
            ens_loss = self.ensemble.loss(target[:, :-1], actions, target[:, 1:])
            total = total + ens_loss
            info["ensemble_loss"] = ens_loss.detach()
        if self.inverse is not None:
            a_hat = self.inverse(torch.cat([online[:, :-1], online[:, 1:]], dim=-1))  # (B, T, A)
            inv_loss = F.mse_loss(a_hat, actions)
            total = total + cfg.inverse_coef * inv_loss
            info["inverse_loss"] = inv_loss.detach()
        with torch.no_grad():
            info.update(
                pred_loss=pred.detach(),
                var_loss=var_loss.detach(),
                cov_loss=cov_loss.detach(),
                kl=(kl_total / T).detach(),
                temporal=temporal.detach(),
                embed_std=emb.std(dim=0).mean(),
            )
            if diagnostics:
                info["embed_rank"] = effective_rank(emb)
            for t, lt in enumerate(pred_losses):
                info[f"pred_loss_t{t + 1}"] = lt.detach()
        return total, {k: float(v) for k, v in info.items()}

    def predictor_parameters(self) -> list[nn.Parameter]:
        """The predictor's weights (not the encoders', the posterior's nor any head's): what
        :meth:`refit_loss` trains."""
        return [*self.in_state.parameters(), *self.in_action.parameters(), *self.body.parameters()]

    def refit_loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """The predictor's open-loop loss on windows in the *target* encoder's space, the
        encoders frozen: the rollout from the target embedding of ``o_0`` under the window's
        actions (the latent variable at the prior's mode, as a plan predicts it) against the
        target embeddings that followed, step t weighted ``rho**t``. A plan that starts from
        the target encoder (``plan_encoder="target"``) predicts exactly this; training on it
        after the encoder stops moving fits the predictor to the geometry the goals, critic
        and policy use (``Agent.refit_predictor``).

        Shapes: batch["obs"] {key: (B, T+1, ...)}, batch["actions"] (B, T, A).
        Returns the scalar loss and ``{"refit_loss": ..., "refit_loss_t1": ...}``.
        """
        actions = batch["actions"]
        B, T = actions.shape[:2]
        check_shape("actions", actions, ("B", "T", "A"), A=self.action_dim)
        flat = {k: v.reshape(B * (T + 1), *v.shape[2:]) for k, v in batch["obs"].items()}
        loss, first = self._target_start_loss(self.encode_target(flat).reshape(B, T + 1, -1), actions)
        return loss, {"refit_loss": float(loss.detach()), "refit_loss_t1": float(first.detach())}

    def _target_start_loss(self, target: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The rho-weighted loss of the predictor's rollout from ``target[:, 0]`` (z at the
        prior's mode) against ``target[:, 1:]``, and its first step's.
        Shapes: target (B, T+1, D), actions (B, T, A) -> (), ()."""
        s, losses = target[:, 0], []
        for t in range(actions.shape[1]):
            s = self.predict(s, actions[:, t])
            losses.append(F.mse_loss(s, target[:, t + 1]))
        return self._rho_weighted(losses), losses[0]

    def _rho_weighted(self, losses: list[torch.Tensor]) -> torch.Tensor:
        """The mean of per-step losses, step t weighted ``rho**t``. Shapes: T x () -> ()."""
        weights = torch.tensor([self.config.rho**t for t in range(len(losses))], device=losses[0].device)
        return (torch.stack(losses) * weights).sum() / weights.sum()

    def disagreement(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Epistemic uncertainty of the step from ``s`` under ``a``: the variance of the
        ensemble heads' next latents, summed over features. Shapes: (..., D), (..., A) -> (...)."""
        if self.ensemble is None:
            raise ValueError("the world model has no ensemble: set world_model options ensemble_heads >= 2")
        return self.ensemble.disagreement(s, a)

    def extra_repr(self) -> str:
        return f"D={self.latent_dim}, A={self.action_dim}, Z={self.latent_var_dim}"


def embedding_diagnostics(emb: torch.Tensor) -> dict[str, float]:
    """Collapse diagnostics of a batch of embeddings: mean per-feature std and effective rank."""
    return {"embed_std": float(emb.std(dim=0).mean()), "embed_rank": float(effective_rank(emb))}

