"""Perception: encoders from observations to latent states."""

from perception.base import Encoder, Observation
from perception.conv import ConvEncoder, ConvEncoderConfig, SpatialSoftmax
from perception.frozen import FrozenEncoder, FrozenEncoderConfig
from perception.goal import GoalEncoder, GoalEncoderConfig, MLPGoalEncoder
from perception.image_state import ImageStateEncoder, ImageStateEncoderConfig
from perception.mlp import MLPEncoder, MLPEncoderConfig, flatten_observation, mlp_layers

__all__ = [
    "ConvEncoder",
    "ConvEncoderConfig",
    "Encoder",
    "FrozenEncoder",
    "FrozenEncoderConfig",
    "GoalEncoder",
    "GoalEncoderConfig",
    "ImageStateEncoder",
    "ImageStateEncoderConfig",
    "MLPEncoder",
    "MLPEncoderConfig",
    "MLPGoalEncoder",
    "Observation",
    "SpatialSoftmax",
    "flatten_observation",
    "mlp_layers",
]
