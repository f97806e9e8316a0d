"""The perception module's interface: an observation goes in, a latent state comes out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

import torch
from torch import nn

Observation = torch.Tensor | Mapping[str, torch.Tensor]


class Encoder(nn.Module, ABC):
    """Maps an observation to a latent state ``s``.

    Subclasses implement :meth:`encode`; :meth:`forward` is the public entry point
    and checks that the result has the promised shape. The configurator constructs
    encoders as ``Cls(config, *, input_shapes={key: shape}, device=...)``; a plain tensor
    observation has the single key ``""``.

    Shapes: obs (B, ...) or a dict of (B, ...) tensors -> s (B, D).
    """

    latent_dim: int

    def forward(self, obs: Observation) -> torch.Tensor:
        s = self.encode(obs)
        if s.ndim != 2 or s.shape[-1] != self.latent_dim:
            raise ValueError(
                f"{type(self).__name__}.encode must return (B, D=latent_dim)=(B, {self.latent_dim}), "
                f"got {tuple(s.shape)}"
            )
        return s

    @abstractmethod
    def encode(self, obs: Observation) -> torch.Tensor:
        """Encode a batch of observations into latent states (B, D)."""

    def adapt(self, obs: Observation) -> None:
        """Fit data-dependent, non-learned parts (input normalisation) to a batch of
        observations. Called once, on the first collected data; a no-op by default."""

    def refit(self, obs: Observation) -> None:
        """Fit the data-dependent parts again, to a newer batch of observations, without
        changing what the encoder computes: the learned weights absorb the change (an agent
        that explores past its first data sees inputs far outside the first fit). A no-op by
        default."""
