"""Cost: hard-wired intrinsic terms plus a trainable critic."""

from cost.base import CostFn, CostTerm
from cost.cost import Cost, CostConfig
from cost.critic import Critic, CriticConfig, MLPCritic
from cost.terms import ActionEffort, ActionSmoothness, LatentGoalDistance

__all__ = [
    "ActionEffort",
    "ActionSmoothness",
    "Cost",
    "CostConfig",
    "CostFn",
    "CostTerm",
    "Critic",
    "CriticConfig",
    "LatentGoalDistance",
    "MLPCritic",
]
