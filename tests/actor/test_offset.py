"""Offset-free MPC (``ActorConfig.offset_gain``): the actor estimates the world model's
persistent error from what it observes and plans with it, so a biased model still reaches the goal."""

import pytest
import torch

from jepa_agent.actor import CEM, Actor, ActorConfig, CEMConfig
from jepa_agent.cost import Cost, LatentGoalDistance
from jepa_agent.world_model import WorldModel

DRIFT = torch.tensor([0.04, -0.03])  # what the model does not know: the plant moves this much every step
GOAL = torch.tensor([0.5, -0.3])


class PointMass(WorldModel):
    """The model: ``s' = s + 0.1 a``."""

    def __init__(self) -> None:
        super().__init__()
        self.latent_dim, self.action_dim = 2, 2

    def step(self, s, a, z=None):
        return s + 0.1 * a


def actor(gain: float) -> Actor:
    return Actor(
        ActorConfig(horizon=5, offset_gain=gain, policy_proposals=False, critic_proposals=False),
        planner=CEM(CEMConfig(samples=128, iterations=4, elites=16)),
        world_model=PointMass(),
        cost=Cost([(LatentGoalDistance("sq"), 1.0)], gamma=1.0),
        action_low=-torch.ones(2), action_high=torch.ones(2),
    )


def run(act: Actor, steps: int = 40, B: int = 2, noise: float = 0.0, tell: bool = True) -> torch.Tensor:
    """Closed loop on the drifting plant; returns the final states (B, 2)."""
    gen = torch.Generator().manual_seed(0)
    s = torch.zeros(B, 2)
    goal = GOAL.expand(B, 2)
    for _ in range(steps):
        a = act.act(s, goal, generator=gen)
        if noise:
            a = (a + noise * torch.randn(a.shape, generator=gen)).clamp(-1, 1)
            if tell:
                act.executed(a)
        s = s + 0.1 * a + DRIFT
    return s


def test_offset_removes_the_steady_error_of_a_biased_model():
    """Without the estimate the plant settles a drift's length off the goal (the planner puts
    its nominal prediction on the goal, the drift carries it off); with it, on the goal."""
    off = (run(actor(0.0)) - GOAL).norm(dim=-1)
    on_actor = actor(0.5)
    on = (run(on_actor) - GOAL).norm(dim=-1)
    assert (off > 0.6 * DRIFT.norm()).all(), off
    assert (on < 0.15 * DRIFT.norm()).all(), on
    assert torch.allclose(on_actor.offset, DRIFT.expand(2, 2), atol=2e-3)


def test_gain_one_takes_the_last_residual_exactly():
    """With gain 1 the estimate is the last observed minus predicted latent, and the plan's
    predicted states include it at every step."""
    act = actor(1.0)
    s0 = torch.zeros(1, 2)
    a0 = act.act(s0, GOAL[None])
    assert torch.equal(act.offset, torch.zeros(1, 2))  # nothing observed yet
    s1 = s0 + 0.1 * a0 + DRIFT
    a1 = act.act(s1, GOAL[None])
    assert torch.allclose(act.offset, DRIFT[None], atol=1e-6)
    plan = act.last_result
    expected = s1 + torch.cumsum(0.1 * plan.actions[0] + DRIFT, dim=0)  # (H, 2)
    assert torch.allclose(plan.states[0], expected, atol=1e-5)
    assert a1.shape == (1, 2)


def test_executed_actions_are_what_the_estimate_compares():
    """A perfect model executed with noise: told the executed actions, the estimate stays near 0;
    not told, it mistakes the noise for a disturbance."""
    global DRIFT
    saved, DRIFT = DRIFT, torch.zeros(2)
    try:
        told, untold = actor(0.5), actor(0.5)
        run(told, steps=15, noise=0.5)
        run(untold, steps=15, noise=0.5, tell=False)
    finally:
        DRIFT = saved
    assert told.offset.abs().max() < 1e-5
    assert untold.offset.abs().max() > 1e-3


def test_a_step_not_its_own_and_a_new_episode_reset_the_estimate():
    """``executed(None)`` (a random step) skips the next comparison; ``reset(rows)`` zeroes those rows."""
    act = actor(1.0)
    s = torch.zeros(2, 2)
    a = act.act(s, GOAL.expand(2, 2))
    s = s + 0.1 * a + DRIFT
    act.act(s, GOAL.expand(2, 2))
    before = act.offset.clone()
    act.executed(None)
    act.act(s + 1.0, GOAL.expand(2, 2))  # far from any prediction: would move the estimate
    assert torch.equal(act.offset, before)
    act.reset(torch.tensor([True, False]))
    assert torch.equal(act.offset[0], torch.zeros(2)) and torch.equal(act.offset[1], before[1])
    with pytest.raises(ValueError, match="actions must be"):
        act.executed(torch.zeros(3, 2))
