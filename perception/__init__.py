"""Perception: encoders from observations to latent states."""

from jepa_agent.perception.base import Encoder, Observation
from jepa_agent.perception.conv import ConvEncoder, ConvEncoderConfig, SpatialSoftmax
from jepa_agent.perception.frozen import FrozenEncoder, FrozenEncoderConfig
from jepa_agent.perception.goal import GoalEncoder, GoalEncoderConfig, MLPGoalEncoder
from jepa_agent.perception.image_state import ImageStateEncoder, ImageStateEncoderConfig
from jepa_agent.perception.mlp import (
    MLPEncoder,
    MLPEncoderConfig,
    default_keys,
    flatten_observation,
    mlp_layers,
)

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
    "default_keys",
    "flatten_observation",
    "mlp_layers",
]
