"""A planner and a mode-1 policy of your own: ``Planner.optimize`` and ``Policy.forward``.

    python docs/examples/planner_and_policy.py
"""

import torch
from pydantic import Field

from jepa_agent.actor import Planner, PlannerConfig, PlanProblem, Policy
from jepa_agent.world_model import WorldModel


# --8<-- [start:planner]
class ConstantConfig(PlannerConfig):
    candidates: int = Field(64, ge=2)
    """Constant action sequences tried per decision."""


class Constant(Planner):
    """Tries N constant action sequences and keeps the cheapest: the simplest shooting."""

    config_class = ConstantConfig

    def optimize(self, problem, start):  # -> actions (B, H, A), cost (B,), iterations
        B, H = problem.s0.shape[0], problem.horizon
        low, high = problem.action_low, problem.action_high
        u = torch.rand(B, self.config.candidates, 1, low.shape[0], generator=problem.generator)
        candidates = (low + u * (high - low)).expand(-1, -1, H, -1)  # (B, N, H, A)
        costs = self.evaluate(problem, candidates)  # (B, N), over K latent samples
        best = costs.argmin(dim=1)  # (B,)
        rows = torch.arange(B)
        return candidates[rows, best], costs[rows, best], 1
# --8<-- [end:planner]


# --8<-- [start:policy]
class Proportional(Policy):
    """Mode 1: ``a = clip(gain * (g - s))``, no search (s and g share one space here)."""

    action_dim = 2

    def __init__(self, gain: float = 5.0) -> None:
        super().__init__()
        self.gain = gain

    def forward(self, s, g):  # (..., D), (..., D) -> (..., A)
        return (self.gain * (g - s)).clamp(-1.0, 1.0)
# --8<-- [end:policy]


class PointMass(WorldModel):
    latent_dim, action_dim = 2, 2

    def step(self, s, a, z=None):
        return s + 0.1 * a


def distance(states, actions, goal):  # a plain callable is a cost: (..., H, D) -> (...)
    return torch.linalg.norm(states - goal.unsqueeze(-2), dim=-1).sum(-1)


model, goal = PointMass(), torch.tensor([[1.0, -0.5]])
problem = PlanProblem(s0=torch.zeros(1, 2), goal=goal, horizon=8, action_low=-torch.ones(2),
                      action_high=torch.ones(2), world_model=model, cost=distance,
                      generator=torch.Generator().manual_seed(0))
plan = Constant(ConstantConfig()).plan(problem)
proposal = Proportional().propose(model, problem.s0, goal, horizon=8)  # (B, 1, H, A): seeds planners
print("planned", plan.actions[0, 0].tolist(), "policy", proposal[0, 0, 0].tolist())
assert float(plan.actions[0, 0] @ goal[0]) > 0 and float(proposal[0, 0, 0] @ goal[0]) > 0
