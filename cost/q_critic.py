"""Action-value critic: ``Q(s, a, g)`` learned off-policy, valued under its own greedy actor.

The state-value critic (:class:`~cost.critic.MLPCritic`) learns the cost to come of
whatever collected the replay (random exploration, older planners): a pessimistic value
that lags the planner. This critic learns the cost to come of the *best* action instead,
as TD3 does (Fujimoto et al. 2018) and as TD-MPC (Hansen et al. 2022) uses it at the end of
the planning horizon:

* an ensemble of ``Q_e(s, a, g)`` regresses TD(lambda) targets built from the replayed
  actions and the target ensemble's *largest* cost at the next state under the target
  actor's smoothed action (the cost form of TD3's clipped double-Q: pessimism against
  the actor exploiting an ensemble member's underestimate);
* a deterministic actor ``mu(s, g)`` minimises ``mean_e Q_e(s, mu(s, g), g)`` (the ensemble's
  weights receive no gradient from it);
* the value the planner sees at the end of its horizon is ``V(s, g) = mean_e Q_e(s, mu(s, g), g)``.

The actor lives inside the critic: it defines which value the critic reports, and the cost
module depends on torch alone (never on ``actor/``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from pydantic import Field

from jepa_agent.cost.critic import Critic, CriticConfig, lambda_returns
from jepa_agent.cost.nets import ensemble_mlp, mlp


class QCriticConfig(CriticConfig):
    """Configuration of :class:`QCritic`: :class:`~cost.critic.CriticConfig`'s fields (the
    width and depth serve every Q network and the actor; the target update serves both) and
    the ensemble's."""

    lam: float = Field(0.5, ge=0.0, le=1.0)
    """TD(lambda) mixing over the replayed window: 0 is one-step Q-learning (off-policy
    exact), larger values propagate cost faster but follow the replayed actions."""
    ensemble: int = Field(2, ge=2, le=10)
    """Q networks; targets take the largest cost of the target ensemble (TD3 uses 2)."""
    target_noise: float = Field(0.2, ge=0.0)
    """Std of the Gaussian noise on the target actor's action (TD3's target smoothing), as a
    fraction of the action half-range."""
    target_noise_clip: float = Field(0.5, ge=0.0)
    """Clip of that noise, same units."""
    bc_weight: float = Field(0.0, ge=0.0)
    """Keep the greedy actor near the actions the agent took (TD3+BC, Fujimoto & Gu 2021): the
    actor's loss adds ``bc_weight * |Q| * mean((mu(s) - a)^2)`` (actions in half-ranges, ``|Q|``
    the batch's mean magnitude, so the weight is scale-free; TD3+BC's alpha = 2.5 is 0.4). The
    planner acts, not the actor: a value bootstrapped on actions the agent never takes is never
    corrected by data, and drifts optimistic. 0: off."""


class ActionValueCritic(Critic):
    """What every action-value critic has: an ensemble of MLPs ``Q_e`` on ``[s, a, g, s - g]``
    and a deterministic actor MLP on ``[s, g, g - s]`` whose action the planner is seeded with.
    Its config needs ``CriticConfig``'s fields and ``ensemble``. Subclasses define the value
    and the loss. Outputs ``(1 - gamma) Q`` internally to keep targets O(cost), like ``MLPCritic``.
    """

    takes_actions: ClassVar[bool] = True

    def __init__(
        self,
        config: Any,
        *,
        latent_dim: int,
        action_low: torch.Tensor,
        action_high: torch.Tensor,
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.config = config
        self.gamma, self.lam, self.target_tau = config.gamma, config.lam, config.target_tau
        self.nonnegative = config.nonnegative is not False
        D, A, W = latent_dim, int(action_low.shape[0]), config.hidden_dim
        self.action_dim = A
        self.qs = ensemble_mlp(config.ensemble, 3 * D + A, W, 1, config.layers, device, config.norm)  # (E, N, .) -> (E, N, 1)
        self.actor = mlp(3 * D, W, A, config.layers, device, config.norm)
        self.register_buffer("action_center", ((action_high + action_low) / 2).to(device))
        self.register_buffer("action_half", ((action_high - action_low) / 2).to(device))

    @property
    def greedy_policy(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        return self.greedy

    def greedy(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """The actor's action, in the bounds. Shapes: s (..., D), g (..., D) -> (..., A)."""
        return self.action_center + self.action_half * torch.tanh(self.actor(torch.cat([s, g, g - s], dim=-1)))

    def scaled(self, out: torch.Tensor) -> torch.Tensor:
        """A network's output as a value: softplus'd when nonnegative, divided by ``1 - gamma``."""
        return (F.softplus(out) if self.nonnegative else out) / (1.0 - self.gamma)

    def q_values(self, s: torch.Tensor, a: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Every member's ``Q(s, a, g)``. Shapes: s (..., D), a (..., A), g (..., D) -> (E, ...)."""
        x = torch.cat([s, a, g, s - g], dim=-1)  # (..., F)
        lead = x.shape[:-1]
        E = self.config.ensemble
        q = self.qs(x.reshape(1, -1, x.shape[-1]).expand(E, -1, -1)).reshape(E, *lead)  # (E, ...)
        return self.scaled(q)

    # ------------------------------------------------------------------ training helpers
    def replayed(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """A loss's inputs: the window's states (B, T+1, D), replayed actions (B, T, A), costs
        (B, T) and the goal per state (B, T+1, D); a clear error without the actions."""
        if "actions" not in batch:
            raise ValueError(f"{type(self).__name__}.loss needs batch['actions'] (B, T, A), the replayed actions")
        states = batch["states"]
        g = batch["goals"].unsqueeze(1).expand(-1, states.shape[1], -1)  # (B, T+1, D)
        return states, batch["actions"], batch["costs"], g

    def q_regression(
        self, s: torch.Tensor, actions: torch.Tensor, g: torch.Tensor, returns: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Every member's squared error on the replayed actions' targets, summed over members,
        and the members' predictions. Shapes: s (B, T, D), actions (B, T, A), g (B, T, D),
        returns (B, T) -> (), (E, B, T)."""
        pred = self.q_values(s, actions, g)  # (E, B, T)
        return (pred - returns).pow(2).mean(dim=(1, 2)).sum(), pred


class QCritic(ActionValueCritic):
    """An ensemble of MLPs on ``[s, a, g, s - g]`` and an MLP actor on ``[s, g, g - s]``,
    the value that of the actor's action (:class:`ActionValueCritic`)."""

    config_class = QCriticConfig

    # ------------------------------------------------------------------ values
    def forward_value(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.q_values(s, self.greedy(s, g), g).mean(0)

    # ------------------------------------------------------------------ training
    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Ensemble TD(lambda) regression plus the actor's loss.

        Shapes: batch["states"] (B, T+1, D), batch["actions"] (B, T, A) the replayed actions,
        batch["costs"] (B, T), batch["goals"] (B, D), optionally batch["terminals"] (B, T).
        """
        states, actions, costs, g = self.replayed(batch)
        target = self._target()
        with torch.no_grad():
            nxt, g_nxt = states[:, 1:], g[:, 1:]  # (B, T, D)
            a_nxt = target.greedy(nxt, g_nxt)  # (B, T, A)
            if self.config.target_noise > 0:
                clip = self.config.target_noise_clip
                noise = (torch.randn_like(a_nxt) * self.config.target_noise).clamp(-clip, clip)
                low, high = self.action_center - self.action_half, self.action_center + self.action_half
                a_nxt = torch.maximum(torch.minimum(a_nxt + noise * self.action_half, high), low)
            q_next = target.q_values(nxt, a_nxt, g_nxt).amax(0)  # (B, T): the pessimistic cost
            returns = lambda_returns(costs, q_next, batch.get("terminals"), self.gamma, self.lam)  # (B, T)
        s, g_now = states[:, :-1], g[:, :-1]  # (B, T, D)
        q_loss, pred = self.q_regression(s, actions, g_now, returns)
        # The actor minimises the ensemble's mean cost; the ensemble is frozen for this term.
        self.qs.requires_grad_(False)
        try:
            mu = self.greedy(s.detach(), g_now)  # (B, T, A)
            actor_loss = self.q_values(s.detach(), mu, g_now).mean()
        finally:
            self.qs.requires_grad_(True)
        info = {}
        total_actor = actor_loss
        if self.config.bc_weight > 0:
            mask = batch.get("mask")  # (B, T) bool: the steps the planner chose (not random exploration)
            bc = ((mu - actions) / self.action_half).pow(2).mean(-1)  # (B, T)
            if mask is not None:
                weight = mask.to(bc.dtype)
                bc = (bc * weight).sum() / weight.sum().clamp_min(1.0)
            else:
                bc = bc.mean()
            total_actor = actor_loss + self.config.bc_weight * actor_loss.detach().abs() * bc
            info["actor_bc"] = float(bc.detach())
        # Scale the actor's loss like the values' regression: (1 - gamma) keeps it O(cost).
        loss = q_loss + (1.0 - self.gamma) * total_actor
        return loss, {
            "critic_loss": float(q_loss.detach()) / self.config.ensemble,
            "critic_value": float(pred.detach().mean()),
            "actor_value": float(actor_loss.detach()),
            **info,
        }
