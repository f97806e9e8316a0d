"""Convolutional encoder for camera images (uint8 in, normalised inside)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator
from torch import nn

from jepa_agent.perception.base import Encoder, Observation
from jepa_agent.perception.mlp import mlp_layers


class ConvEncoderConfig(BaseModel):
    """Configuration of :class:`ConvEncoder`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latent_dim: PositiveInt = 16
    """D: size of the latent state (as for the MLP encoder: a small latent keeps latent
    distances meaningful for the goal energy)."""
    channels: tuple[PositiveInt, ...] = (8, 16, 32, 64)
    """Output channels of each conv layer. The default costs about 2.5 MFLOP per 64x64 image
    (forward, MLP included): the online encoder, its EMA target and the critic's inputs encode
    every replayed image, so on a CPU the trunk's cost sets the training speed. Measured on
    Reach2D from pixels: (16, 32, 32, 64) took 1.75x the time per update and reached no
    more goals."""
    strides: tuple[PositiveInt, ...] | None = None
    """Stride of each conv layer; None: 2 everywhere (64x64 -> 4x4 with four layers)."""
    kernel_size: int = Field(3, ge=1, le=9)
    """Square kernel of every conv layer (padded to keep ``ceil(size / stride)``)."""
    head: Literal["flatten", "spatial_softmax"] = "flatten"
    """How the last feature map becomes a vector. ``flatten``: all its values.
    ``spatial_softmax``: the expected image (x, y) of each channel's softmax over positions,
    2 numbers per channel (Levine et al. 2016, "End-to-end training of deep visuomotor
    policies"): keypoints with sub-pixel precision, suited to reading where a part of a robot
    is; it wants a feature map of useful resolution (e.g. strides (2, 2, 1, 1))."""
    hidden_dim: PositiveInt = 128
    """Width of the MLP from the trunk's features to the latent."""
    layers: int = Field(1, ge=0, le=4)
    """Hidden layers of that MLP (0: one linear map)."""
    key: str | None = None
    """Dict-observation key of the image; None: ``pixels`` if present, else the single entry."""
    normalize_input: bool = True
    """Standardise each channel with a mean and std fitted once on early data
    (:meth:`Encoder.adapt`) after scaling uint8 to [0, 1]; off: only the scaling to [-0.5, 0.5]."""
    normalize_output: bool = True
    """LayerNorm without learned scale on the output (bounded latent scale; the world model's
    predictions share it)."""

    @model_validator(mode="after")
    def _check_strides(self) -> ConvEncoderConfig:
        if not self.channels:
            raise ValueError("channels must name at least one conv layer, got ()")
        if self.strides is not None and len(self.strides) != len(self.channels):
            raise ValueError(
                f"strides must have one entry per conv layer ({len(self.channels)}), got "
                f"{self.strides}"
            )
        return self


def image_key(input_shapes: Mapping[str, Sequence[int]], key: str | None) -> str:
    """The observation entry holding the image: ``key``, else ``pixels``, else the only entry."""
    if key is not None:
        chosen = key
    elif "pixels" in input_shapes or len(input_shapes) != 1:
        chosen = "pixels"
    else:
        chosen = next(iter(input_shapes))
    if chosen not in input_shapes:
        raise ValueError(f"observation key {chosen!r} expected for the image, got {sorted(input_shapes)}")
    if len(input_shapes[chosen]) != 3:
        raise ValueError(
            f"image observation {chosen!r} must be (C, H, W), got {tuple(input_shapes[chosen])}"
        )
    return chosen


def image_batch(obs: Observation, key: str, shape: tuple[int, int, int]) -> torch.Tensor:
    """The image entry of an observation, checked: (B, C, H, W) uint8 or float.

    uint8 is the camera's encoding (0-255); floating images are taken to be in [0, 1].
    """
    x = obs[key] if isinstance(obs, Mapping) else obs
    if x.ndim != 4 or tuple(x.shape[1:]) != shape:
        raise ValueError(
            f"image observation {key!r} must be batched (B, C, H, W)=(B, {', '.join(map(str, shape))}), "
            f"got {tuple(x.shape)}"
        )
    if x.dtype != torch.uint8 and not x.is_floating_point():
        raise ValueError(f"image observation {key!r} must be uint8 (0-255) or float (0-1), got {x.dtype}")
    return x


def to_unit_range(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """uint8 0-255 -> ``dtype`` in [0, 1]; floating images are only cast."""
    return x.to(dtype) / 255.0 if x.dtype == torch.uint8 else x.to(dtype)


class SpatialSoftmax(nn.Module):
    """Per channel, the expected (x, y) in [-1, 1] of a softmax over image positions.

    Shapes: (B, C, h, w) -> (B, 2C), ordered (x_0, y_0, x_1, y_1, ...). x grows to the
    right, y downward (image rows). The temperature is learned.
    """

    def __init__(self, height: int, width: int, device: torch.device | str = "cpu") -> None:
        super().__init__()
        ys, xs = torch.meshgrid(
            torch.linspace(-1.0, 1.0, height, device=device),
            torch.linspace(-1.0, 1.0, width, device=device),
            indexing="ij",
        )
        self.register_buffer("grid", torch.stack([xs.flatten(), ys.flatten()], dim=-1))  # (h*w, 2)
        self.log_temperature = nn.Parameter(torch.zeros((), device=device))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        B, C = features.shape[:2]
        attention = torch.softmax(features.flatten(2) / self.log_temperature.exp(), dim=-1)  # (B, C, h*w)
        return (attention @ self.grid).reshape(B, 2 * C)  # (B, C, 2) -> (B, 2C)


class ConvEncoder(Encoder):
    """Encodes camera images with a small conv net (SiLU), a head and an MLP to the latent.

    Takes uint8 ``(B, C, H, W)`` images (the envs' ``pixels`` entry; frame stacks are just
    more channels) and normalises them inside: scale to [0, 1], then per-channel
    standardisation fitted by :meth:`adapt`. Floating images in [0, 1] are accepted too.

    Shapes: obs {key: (B, C, H, W)} or (B, C, H, W) -> s (B, D).
    """

    def __init__(
        self,
        config: ConvEncoderConfig,
        *,
        input_shapes: Mapping[str, Sequence[int]],
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.config = config
        self.key = image_key(input_shapes, config.key)
        self.image_shape = C, H, W = tuple(int(n) for n in input_shapes[self.key])
        self.latent_dim = config.latent_dim
        strides = config.strides or (2,) * len(config.channels)
        k = config.kernel_size
        convs: list[nn.Module] = []
        c_in, h, w = C, H, W
        for c_out, stride in zip(config.channels, strides, strict=True):
            convs += [nn.Conv2d(c_in, c_out, k, stride, padding=(k - 1) // 2, device=device), nn.SiLU()]
            c_in = c_out
            h, w = (h + 2 * ((k - 1) // 2) - k) // stride + 1, (w + 2 * ((k - 1) // 2) - k) // stride + 1
            if h < 1 or w < 1:
                raise ValueError(
                    f"the conv trunk {config.channels} with strides {strides} shrinks a {H}x{W} "
                    f"image to nothing; use fewer or smaller strides"
                )
        # channels-last (NHWC) is the layout oneDNN's CPU convolutions run fastest in
        # (measured here: a quarter less time per training step of the default trunk).
        self.trunk = nn.Sequential(*convs).to(memory_format=torch.channels_last)
        self.feature_shape = (c_in, h, w)
        if config.head == "spatial_softmax":
            self.head: nn.Module = SpatialSoftmax(h, w, device=device)
            n_features = 2 * c_in
        else:
            self.head = nn.Flatten()
            n_features = c_in * h * w
        mlp = mlp_layers(n_features, config.hidden_dim, config.latent_dim, config.layers, device)
        if config.normalize_output:
            mlp.append(nn.LayerNorm(config.latent_dim, elementwise_affine=False, device=device))
        self.mlp = nn.Sequential(*mlp)
        self.register_buffer("in_mean", torch.full((C, 1, 1), 0.5, device=device))
        self.register_buffer("in_std", torch.ones((C, 1, 1), device=device))

    @torch.no_grad()
    def adapt(self, obs: Observation) -> None:
        if not self.config.normalize_input:
            return
        x = image_batch(obs, self.key, self.image_shape)[:1024]  # a subsample is plenty
        x = to_unit_range(x, self.in_mean.dtype)  # (N, C, H, W)
        self.in_mean.copy_(x.mean(dim=(0, 2, 3))[:, None, None])
        # A channel that never varies (a blank frame slot) keeps a usable scale.
        self.in_std.copy_(x.std(dim=(0, 2, 3)).clamp_min(0.05)[:, None, None])

    def encode(self, obs: Observation) -> torch.Tensor:
        x = image_batch(obs, self.key, self.image_shape)
        x = (to_unit_range(x, self.in_mean.dtype) - self.in_mean) / self.in_std  # (B, C, H, W)
        x = x.contiguous(memory_format=torch.channels_last)
        return self.mlp(self.head(self.trunk(x)))  # (B, C', h, w) -> (B, F) -> (B, D)
