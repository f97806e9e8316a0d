"""Network building blocks of the trainable cost modules (cost/ depends on torch only)."""

from __future__ import annotations

import torch
from torch import nn


def mlp(inp: int, hidden: int, out: int, layers: int, device: torch.device | str = "cpu") -> nn.Sequential:
    """``layers`` hidden (Linear, SiLU) pairs then an output Linear."""
    mods: list[nn.Module] = []
    width = inp
    for _ in range(layers):
        mods += [nn.Linear(width, hidden, device=device), nn.SiLU()]
        width = hidden
    mods.append(nn.Linear(width, out, device=device))
    return nn.Sequential(*mods)
