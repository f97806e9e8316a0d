"""A world model of your own: subclass ``WorldModel``, write ``step``; every planner plans on it.

    python docs/examples/world_model.py
"""

import torch

from jepa_agent.actor import CEM, CEMConfig, PlanProblem
from jepa_agent.cost import Cost, LatentGoalDistance
from jepa_agent.world_model import WorldModel


# --8<-- [start:model]
class PointMass(WorldModel):
    """A point moved by velocity commands: ``s' = s + dt * a`` (D = A = 2, no latent variable)."""

    latent_dim, action_dim = 2, 2

    def __init__(self, dt: float = 0.1) -> None:
        super().__init__()
        self.dt = dt

    def step(self, s, a, z=None):  # (B, D), (B, A), ignored -> (B, D)
        return s + self.dt * a
# --8<-- [end:model]


# --8<-- [start:plan]
model = PointMass()
cost = Cost([(LatentGoalDistance("l2"), 1.0)], gamma=0.9)  # sum_t gamma^t |s_t - g|
problem = PlanProblem(
    s0=torch.zeros(1, 2), goal=torch.tensor([[1.0, 0.5]]), horizon=10,  # B=1, D=2, H=10
    action_low=-torch.ones(2), action_high=torch.ones(2),
    world_model=model, cost=cost, generator=torch.Generator().manual_seed(0),
)
plan = CEM(CEMConfig(samples=128, iterations=3)).plan(problem)
print("first action", plan.actions[0, 0].tolist(), "predicted end", plan.states[0, -1].tolist())
# --8<-- [end:plan]

# The rollout the base class loops from step() is what the planner scored.
assert plan.actions.shape == (1, 10, 2) and plan.states.shape == (1, 10, 2)
assert torch.linalg.norm(plan.states[0, -1] - problem.goal[0]) < torch.linalg.norm(problem.goal[0])
