"""A goal-conditioned temporal distance: the discounted number of steps from ``s`` to ``g``.

The latent goal energy ``||s - g||`` falls through a wall as fast as round it, and a critic
of that energy (``MLPCritic``) inherits the shortcut. This critic learns instead how many
steps the data needs to get from one latent state to another: each step costs 1 until the
goal is reached, so ``V(s, g) = sum_{k < d} gamma^k = (1 - gamma^d) / (1 - gamma)`` for a
goal ``d`` steps away, and a goal behind a wall is as far as the way round it. It is the
goal-conditioned value of HIQL (Park et al. 2023) and of Kaelbling's (1993) learning to
achieve goals, trained on latent states:

* goals of three kinds per replayed window: the batch's own goal (the env's, or a later
  state of the same episode, ``goal_offsets`` steps after the window's start), a state of
  the window itself (reached at its index: the value there is 0), and a state of another
  window (anywhere in the replay);
* one-step TD targets ``1 + gamma V_target(s_{t+1}, g)`` (0 at the goal itself), capped
  by what the episode showed: a goal the episode reached ``k`` steps later is at most
  ``k`` steps away;
* a low expectile (IQL, Kostrikov et al. 2022) instead of the mean, so the value follows
  the shortest way the data shows, stitched across episodes, not the average one.

Planned with it (``task.cost.goal_weight: 0`` leaves it the whole goal energy), the flat
planner's horizon ends on a value that goes round walls, and the hierarchical planner's top
level searches macro-actions for the coarse state nearest the goal in steps.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field

from jepa_agent.cost.critic import Critic, CriticConfig
from jepa_agent.cost.nets import mlp


class DistanceCriticConfig(CriticConfig):
    """Configuration of :class:`DistanceCritic`: :class:`~cost.critic.CriticConfig`'s fields
    (``lam`` and ``nonnegative`` are unused: targets are one-step, values are >= 0) and the
    expectile's."""

    hidden_dim: int = Field(256, gt=0)
    """Width of the value MLP."""
    layers: int = Field(3, ge=1, le=8)
    """Hidden layers."""
    gamma: float = Field(0.99, gt=0.0, lt=1.0)
    """Discount per step: ``1 / (1 - gamma)`` bounds the value, and distances well beyond it
    are told apart less well (0.99: 100 steps). Must equal ``CostConfig.gamma``."""
    expectile: float = Field(0.7, ge=0.5, lt=1.0)
    """Weight of targets below the prediction (``1 - expectile`` above it): 0.5 is the mean
    over the replayed ways, larger follows the shorter ones."""


class DistanceCritic(Critic):
    """MLP on ``[s, g, s - g]``; a sigmoid keeps ``V`` in ``(0, 1 / (1 - gamma))``.

    Its loss ignores ``batch["costs"]``: the cost of a step is 1 until the goal is reached,
    whatever the task's terms are. ``value(s, g)`` is a distance in discounted steps.
    """

    def __init__(
        self, config: DistanceCriticConfig, *, latent_dim: int, device: torch.device | str = "cpu"
    ) -> None:
        super().__init__()
        self.config = config
        self.gamma, self.lam, self.target_tau = config.gamma, 0.0, config.target_tau
        self.net = mlp(3 * latent_dim, config.hidden_dim, 1, config.layers, device, config.norm)

    def forward_value(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        x = self.net(torch.cat([s, g, s - g], dim=-1)).squeeze(-1)
        return torch.sigmoid(x) / (1.0 - self.gamma)

    def steps(self, s: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """The value as undiscounted steps, ``d = log(1 - (1 - gamma) V) / log(gamma)``.

        Shapes: s (..., D), g (..., D) broadcastable -> (...)."""
        v = (1.0 - self.gamma) * self.value(s, g)
        return torch.log1p(-v.clamp(max=1.0 - 1e-6)) / torch.log(torch.tensor(self.gamma, device=v.device))

    def _bound(self, k: torch.Tensor) -> torch.Tensor:
        """The value of a goal ``k`` steps away (k >= 0, any shape, float)."""
        return (1.0 - self.gamma**k) / (1.0 - self.gamma)

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Expectile TD regression on three goals per window (:meth:`td_targets`)."""
        states = batch["states"]
        goals, target, mask = self.td_targets(batch)
        pred = self.value(states[None, :, :-1], goals[:, :, None])  # (3, B, T)
        diff = target - pred  # (3, B, T)
        tau = self.config.expectile
        w = torch.where(diff < 0, tau, 1.0 - tau) * mask.to(diff.dtype)  # lower expectile of the cost
        scale = 1.0 - self.gamma  # values are O(1 / (1 - gamma)): regress the normalised ones
        loss = (w * (scale * diff) ** 2).sum() / mask.sum().clamp(min=1)
        return loss, {"critic_loss": float(loss.detach()), "critic_value": float(pred[0].detach().mean())}

    @torch.no_grad()
    def td_targets(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The three goals of each window, the value each step is regressed to, and which
        steps count.

        Shapes: batch["states"] (B, T+1, D), batch["goals"] (B, D), optionally
        batch["goal_offsets"] (B,) int64: steps from the window's first state to the state
        the goal was taken from (a state of the same episode; < 0 or absent where the goal
        is not one, such as the env's), and batch["terminals"] (B, T) bool (a terminated
        transition has no next state to bootstrap from: left out) -> goals (3, B, D), target
        (3, B, T), mask (3, B, T) bool.
        """
        states = batch["states"]
        B, T1, D = states.shape
        T = T1 - 1
        dev = states.device
        t = torch.arange(T, device=dev)  # (T,)
        # a state of the window: goal index j in [0, T]
        j = torch.randint(0, T1, (B,), device=dev)  # (B,)
        own = states[torch.arange(B, device=dev), j]  # (B, D)
        # a state of another window, anywhere in it
        other = states[torch.roll(torch.arange(B, device=dev), 1), torch.randint(0, T1, (B,), device=dev)]  # (B, D)
        goals = torch.stack([batch["goals"], own, other], dim=0)  # (3, B, D)

        v_next = self._target().value(states[None, :, 1:], goals[:, :, None])  # (3, B, T)
        target = 1.0 + self.gamma * v_next  # (3, B, T)
        # the window's own state: 0 at index j, 1 one step before, at most its distance before that
        left = (j[:, None] - t[None]).to(states.dtype)  # (B, T) steps from t to j
        target[1] = torch.where(left == 1, torch.ones_like(left), target[1])
        target[1] = torch.where(left > 1, torch.minimum(target[1], self._bound(left)), target[1])
        target[1] = torch.where(left == 0, torch.zeros_like(left), target[1])
        offsets = batch.get("goal_offsets")
        if offsets is not None:  # a state of the same episode, k steps after t: at most that far
            k = (offsets[:, None] - t[None]).to(states.dtype)  # (B, T); < 0: passed already, nothing known
            capped = torch.minimum(target[0], self._bound(k.clamp(min=0.0)))
            target[0] = torch.where(k >= 0, capped, target[0])  # offsets < 0 (the env's goal) included
        terminals = batch.get("terminals")
        alive = torch.ones(B, T, dtype=torch.bool, device=dev) if terminals is None else ~terminals.bool()
        mask = alive[None].repeat(3, 1, 1)  # (3, B, T)
        mask[1] |= (left == 0) | (left == 1)  # the goal is this state or the next: nothing to bootstrap
        return goals, target, mask
