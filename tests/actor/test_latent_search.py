"""Joint search over actions and latent variables (SamplingPlannerConfig.search_latent)."""

import pytest
import torch

from jepa_agent.actor import CEM, MPPI, CEMConfig, MPPIConfig, PlanProblem
from jepa_agent.cost import Cost, LatentGoalDistance
from jepa_agent.world_model import WorldModel


class LatentPush(WorldModel):
    """s' = s + 0.1 a + 0.2 z: the latent variable moves the state as much as the action."""

    latent_dim, action_dim, latent_var_dim = 2, 2, 2

    def step(self, s, a, z=None):
        return s + 0.1 * a + (0.0 if z is None else 0.2 * z)


def plan(planner, seed=0):
    problem = PlanProblem(
        s0=torch.zeros(1, 2), goal=torch.tensor([[1.0, -1.0]]), horizon=5,
        action_low=-torch.ones(2), action_high=torch.ones(2), world_model=LatentPush(),
        cost=Cost([(LatentGoalDistance("sq"), 1.0)], gamma=1.0), generator=torch.Generator().manual_seed(seed),
    )
    return planner.plan(problem)


@pytest.mark.parametrize("cls,cfg", [(CEM, CEMConfig), (MPPI, MPPIConfig)])
def test_latent_search_returns_actions_in_bounds(cls, cfg):
    """With search_latent the plan is still (B, H, A) actions inside the bounds."""
    r = plan(cls(cfg(samples=64, iterations=3, search_latent=True)))
    assert r.actions.shape == (1, 5, 2) and r.states.shape == (1, 5, 2)
    assert r.actions.abs().max() <= 1.0 and torch.isfinite(r.cost).all()


def test_free_latent_search_is_optimistic():
    """Without a prior (weight 0) the search exploits z: well below the mean cost over 8 prior samples."""
    base = dict(samples=128, iterations=4)
    for seed in range(3):
        free = float(plan(CEM(CEMConfig(**base, search_latent=True, latent_prior_weight=0.0)), seed).cost)
        averaged = float(plan(CEM(CEMConfig(**base, latent_samples=8)), seed).cost)
        assert free < 0.6 * averaged, (seed, free, averaged)


def test_prior_weight_trades_optimism_for_plausibility():
    """The reported plan cost (energy + prior) rises with the prior's weight: 0 < 1 < 100."""
    base = dict(samples=128, iterations=4, search_latent=True)
    for seed in range(3):
        costs = [float(plan(CEM(CEMConfig(**base, latent_prior_weight=w)), seed).cost) for w in (0.0, 1.0, 100.0)]
        assert costs[0] < costs[1] < costs[2], (seed, costs)
