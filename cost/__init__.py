"""Cost: hard-wired intrinsic terms plus a trainable critic."""

from jepa_agent.cost.base import CostFn, CostTerm
from jepa_agent.cost.cost import Cost, CostConfig
from jepa_agent.cost.critic import Critic, CriticConfig, MLPCritic
from jepa_agent.cost.distance_critic import DistanceCritic, DistanceCriticConfig
from jepa_agent.cost.expectile_critic import ExpectileCritic, ExpectileCriticConfig
from jepa_agent.cost.probe import MLPProbe, Probe, ProbeConfig
from jepa_agent.cost.q_critic import QCritic, QCriticConfig
from jepa_agent.cost.task_cost import LearnedTaskCost, MLPTaskCost, TaskCost, TaskCostConfig
from jepa_agent.cost.terms import (
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
    "ExpectileCritic",
    "ExpectileCriticConfig",
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
