"""Perception: encoders from observations to latent states."""

from perception.base import Encoder, Observation
from perception.mlp import MLPEncoder, MLPEncoderConfig, flatten_observation, mlp_layers

__all__ = ["Encoder", "MLPEncoder", "MLPEncoderConfig", "Observation", "flatten_observation", "mlp_layers"]
