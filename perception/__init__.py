"""Perception: encoders from observations to latent states."""

from perception.base import Encoder, Observation
from perception.conv import ConvEncoder, ConvEncoderConfig, SpatialSoftmax
from perception.frozen import FrozenEncoder, FrozenEncoderConfig
from perception.image_state import ImageStateEncoder, ImageStateEncoderConfig
from perception.mlp import MLPEncoder, MLPEncoderConfig, flatten_observation, mlp_layers

__all__ = [
    "ConvEncoder",
    "ConvEncoderConfig",
    "Encoder",
    "FrozenEncoder",
    "FrozenEncoderConfig",
    "ImageStateEncoder",
    "ImageStateEncoderConfig",
    "MLPEncoder",
    "MLPEncoderConfig",
    "Observation",
    "SpatialSoftmax",
    "flatten_observation",
    "mlp_layers",
]
