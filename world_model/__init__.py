"""World model: JEPA predictor in latent space with latent variables."""

from perception import mlp_layers
from world_model.base import WorldModel, check_shape
from world_model.coarse import ActionChunkEncoder, CoarseWorldModel, CoarseWorldModelConfig
from world_model.ensemble import LatentEnsemble
from world_model.jepa import (
    JEPAWorldModel,
    JEPAWorldModelConfig,
    effective_rank,
    embedding_diagnostics,
    vicreg_terms,
)
from world_model.simulator import SimulatorFn, SimulatorWorldModel

__all__ = [
    "ActionChunkEncoder",
    "CoarseWorldModel",
    "CoarseWorldModelConfig",
    "JEPAWorldModel",
    "JEPAWorldModelConfig",
    "LatentEnsemble",
    "SimulatorFn",
    "SimulatorWorldModel",
    "WorldModel",
    "check_shape",
    "effective_rank",
    "mlp_layers",
    "embedding_diagnostics",
    "vicreg_terms",
]
