"""Encoder that fuses a camera image with proprioception (joint angles, velocities)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from torch import nn

from jepa_agent.perception.base import Encoder, Observation
from jepa_agent.perception.conv import ConvEncoder, ConvEncoderConfig
from jepa_agent.perception.mlp import MLPEncoder, MLPEncoderConfig, mlp_layers


class ImageStateEncoderConfig(BaseModel):
    """Configuration of :class:`ImageStateEncoder`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latent_dim: PositiveInt = 16
    """D: size of the fused latent state."""
    image: ConvEncoderConfig = ConvEncoderConfig(latent_dim=32)
    """The image branch (its ``latent_dim`` is the size of the image features fused)."""
    state: MLPEncoderConfig = MLPEncoderConfig(latent_dim=32)
    """The proprioception branch; its ``keys`` default to the ``observation`` entry (the
    state vector of ``obs_type="pixels+state"``), else every entry but the image and the goal
    ones, sorted by name."""
    hidden_dim: PositiveInt = 128
    """Width of the fusion MLP."""
    layers: int = Field(1, ge=0, le=4)
    """Hidden layers of the fusion MLP (0: one linear map)."""
    normalize_output: bool = True
    """LayerNorm without learned scale on the output (bounded latent scale)."""


class ImageStateEncoder(Encoder):
    """``s = MLP([conv(image), mlp(state)])``: a :class:`ConvEncoder` branch for the image, an
    :class:`MLPEncoder` branch for proprioception, concatenated and mixed by an MLP.

    Proprioception pins down what one image cannot (joint velocities, occluded joints); the
    image carries what the state vector does not (objects, the scene). Each branch keeps its
    own input normalisation, fitted by :meth:`adapt`.

    Shapes: obs {image key: (B, C, H, W), state keys: (B, F)} -> s (B, D).
    """

    def __init__(
        self,
        config: ImageStateEncoderConfig,
        *,
        input_shapes: Mapping[str, Sequence[int]],
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.config = config
        self.image = ConvEncoder(config.image, input_shapes=input_shapes, device=device)
        state_shapes = {k: v for k, v in input_shapes.items() if k != self.image.key}
        self.state = MLPEncoder(config.state, input_shapes=state_shapes, device=device)
        self.latent_dim = config.latent_dim
        fused = self.image.latent_dim + self.state.latent_dim
        mlp = mlp_layers(fused, config.hidden_dim, config.latent_dim, config.layers, device)
        if config.normalize_output:
            mlp.append(nn.LayerNorm(config.latent_dim, elementwise_affine=False, device=device))
        self.mix = nn.Sequential(*mlp)

    @torch.no_grad()
    def adapt(self, obs: Observation) -> None:
        self.image.adapt(obs)
        self.state.adapt(obs)

    def encode(self, obs: Observation) -> torch.Tensor:
        if not isinstance(obs, Mapping):
            raise ValueError(
                f"ImageStateEncoder needs a dict observation with {self.image.key!r} and "
                f"{list(self.state.keys)}, got a {type(obs).__name__}"
            )
        both = torch.cat([self.image(obs), self.state(obs)], dim=-1)  # (B, D_image + D_state)
        return self.mix(both)  # (B, D)
