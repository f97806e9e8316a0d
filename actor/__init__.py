"""Actor: planners (mode 2), the distilled policy (mode 1) and receding-horizon control."""

from actor.actor import Actor, ActorConfig
from actor.base import Planner, PlannerConfig, PlanProblem, PlanResult, Risk, keep_best
from actor.cem import CEM, CEMConfig
from actor.gradient import GradientPlanner, GradientPlannerConfig
from actor.hierarchical import HierarchicalConfig, HierarchicalPlanner
from actor.hybrid import CEMGrad, CEMGradConfig
from actor.icem import ICEM, ICEMConfig
from actor.mppi import MPPI, MPPIConfig
from actor.policy import MLPPolicy, MLPPolicyConfig, Policy
from actor.random_shooting import RandomShooting, RandomShootingConfig
from actor.sampling import SamplingPlanner, SamplingPlannerConfig

__all__ = [
    "CEM",
    "ICEM",
    "MPPI",
    "Actor",
    "ActorConfig",
    "CEMConfig",
    "CEMGrad",
    "CEMGradConfig",
    "GradientPlanner",
    "GradientPlannerConfig",
    "HierarchicalConfig",
    "HierarchicalPlanner",
    "ICEMConfig",
    "MLPPolicy",
    "MLPPolicyConfig",
    "MPPIConfig",
    "PlanProblem",
    "PlanResult",
    "Planner",
    "PlannerConfig",
    "Policy",
    "RandomShooting",
    "RandomShootingConfig",
    "Risk",
    "SamplingPlanner",
    "SamplingPlannerConfig",
    "keep_best",
]
