"""Cost: hard-wired intrinsic terms plus a trainable critic."""

from cost.base import CostFn, CostTerm
from cost.cost import Cost, CostConfig
from cost.critic import Critic, CriticConfig, MLPCritic
from cost.distance_critic import DistanceCritic, DistanceCriticConfig
from cost.probe import MLPProbe, Probe, ProbeConfig
from cost.q_critic import QCritic, QCriticConfig
from cost.task_cost import LearnedTaskCost, MLPTaskCost, TaskCost, TaskCostConfig
from cost.terms import (
    ActionEffort,
    ActionSmoothness,
    EpistemicDisagreement,
    LatentGoalDistance,
    ProbeGoalDistance,
)

__all__ = [
    "ActionEffort",
    "ActionSmoothness",
    "EpistemicDisagreement",
    "Cost",
    "CostConfig",
    "CostFn",
    "CostTerm",
    "Critic",
    "CriticConfig",
    "DistanceCritic",
    "DistanceCriticConfig",
    "LatentGoalDistance",
    "LearnedTaskCost",
    "MLPCritic",
    "MLPProbe",
    "MLPTaskCost",
    "Probe",
    "ProbeConfig",
    "ProbeGoalDistance",
    "QCritic",
    "QCriticConfig",
    "TaskCost",
    "TaskCostConfig",
]
