"""World model: JEPA predictor in latent space with latent variables."""

from jepa_agent.perception import mlp_layers
from jepa_agent.world_model.base import WorldModel, check_shape
from jepa_agent.world_model.coarse import (
    ActionChunkEncoder,
    CoarseWorldModel,
    CoarseWorldModelConfig,
)
from jepa_agent.world_model.ensemble import LatentEnsemble
from jepa_agent.world_model.jepa import (
    JEPAWorldModel,
    JEPAWorldModelConfig,
    effective_rank,
    embedding_diagnostics,
    vicreg_terms,
)
from jepa_agent.world_model.simulator import SimulatorFn, SimulatorWorldModel

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
