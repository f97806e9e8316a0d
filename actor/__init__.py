"""Actor: planners (mode 2), the distilled policy (mode 1) and receding-horizon control."""

from jepa_agent.actor.actor import Actor, ActorConfig
from jepa_agent.actor.base import Planner, PlannerConfig, PlanProblem, PlanResult, Risk, keep_best
from jepa_agent.actor.cem import CEM, CEMConfig
from jepa_agent.actor.gradient import GradientPlanner, GradientPlannerConfig
from jepa_agent.actor.hierarchical import HierarchicalConfig, HierarchicalPlanner
from jepa_agent.actor.hybrid import CEMGrad, CEMGradConfig
from jepa_agent.actor.icem import ICEM, ICEMConfig
from jepa_agent.actor.mppi import MPPI, MPPIConfig
from jepa_agent.actor.policy import MLPPolicy, MLPPolicyConfig, Policy
from jepa_agent.actor.prior import PriorPlanner, PriorPlannerConfig
from jepa_agent.actor.random_shooting import RandomShooting, RandomShootingConfig
from jepa_agent.actor.sampling import SamplingPlanner, SamplingPlannerConfig

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
    "PriorPlanner",
    "PriorPlannerConfig",
    "RandomShooting",
    "RandomShootingConfig",
    "Risk",
    "SamplingPlanner",
    "SamplingPlannerConfig",
    "keep_best",
]
