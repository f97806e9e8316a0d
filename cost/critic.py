"""Trainable critic: the intrinsic cost still to come after the planning horizon."""

from __future__ import annotations

import copy
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from torch import nn

from jepa_agent.cost.nets import mlp


class CriticConfig(BaseModel):
    """Configuration of :class:`MLPCritic`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden_dim: PositiveInt = 128
    """Width of the value MLP."""
    layers: int = Field(2, ge=1, le=8)
    """Hidden layers."""
    norm: bool = False
    """LayerNorm after every hidden layer of the value networks and the actor (TD-MPC2's and
    BRO's critics): the values' scale stays bounded under many updates per env step."""
    gamma: float = Field(0.9, gt=0.0, lt=1.0)
    """Discount of future cost; must equal ``CostConfig.gamma`` (AgentConfig checks it)."""
    lam: float = Field(0.8, ge=0.0, le=1.0)
    """TD(lambda) mixing: 0 is one-step TD, 1 is the Monte-Carlo return of the window."""
    target_tau: float = Field(0.99, ge=0.0, lt=1.0)
    """Target network update ``target <- tau * target + (1 - tau) * online``."""
    nonnegative: bool | None = None
    """Keep values >= 0 (a softplus head): right for goal tasks, whose costs are distances.
    None: nonnegative for goal tasks, signed where the env's reward is part of the cost (a
    reward, such as HalfCheetah's forward velocity, makes the cost negative)."""


def lambda_returns(
    costs: torch.Tensor, v_next: torch.Tensor, terminals: torch.Tensor | None, gamma: float, lam: float
) -> torch.Tensor:
    """TD(lambda) targets of a window (Sutton & Barto 2018, Eq. 12.18, as a backward recursion).

    ``G_t = c_t + gamma * live_t * ((1 - lam) * V(s_{t+1}) + lam * G_{t+1})`` with
    ``G_T = V(s_T)``: nothing is bootstrapped past a termination (``live_t = 0``), and a
    time-limit truncation is no terminal. ``lam=0`` is one-step TD, ``lam=1`` the Monte-Carlo
    return of the window bootstrapped at its end.

    Shapes: costs (B, T), v_next (B, T) the values of the states the transitions reach,
    terminals (B, T) bool or None -> (B, T).
    """
    B, T = costs.shape
    live = costs.new_ones(B, T) if terminals is None else 1.0 - terminals.to(costs.dtype)  # (B, T)
    ret = v_next[:, -1]
    targets = []
    for t in reversed(range(T)):
        ret = costs[:, t] + gamma * live[:, t] * ((1 - lam) * v_next[:, t] + lam * ret)
        targets.append(ret)
    return torch.stack(targets[::-1], dim=1)  # (B, T)


class Critic(nn.Module):
    """Predicts ``V(s, g) = E[sum_k gamma^k c_{t+k}]``, the discounted intrinsic cost to come.

    Subclasses implement :meth:`forward_value`. The base trains it by TD(lambda) against a
    slowly-updated target copy (Sutton & Barto 2018, Sec. 12.1), on windows whose goals the
    agent relabels from the same episode's future (hindsight, Andrychowicz et al. 2017).
    """

    gamma: float
    lam: float
    target_tau: float
    takes_actions: ClassVar[bool] = False
    """True for a critic whose constructor takes ``action_low``/``action_high`` (A,) and
    whose loss reads ``batch["actions"]`` (an action-value critic)."""

    @property
    def greedy_policy(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
        """``(s, g) -> a``, the action the value assumes, for a critic that has one (an
        action-value critic's actor); None for a state-value critic. Planners are seeded
        with its rollout (``ActorConfig.critic_proposals``)."""
        return None

    def value(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Shapes: s (..., D), g (..., D) broadcastable -> (...)."""
        s, g = torch.broadcast_tensors(s, g)
        return self.forward_value(s, g)

    @abstractmethod
    def forward_value(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Shapes: s (..., D), g (..., D) -> (...)."""

    def _target(self) -> Critic:
        # Built lazily so subclasses need not know about it; kept out of parameters().
        if "_target_critic" not in self.__dict__:
            target = copy.deepcopy(self)
            target.requires_grad_(False)
            self.__dict__["_target_critic"] = target
        return self.__dict__["_target_critic"]

    @torch.no_grad()
    def update_target(self) -> None:
        target = self._target()
        for p_t, p in zip(target.parameters(), self.parameters(), strict=True):
            p_t.lerp_(p.detach(), 1.0 - self.target_tau)

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """TD(lambda) regression.

        Shapes: batch["states"] (B, T+1, D) latents, batch["costs"] (B, T) where
        ``costs[:, t]`` is the cost of the transition into ``states[:, t+1]``,
        batch["goals"] (B, D), optionally batch["actions"] (B, T, A) (the replayed actions,
        unused by a state-value critic), and optionally batch["terminals"] (B, T) bool, True where that
        transition ended the episode by termination: nothing is bootstrapped past it (a
        time-limit truncation is not a terminal, and its value is bootstrapped). The agent
        also passes batch["mask"] (B, T) bool, True where the planner chose the action (not
        random exploration), for critics that learn from the actions.
        """
        states, costs, goals = batch["states"], batch["costs"], batch["goals"]
        g = goals.unsqueeze(1)  # (B, 1, D)
        with torch.no_grad():
            v_next = self._target().value(states[:, 1:], g)  # (B, T)
            target = lambda_returns(costs, v_next, batch.get("terminals"), self.gamma, self.lam)  # (B, T)
        pred = self.value(states[:, :-1], g)  # (B, T)
        loss = F.mse_loss(pred, target)
        return loss, {"critic_loss": float(loss.detach()), "critic_value": float(pred.detach().mean())}


class MLPCritic(Critic):
    """MLP on ``[s, g, s - g]``; outputs ``(1 - gamma) V`` internally to keep targets O(cost).

    With ``nonnegative`` (goal tasks) a softplus keeps the value >= 0.
    """

    def __init__(self, config: CriticConfig, *, latent_dim: int, device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.config = config
        self.gamma, self.lam, self.target_tau = config.gamma, config.lam, config.target_tau
        self.nonnegative = config.nonnegative is not False
        self.net = mlp(3 * latent_dim, config.hidden_dim, 1, config.layers, device, config.norm)

    def forward_value(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        v = self.net(torch.cat([s, g, s - g], dim=-1)).squeeze(-1)
        if self.nonnegative:
            v = F.softplus(v)  # costs are >= 0, so is their sum
        return v / (1.0 - self.gamma)
