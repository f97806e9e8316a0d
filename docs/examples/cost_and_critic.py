"""A cost term and a critic of your own: ``CostTerm.compute`` and ``Critic.forward_value``.

    python docs/examples/cost_and_critic.py
"""

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from jepa_agent.actor import MPPI, MPPIConfig, PlanProblem
from jepa_agent.cost import Cost, CostTerm, Critic, LatentGoalDistance
from jepa_agent.world_model import WorldModel


# --8<-- [start:term]
class KeepOut(CostTerm):
    """Cost of entering a disc in latent space (an obstacle): no parameters, differentiable."""

    def __init__(self, centre, radius: float) -> None:
        self.centre, self.radius = torch.as_tensor(centre), radius

    def compute(self, states, actions, goal):  # (..., H, D), (..., H, A), (..., D) -> (..., H)
        inside = self.radius - torch.linalg.norm(states - self.centre.to(states), dim=-1)
        return torch.relu(inside) * 100.0
# --8<-- [end:term]


# --8<-- [start:critic]
class DistanceToGoalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    gamma: float = Field(0.9, gt=0.0, lt=1.0)
    """Discount; must equal the cost's."""


class DistanceToGoal(Critic):
    """A critic whose value is the goal distance scaled by the horizon still to come, plus a
    learned correction (the base class trains it by TD(lambda) against a target copy)."""

    def __init__(self, config: DistanceToGoalConfig, *, latent_dim: int, device="cpu") -> None:
        super().__init__()
        self.config = config
        self.gamma, self.lam, self.target_tau = config.gamma, 0.8, 0.99
        self.correction = nn.Linear(2 * latent_dim, 1, device=device)

    def forward_value(self, s, g):  # (..., D), (..., D) -> (...)
        far = torch.linalg.norm(s - g, dim=-1) / (1.0 - self.gamma)
        return far + self.correction(torch.cat([s, g], dim=-1)).squeeze(-1)
# --8<-- [end:critic]


class PointMass(WorldModel):
    latent_dim, action_dim = 2, 2

    def step(self, s, a, z=None):
        return s + 0.1 * a


# --8<-- [start:compose]
critic = DistanceToGoal(DistanceToGoalConfig(), latent_dim=2)
cost = Cost([(LatentGoalDistance("l2"), 1.0), (KeepOut([0.5, 0.0], 0.2), 1.0)],
            critic=critic, critic_weight=1.0, gamma=0.9)
problem = PlanProblem(
    s0=torch.zeros(1, 2), goal=torch.tensor([[1.0, 0.0]]), horizon=12,
    action_low=-torch.ones(2), action_high=torch.ones(2), world_model=PointMass(),
    cost=cost, generator=torch.Generator().manual_seed(0),
)
plan = MPPI(MPPIConfig(samples=256, iterations=4)).plan(problem)
# --8<-- [end:compose]

path = plan.states[0]  # (H, D): the plan goes round the disc, not through it
print("closest approach to the obstacle", float(torch.linalg.norm(path - torch.tensor([0.5, 0.0]), dim=-1).min()))
assert torch.linalg.norm(path - torch.tensor([0.5, 0.0]), dim=-1).min() > 0.15
batch = {"states": torch.randn(4, 6, 2), "costs": torch.rand(4, 5), "goals": torch.randn(4, 2)}
loss, info = critic.loss(batch)  # TD(lambda) from the base class
loss.backward()
assert critic.correction.weight.grad is not None and "critic_loss" in info
