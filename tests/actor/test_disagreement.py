"""The disagreement term: penalised for caution, rewarded for exploration."""

import pytest
import torch

from jepa_agent.actor import CEM, CEMConfig, PlanProblem
from jepa_agent.world_model import WorldModel


class RiskyDirection(WorldModel):
    """s' = s + 0.1 a + (0, 0.3 relu(a_0) z): moving +x makes the (cost-free) y uncertain."""

    latent_dim, action_dim, latent_var_dim = 2, 2, 1

    def step(self, s, a, z=None):
        if z is None:
            return s + 0.1 * a
        return s + 0.1 * a + torch.cat([torch.zeros_like(z), 0.3 * torch.relu(a[..., :1]) * z], dim=-1)


def reach_x(states, actions, goal):
    """Squared x-distance to the goal's x, summed over the horizon; y is free."""
    return (states[..., 0] - goal[..., 0]).pow(2).sum(-1)


def plan_actions(weight: float, seed: int = 0, goal_x: float = 0.4) -> torch.Tensor:
    planner = CEM(CEMConfig(samples=128, iterations=3, latent_samples=4, disagreement_weight=weight))
    problem = PlanProblem(
        s0=torch.zeros(1, 2), goal=torch.tensor([[goal_x, 0.0]]), horizon=4, action_low=-torch.ones(2),
        action_high=torch.ones(2), world_model=RiskyDirection(),
        cost=reach_x, generator=torch.Generator().manual_seed(seed),
    )
    return planner.plan(problem).actions[0]  # (H, A)


def test_caution_slows_the_uncertain_move():
    """Toward a goal at +x (the uncertain direction), weight 10 moves at most half as fast as weight 0."""
    for seed in range(3):
        neutral = float(plan_actions(0.0, seed)[0, 0])
        assert neutral > 0.8 and float(plan_actions(10.0, seed)[0, 0]) < 0.6 * neutral


def test_exploration_seeks_the_uncertain_move():
    """With the goal at the start, weight 0 plans no +x motion; weight -5 plans +x motion (mean relu(a_0) > 0.3)."""
    for seed in range(3):
        assert float(torch.relu(plan_actions(0.0, seed, goal_x=0.0)[:, 0]).mean()) < 0.1
        assert float(torch.relu(plan_actions(-5.0, seed, goal_x=0.0)[:, 0]).mean()) > 0.3


def test_disagreement_needs_several_latent_samples():
    """A disagreement weight with one latent sample is refused at config time, naming both fields."""
    with pytest.raises(ValueError, match="needs latent_samples >= 2"):
        CEMConfig(disagreement_weight=0.5, latent_samples=1)
