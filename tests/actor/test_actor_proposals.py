"""Tests for actor.Actor's proposals: the mode-1 policy and the critic's greedy actor seed the planner."""

import pytest
import torch

from jepa_agent.actor import Actor, ActorConfig
from jepa_agent.actor.base import Planner, PlannerConfig, PlanProblem
from jepa_agent.world_model import WorldModel

D, A, H = 2, 2, 3


class Drift(WorldModel):
    """s' = s + 0.1 a."""

    def __init__(self) -> None:
        super().__init__()
        self.latent_dim, self.action_dim = D, A

    def step(self, s, a, z=None):
        return s + 0.1 * a


class Spy(Planner):
    """Returns the first proposal (or zeros) and remembers the problem."""

    def __init__(self) -> None:
        super().__init__(PlannerConfig(predict_states=False))
        self.problem: PlanProblem | None = None

    def optimize(self, problem, start):
        self.problem = problem
        B = problem.s0.shape[0]
        acts = problem.proposals[:, 0] if problem.proposals is not None else torch.zeros(B, H, A)
        return acts, torch.zeros(B), 1


def const(value: float):
    return lambda s, g: torch.full((s.shape[0], A), value)


def actor(spy: Planner, **kw) -> Actor:
    cfg = ActorConfig(horizon=H, **{k: v for k, v in kw.items() if k == "critic_proposals"})
    extra = {k: v for k, v in kw.items() if k != "critic_proposals"}
    return Actor(cfg, planner=spy, world_model=Drift(), cost=lambda s, a, g: s.sum((-1, -2)),
                 action_low=-torch.ones(A), action_high=torch.ones(A), **extra)


def test_critic_policy_rollout_is_a_proposal():
    """With a critic policy and no mode-1 policy, the planner gets its rollout as proposals (B, 1, H, A)."""
    spy = Spy()
    a = actor(spy, critic_policy=const(0.5)).act(torch.zeros(4, D), torch.zeros(4, D))
    assert spy.problem.proposals.shape == (4, 1, H, A)
    assert torch.equal(spy.problem.proposals, torch.full((4, 1, H, A), 0.5))
    assert torch.equal(a, torch.full((4, A), 0.5))


def test_both_sources_are_proposed_in_order():
    """Mode-1 policy first, then the critic's actor: (B, 2, H, A)."""
    spy = Spy()

    class Pol(torch.nn.Module):
        def forward(self, s, g):
            return torch.full((s.shape[0], A), -0.25)

    actor(spy, policy=Pol(), critic_policy=const(0.5)).act(torch.zeros(2, D), torch.zeros(2, D))
    props = spy.problem.proposals
    assert props.shape == (2, 2, H, A)
    assert torch.equal(props[:, 0], torch.full((2, H, A), -0.25)) and torch.equal(props[:, 1], torch.full((2, H, A), 0.5))


def test_critic_proposals_can_be_turned_off():
    """ActorConfig.critic_proposals=False: no proposals from the critic."""
    spy = Spy()
    actor(spy, critic_policy=const(0.5), critic_proposals=False).act(torch.zeros(2, D), torch.zeros(2, D))
    assert spy.problem.proposals is None


@pytest.mark.timing
def test_the_deadline_counts_from_when_the_decision_began():
    """``deadline_s`` covers the whole decision: the planner gets what is left of it after the
    time spent since ``started`` (none left: 0, so it runs its one iteration)."""
    import time

    spy = Spy()
    act = Actor(ActorConfig(horizon=H, deadline_s=0.5), planner=spy, world_model=Drift(),
                cost=lambda s, a, g: s.sum((-1, -2)), action_low=-torch.ones(A), action_high=torch.ones(A))
    act.act(torch.zeros(1, D), torch.zeros(1, D), started=time.perf_counter() - 0.2)
    assert spy.problem is not None and 0.25 < spy.problem.deadline_s <= 0.3
    act.act(torch.zeros(1, D), torch.zeros(1, D), started=time.perf_counter() - 1.0)
    assert spy.problem.deadline_s == 0.0
    act.act(torch.zeros(1, D), torch.zeros(1, D))  # no start given: the whole budget
    assert 0.45 < spy.problem.deadline_s <= 0.5
