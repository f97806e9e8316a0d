"""Network building blocks of the trainable cost modules (cost/ depends on torch only)."""

from __future__ import annotations

import math

import torch
from torch import nn


def mlp(
    inp: int, hidden: int, out: int, layers: int, device: torch.device | str = "cpu", norm: bool = False
) -> nn.Sequential:
    """``layers`` hidden (Linear, SiLU) pairs then an output Linear; with ``norm`` a LayerNorm
    between each hidden Linear and its SiLU (TD-MPC2's, BRO's blocks)."""
    mods: list[nn.Module] = []
    width = inp
    for _ in range(layers):
        mods += [nn.Linear(width, hidden, device=device), *([nn.LayerNorm(hidden, device=device)] if norm else []),
                 nn.SiLU()]
        width = hidden
    mods.append(nn.Linear(width, out, device=device))
    return nn.Sequential(*mods)


class EnsembleLinear(nn.Module):
    """E independent linear layers applied as one batched matmul (one op for the ensemble).

    Initialised like ``nn.Linear`` (uniform in +-1/sqrt(in)). Shapes: (E, N, in) -> (E, N, out).
    """

    def __init__(self, members: int, inp: int, out: int, device: torch.device | str = "cpu") -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(inp)
        self.weight = nn.Parameter(torch.empty(members, inp, out, device=device).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(members, 1, out, device=device).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)

    def extra_repr(self) -> str:
        E, i, o = self.weight.shape
        return f"members={E}, in_features={i}, out_features={o}"


class EnsembleLayerNorm(nn.Module):
    """LayerNorm over the last axis with each member's own scale and shift.
    Shapes: (E, N, F) -> (E, N, F)."""

    def __init__(self, members: int, features: int, device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(members, 1, features, device=device))
        self.bias = nn.Parameter(torch.zeros(members, 1, features, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.layer_norm(x, x.shape[-1:]) * self.weight + self.bias


def ensemble_mlp(
    members: int, inp: int, hidden: int, out: int, layers: int, device: torch.device | str = "cpu", norm: bool = False
) -> nn.Sequential:
    """``members`` MLPs like :func:`mlp` (``norm`` too), evaluated together.
    Shapes: (E, N, inp) -> (E, N, out)."""
    mods: list[nn.Module] = []
    width = inp
    for _ in range(layers):
        mods += [EnsembleLinear(members, width, hidden, device),
                 *([EnsembleLayerNorm(members, hidden, device)] if norm else []), nn.SiLU()]
        width = hidden
    mods.append(EnsembleLinear(members, width, out, device))
    return nn.Sequential(*mods)
