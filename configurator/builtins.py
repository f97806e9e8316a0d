"""The registries of built-in modules, by kind."""

from __future__ import annotations

from jepa_agent.actor import (
    CEM,
    ICEM,
    MPPI,
    CEMGrad,
    GradientPlanner,
    HierarchicalPlanner,
    MLPPolicy,
    Planner,
    Policy,
    PriorPlanner,
    RandomShooting,
)
from jepa_agent.configurator.registry import Registry
from jepa_agent.cost import (
    Critic,
    DistanceCritic,
    ExpectileCritic,
    MLPCritic,
    MLPProbe,
    MLPTaskCost,
    Probe,
    QCritic,
    TaskCost,
)
from jepa_agent.perception import (
    ConvEncoder,
    Encoder,
    FrozenEncoder,
    GoalEncoder,
    ImageStateEncoder,
    MLPEncoder,
    MLPGoalEncoder,
)
from jepa_agent.world_model import CoarseWorldModel, JEPAWorldModel, WorldModel

ENCODERS: Registry[Encoder] = Registry("encoder", Encoder)
ENCODERS.register("mlp", MLPEncoder)
ENCODERS.register("conv", ConvEncoder)
ENCODERS.register("conv_state", ImageStateEncoder)
ENCODERS.register("frozen", FrozenEncoder)

WORLD_MODELS: Registry[WorldModel] = Registry("world model", WorldModel)
WORLD_MODELS.register("jepa", JEPAWorldModel)

COARSE_WORLD_MODELS: Registry[WorldModel] = Registry("coarse world model", WorldModel)
COARSE_WORLD_MODELS.register("jepa", CoarseWorldModel)

CRITICS: Registry[Critic] = Registry("critic", Critic)
CRITICS.register("mlp", MLPCritic)
CRITICS.register("q", QCritic)
CRITICS.register("distance", DistanceCritic)
CRITICS.register("expectile", ExpectileCritic)

PROBES: Registry[Probe] = Registry("probe", Probe)
PROBES.register("mlp", MLPProbe)

TASK_COSTS: Registry[TaskCost] = Registry("task cost", TaskCost)
TASK_COSTS.register("mlp", MLPTaskCost)

GOAL_ENCODERS: Registry[GoalEncoder] = Registry("goal encoder", GoalEncoder)
GOAL_ENCODERS.register("mlp", MLPGoalEncoder)

POLICIES: Registry[Policy] = Registry("policy", Policy)
POLICIES.register("mlp", MLPPolicy)

PLANNERS: Registry[Planner] = Registry("planner", Planner)
PLANNERS.register("cem", CEM)
PLANNERS.register("mppi", MPPI)
PLANNERS.register("icem", ICEM)
PLANNERS.register("grad", GradientPlanner)
PLANNERS.register("cem_grad", CEMGrad)
PLANNERS.register("random", RandomShooting)
PLANNERS.register("prior", PriorPlanner)
PLANNERS.register("hierarchical", HierarchicalPlanner)

REGISTRIES = {
    "encoder": ENCODERS,
    "world_model": WORLD_MODELS,
    "coarse_world_model": COARSE_WORLD_MODELS,
    "critic": CRITICS,
    "policy": POLICIES,
    "probe": PROBES,
    "task_cost": TASK_COSTS,
    "goal_encoder": GOAL_ENCODERS,
    "planner": PLANNERS,
}
