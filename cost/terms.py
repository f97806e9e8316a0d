"""Built-in intrinsic cost terms (hard-wired, no trainable parameters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

from jepa_agent.cost.base import CostTerm

Norm = Literal["l2", "l1", "sq"]


class LatentGoalDistance(CostTerm):
    """Energy between each predicted latent state and the goal latent.

    ``norm="l2"`` is DINO-WM's choice, ``"l1"`` V-JEPA 2-AC's, ``"sq"`` the squared L2
    (smooth at the goal, which gradient planners like).
    """

    def __init__(self, norm: Norm = "l2") -> None:
        if norm not in ("l2", "l1", "sq"):
            raise ValueError(f"norm must be one of 'l2', 'l1', 'sq', got {norm!r}")
        self.norm = norm

    def compute(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        diff = states - goal.unsqueeze(-2)  # (..., H, D)
        if self.norm == "l1":
            return diff.abs().sum(-1)
        sq = diff.pow(2).sum(-1)
        return sq if self.norm == "sq" else torch.sqrt(sq + 1e-8)


class ProbeGoalDistance(CostTerm):
    """Euclidean distance between the probe's readouts of each state and of the goal latent.

    With a probe that reads the achieved goal, this is the predicted fingertip-to-goal
    distance in the env's units (metres): the task's own success measure. The probe is
    frozen here; nothing in planning changes it.
    """

    def __init__(self, probe: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.probe = probe

    def compute(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        diff = self.probe(states) - self.probe(goal).unsqueeze(-2)  # (..., H, G)
        return torch.sqrt(diff.pow(2).sum(-1) + 1e-10)


class ActionEffort(CostTerm):
    """Squared action magnitude, summed over action dimensions."""

    def compute(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        return actions.pow(2).sum(-1)


class ActionSmoothness(CostTerm):
    """Squared change between consecutive actions of a plan (zero at its first step)."""

    def compute(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        d = (actions[..., 1:, :] - actions[..., :-1, :]).pow(2).sum(-1)  # (..., H-1)
        return torch.nn.functional.pad(d, (1, 0))


class EpistemicDisagreement(CostTerm):
    """The world model's uncertainty along an imagined trajectory: ``disagreement(s_t,
    a_{t+1})`` of an ensemble (``WorldModel.disagreement``), 0 at the first step (whose
    start state the term does not see).

    The epistemic half of expected free energy: a *negative* weight makes the planner seek
    what the model does not know (exploration while collecting data), a positive one makes
    it avoid it (caution while acting for a user).
    """

    def __init__(self, disagreement: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        self.disagreement = disagreement

    def compute(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        lead = torch.broadcast_shapes(states.shape[:-2], actions.shape[:-2])
        s = states[..., :-1, :].expand(*lead, -1, -1)  # (..., H-1, D)
        a = actions[..., 1:, :].expand(*lead, -1, -1)  # (..., H-1, A)
        d = self.disagreement(s, a)  # (..., H-1)
        return torch.cat([d.new_zeros((*lead, 1)), d], dim=-1)  # (..., H)
