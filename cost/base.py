"""The cost module's interface: an energy on imagined states and actions (lower is better)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch

CostFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


class CostTerm(ABC):
    """An intrinsic cost term: fixed, no trainable parameters, differentiable.

    Shapes: states (..., H, D), actions (..., H, A), goal (..., D) -> cost (..., H).
    ``states[..., t, :]`` is the state reached by ``actions[..., t, :]``; leading axes
    (B, N, K, ...) broadcast against the goal's leading axes.
    """

    def __call__(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        if states.shape[-2] != actions.shape[-2]:
            raise ValueError(
                f"states (..., H, D) and actions (..., H, A) must share H, got "
                f"{tuple(states.shape)} and {tuple(actions.shape)}"
            )
        return self.compute(states, actions, goal)

    @abstractmethod
    def compute(self, states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        """Per-step cost. Shapes: (..., H, D), (..., H, A), (..., D) -> (..., H)."""
