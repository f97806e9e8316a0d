"""Actor: planners (mode 2), the distilled policy (mode 1) and receding-horizon control."""

from actor.actor import Actor, ActorConfig
from actor.base import Planner, PlannerConfig, PlanProblem, PlanResult, Risk
from actor.cem import CEM, CEMConfig
from actor.mppi import MPPI, MPPIConfig
from actor.policy import MLPPolicy, MLPPolicyConfig, Policy
from actor.sampling import SamplingPlanner, SamplingPlannerConfig

__all__ = [
    "CEM",
    "MPPI",
    "Actor",
    "ActorConfig",
    "CEMConfig",
    "MLPPolicy",
    "MLPPolicyConfig",
    "MPPIConfig",
    "PlanProblem",
    "PlanResult",
    "Planner",
    "PlannerConfig",
    "Policy",
    "Risk",
    "SamplingPlanner",
    "SamplingPlannerConfig",
]
