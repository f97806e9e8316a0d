"""Tests for the prior planner (actor.PriorPlanner): it follows one of the actor's proposals."""

import pytest
import torch

from jepa_agent.actor import Actor, ActorConfig, PlanProblem, PriorPlanner, PriorPlannerConfig
from jepa_agent.configurator import PLANNERS

from .test_actor_proposals import A, D, Drift, H


def sq_cost(states, actions, goal):
    return (states - goal).pow(2).sum(-1).sum(-1)


def problem(proposals):
    B = 2 if proposals is None else proposals.shape[0]
    return PlanProblem(s0=torch.zeros(B, D), goal=torch.ones(B, D), horizon=H, action_low=-torch.ones(A),
                       action_high=torch.ones(A), world_model=Drift(), cost=sq_cost, proposals=proposals)


def test_registered_as_prior():
    assert PLANNERS.resolve("prior") is PriorPlanner


@pytest.mark.parametrize(("index", "value"), [(0, -0.25), (1, 0.5), (-1, 0.5), (-2, -0.25)])
def test_follows_the_chosen_proposal_and_reports_its_cost(index, value):
    """The plan is proposal ``index`` unchanged; its cost is that sequence's cost under the model."""
    props = torch.stack([torch.full((2, H, A), -0.25), torch.full((2, H, A), 0.5)], dim=1)  # (B, 2, H, A)
    res = PriorPlanner(PriorPlannerConfig(proposal=index)).plan(problem(props))
    assert torch.equal(res.actions, torch.full((2, H, A), value))
    states = torch.cumsum(torch.full((2, H, D), 0.1 * value), dim=1)  # (B, H, D)
    assert torch.allclose(res.cost, sq_cost(states, None, torch.ones(2, 1, D)))
    assert res.iterations == 1 and res.states.shape == (2, H, D)


def test_without_proposals_says_what_it_needs():
    with pytest.raises(ValueError, match="needs a policy.*critic"):
        PriorPlanner(PriorPlannerConfig()).plan(problem(None))


def test_an_index_out_of_range_names_the_count():
    props = torch.zeros(2, 1, H, A)
    with pytest.raises(ValueError, match="proposal 1.*handed 1"):
        PriorPlanner(PriorPlannerConfig(proposal=1)).plan(problem(props))


def test_the_actor_acts_with_the_critics_greedy_action():
    """In an Actor with a mode-1 policy and a critic's actor, proposal -1 is the critic's: the
    action taken is the greedy actor's at the current state."""
    class Pol(torch.nn.Module):
        def forward(self, s, g):
            return torch.full((s.shape[0], A), -0.25)

    actor = Actor(ActorConfig(horizon=H), planner=PriorPlanner(PriorPlannerConfig()), world_model=Drift(),
                  cost=sq_cost, action_low=-torch.ones(A), action_high=torch.ones(A), policy=Pol(),
                  critic_policy=lambda s, g: torch.tanh(g - s))
    s = torch.tensor([[0.0, 0.5], [1.0, -1.0]])
    assert torch.allclose(actor.act(s, torch.zeros(2, D)), torch.tanh(-s))
