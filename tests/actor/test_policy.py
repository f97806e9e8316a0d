"""Tests for actor.MLPPolicy: bounds, masked behaviour cloning, proposals."""

import torch

from jepa_agent.actor import MLPPolicy, MLPPolicyConfig, Policy
from jepa_agent.world_model import WorldModel

D = 2
LOW, HIGH = torch.tensor([-1.0, -0.5]), torch.tensor([0.5, 2.0])


def make(low=LOW, high=HIGH) -> MLPPolicy:
    torch.manual_seed(0)
    return MLPPolicy(MLPPolicyConfig(hidden_dim=16), latent_dim=D, action_low=low, action_high=high)


class Drift(WorldModel):
    """s' = s + 0.1 a: a known model for proposals."""

    def __init__(self) -> None:
        super().__init__()
        self.latent_dim, self.action_dim = D, 2

    def step(self, s, a, z=None):
        return s + 0.1 * a


def test_outputs_inside_bounds():
    """Actions stay inside asymmetric bounds even for huge inputs, and span more than a point."""
    pol = make()
    a = pol(1e3 * torch.randn(256, D), 1e3 * torch.randn(256, D))
    assert isinstance(pol, Policy) and a.shape == (256, 2)
    assert (a >= LOW).all() and (a <= HIGH).all()
    assert (a.amax(0) - a.amin(0) > 0.5).all()


def test_masked_bc_loss_known_answer():
    """The BC loss averages the squared error over masked steps only."""
    pol = make()
    gen = torch.Generator().manual_seed(0)
    states, goals = torch.randn(2, 3, D, generator=gen), torch.randn(2, D, generator=gen)
    actions = torch.randn(2, 3, 2, generator=gen)
    mask = torch.tensor([[True, False, True], [False, False, True]])
    with torch.no_grad():
        pred = pol(states, goals[:, None].expand_as(states))
    err = (pred - actions).pow(2).sum(-1)  # (B, T)
    expected = (err[0, 0] + err[0, 2] + err[1, 2]) / 3
    loss, info = pol.loss({"states": states, "goals": goals, "actions": actions, "mask": mask})
    torch.testing.assert_close(loss, expected)
    assert info["policy_loss"] == float(loss.detach())
    changed = actions.clone()
    changed[~mask] += 100.0  # unmasked (non-planner) actions must not matter
    loss2, _ = pol.loss({"states": states, "goals": goals, "actions": changed, "mask": mask})
    torch.testing.assert_close(loss2, loss)
    loss0, _ = pol.loss({"states": states, "goals": goals, "actions": actions, "mask": torch.zeros(2, 3, dtype=torch.bool)})
    assert float(loss0.detach()) == 0.0


def test_propose_shape_and_rollout():
    """propose returns (B, 1, H, A): the policy rolled through the world model."""
    pol = make()
    s0, g = torch.randn(3, D), torch.randn(3, D)
    props = pol.propose(Drift(), s0, g, 4)
    assert props.shape == (3, 1, 4, 2)
    torch.testing.assert_close(props[:, 0, 0], pol(s0, g))
    s1 = s0 + 0.1 * props[:, 0, 0]
    torch.testing.assert_close(props[:, 0, 1], pol(s1, g))


def test_bc_fits_linear_target():
    """A few hundred BC steps fit a = clip(g - s) to small error."""
    low, high = -torch.ones(2), torch.ones(2)
    pol = make(low, high)
    opt = torch.optim.Adam(pol.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)

    def batch(B=64):
        s = 0.5 * torch.randn(B, 1, D, generator=gen)
        g = 0.5 * torch.randn(B, D, generator=gen)
        a = (g[:, None] - s).clamp(-0.9, 0.9)
        return {"states": s, "goals": g, "actions": a, "mask": torch.ones(B, 1, dtype=torch.bool)}

    first = float(pol.loss(batch())[0].detach())
    for _ in range(300):
        loss, _ = pol.loss(batch())
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = float(pol.loss(batch(512))[0].detach())
    assert final < 0.02 and final < 0.05 * first
