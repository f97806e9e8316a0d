"""Expectile critic: values learned from the actions the agent took, never from actions it did not.

The planner acts, so an action-value critic bootstrapped on its own greedy actor (TD3's
target, :class:`~cost.q_critic.QCritic`) values actions the agent never executes: nothing in
the replay corrects their error, and it drifts optimistic (on Hopper at 40k env steps, one-step
targets valued the agent's states at -661 against a Monte-Carlo return of -99). Implicit
Q-learning (Kostrikov et al. 2022) learns the value of the *best replayed* behaviour instead,
querying no action outside the replay:

* an ensemble ``Q_e(s, a, g)`` regresses ``c + gamma * V_target(s')`` on the replayed actions
  (TD(lambda) over the window with ``lam`` > 0);
* ``V(s, g)`` regresses the target ensemble's largest cost ``max_e Q_e(s, a, g)`` of the
  replayed actions with an asymmetric square: residuals where an action cost less than ``V``
  weigh ``expectile``, the others ``1 - expectile``. At 0.5 ``V`` is the replay's mean action
  value (SARSA); towards 1 it is the cost of the best action the replay shows in that state,
  the improvement the planner then plans toward;
* a deterministic actor ``mu(s, g)`` for the planner's proposals, fitted by advantage-weighted
  regression to the replayed actions (weights ``exp(beta * (V - Q))``, clipped): the replayed
  actions that beat the value, never an action the critic extrapolates to.

``V`` is what the planner adds at the end of its horizon.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from jepa_agent.cost.critic import CriticConfig, lambda_returns
from jepa_agent.cost.nets import mlp
from jepa_agent.cost.q_critic import ActionValueCritic


class ExpectileCriticConfig(CriticConfig):
    """Configuration of :class:`ExpectileCritic`: :class:`~cost.critic.CriticConfig`'s fields
    (the width and depth serve ``V``, every ``Q`` and the actor) and the expectile's."""

    lam: float = Field(0.0, ge=0.0, le=1.0)
    """TD(lambda) mixing of ``Q``'s targets over the replayed window (0: one-step)."""
    expectile: float = Field(0.7, ge=0.5, lt=1.0)
    """Weight of the residuals where a replayed action cost less than ``V`` (IQL's tau;
    0.5: the mean, SARSA's value of the replay's behaviour; towards 1: its best action)."""
    ensemble: int = Field(2, ge=2, le=10)
    """Q networks; ``V`` regresses the target ensemble's largest cost (pessimism)."""
    awr_beta: float = Field(3.0, ge=0.0)
    """Inverse temperature of the actor's advantage weights ``exp(beta * (V - Q))``, values in
    units of the discounted cost to come (IQL: 3 on MuJoCo). 0: plain regression to the
    replayed actions."""
    awr_max_weight: float = Field(100.0, gt=0.0)
    """Clip of those weights."""


class ExpectileCritic(ActionValueCritic):
    """:class:`~cost.q_critic.ActionValueCritic`'s ensemble and actor, and a value MLP ``V``
    on ``[s, g, s - g]``: the value the planner reads."""

    def __init__(
        self,
        config: ExpectileCriticConfig,
        *,
        latent_dim: int,
        action_low: torch.Tensor,
        action_high: torch.Tensor,
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__(config, latent_dim=latent_dim, action_low=action_low, action_high=action_high, device=device)
        self.v = mlp(3 * latent_dim, config.hidden_dim, 1, config.layers, device, config.norm)

    def forward_value(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.scaled(self.v(torch.cat([s, g, s - g], dim=-1)).squeeze(-1))

    # ------------------------------------------------------------------ training
    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Q's TD regression on the replayed actions, V's expectile regression on Q, the
        actor's advantage-weighted regression.

        Shapes: batch["states"] (B, T+1, D), batch["actions"] (B, T, A) the replayed actions,
        batch["costs"] (B, T), batch["goals"] (B, D), optionally batch["terminals"] (B, T).
        """
        states, actions, costs, g = self.replayed(batch)
        s, g_now = states[:, :-1], g[:, :-1]  # (B, T, D)
        target = self._target()
        with torch.no_grad():
            v_next = target.value(states[:, 1:], g[:, 1:])  # (B, T)
            returns = lambda_returns(costs, v_next, batch.get("terminals"), self.gamma, self.lam)  # (B, T)
            q_taken = target.q_values(s, actions, g_now).amax(0)  # (B, T): the pessimistic cost of each action
        q_loss, _ = self.q_regression(s, actions, g_now, returns)
        v = self.value(s, g_now)  # (B, T)
        u = v - q_taken  # > 0: the action cost less than the value
        weight = torch.where(u > 0, self.config.expectile, 1.0 - self.config.expectile)
        v_loss = (weight * u.pow(2)).mean()
        # The actor imitates the replayed actions, the better ones (advantage V - Q > 0) most.
        with torch.no_grad():
            w = torch.exp(self.config.awr_beta * u).clamp(max=self.config.awr_max_weight)  # (B, T)
        mu = self.greedy(s.detach(), g_now)  # (B, T, A)
        actor_loss = (w * ((mu - actions) / self.action_half).pow(2).mean(-1)).mean()
        loss = q_loss + v_loss + actor_loss
        return loss, {
            "critic_loss": float(q_loss.detach()) / self.config.ensemble,
            "critic_value": float(v.detach().mean()),
            "critic_v_loss": float(v_loss.detach()),
            "actor_awr": float(actor_loss.detach()),
        }
