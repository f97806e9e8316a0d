"""Tests for the intrinsic cost terms and cost.Cost."""

import math

import pytest
import torch
from torch import nn

from jepa_agent.cost import ActionEffort, ActionSmoothness, Cost, CostConfig, LatentGoalDistance


def test_latent_goal_distance_known_answers():
    """l2, l1 (mean |.| over D) and sq give the hand-computed values per step."""
    states = torch.tensor([[[3.0, 4.0], [1.0, 1.0]]])  # (1, H=2, D=2)
    actions = torch.zeros(1, 2, 1)
    goal = torch.tensor([[0.0, 0.0]])
    torch.testing.assert_close(LatentGoalDistance("l2")(states, actions, goal), torch.tensor([[5.0, math.sqrt(2)]]))
    torch.testing.assert_close(LatentGoalDistance("sq")(states, actions, goal), torch.tensor([[25.0, 2.0]]))
    torch.testing.assert_close(LatentGoalDistance("l1")(states, actions, goal), torch.tensor([[7.0, 2.0]]))  # sum over D


def test_latent_goal_distance_is_zero_at_goal():
    """Every norm is (almost) zero when the states equal the goal."""
    g = torch.randn(3, 4)
    states = g[:, None, :].expand(3, 5, 4)
    for norm in ("l2", "l1", "sq"):
        assert LatentGoalDistance(norm)(states, torch.zeros(3, 5, 2), g).abs().max() < 1e-3


def test_goal_broadcasts_over_candidates_and_samples():
    """(B,N,K,H,D) states against a (B,1,1,D) goal give (B,N,K,H), each against its own goal."""
    B, N, K, H, D = 2, 3, 4, 5, 6
    states, goal = torch.randn(B, N, K, H, D), torch.randn(B, 1, 1, D)
    c = LatentGoalDistance("sq")(states, torch.zeros(B, N, K, H, 2), goal)
    assert c.shape == (B, N, K, H)
    torch.testing.assert_close(c[1, 2, 3, 4], (states[1, 2, 3, 4] - goal[1, 0, 0]).pow(2).sum())


def test_action_terms_known_answers():
    """ActionEffort is sum a^2; ActionSmoothness is sum (a_t - a_{t-1})^2 with 0 at t=0."""
    a = torch.tensor([[[1.0, 2.0], [1.0, 0.0], [-1.0, 0.0]]])  # (1, H=3, A=2)
    s, g = torch.zeros(1, 3, 4), torch.zeros(1, 4)
    torch.testing.assert_close(ActionEffort()(s, a, g), torch.tensor([[5.0, 1.0, 1.0]]))
    torch.testing.assert_close(ActionSmoothness()(s, a, g), torch.tensor([[0.0, 4.0, 4.0]]))


def test_invalid_norm_rejected():
    """An unknown norm raises ValueError naming it."""
    with pytest.raises(ValueError, match="'l3'"):
        LatentGoalDistance("l3")


def test_mismatched_horizons_rejected():
    """States and actions with different H raise ValueError quoting both shapes."""
    with pytest.raises(ValueError, match=r"\(1, 3, 4\).*\(1, 2, 2\)"):
        ActionEffort()(torch.zeros(1, 3, 4), torch.zeros(1, 2, 2), torch.zeros(1, 4))


def test_intrinsic_terms_have_no_trainable_parameters():
    """Intrinsic terms are not modules and hold no tensors requiring grad."""
    for term in (LatentGoalDistance("l2"), ActionEffort(), ActionSmoothness()):
        assert not isinstance(term, nn.Module)
        assert not any(isinstance(v, torch.Tensor) and v.requires_grad for v in vars(term).values())


def test_cost_discounting_known_answer():
    """Cost = sum_t gamma^t sum_i w_i c_i: a plain callable term is accepted and discounted."""
    per_step = torch.tensor([[1.0, 2.0, 4.0]])  # (1, H=3)

    def term(states, actions, goal):
        return per_step.expand(states.shape[:-1])

    cost = Cost([(term, 2.0)], gamma=0.5)
    total = cost(torch.zeros(1, 3, 2), torch.zeros(1, 3, 1), torch.zeros(1, 2))
    torch.testing.assert_close(total, torch.tensor([2.0 * (1 + 0.5 * 2 + 0.25 * 4)]))


def test_cost_sums_weighted_terms():
    """intrinsic() is the weighted sum of the terms step by step."""
    s, a, g = torch.randn(2, 3, 4), torch.randn(2, 3, 2), torch.randn(2, 4)
    cost = Cost([(LatentGoalDistance("sq"), 0.3), (ActionEffort(), 2.0)], gamma=1.0)
    expected = 0.3 * LatentGoalDistance("sq")(s, a, g) + 2.0 * ActionEffort()(s, a, g)
    torch.testing.assert_close(cost.intrinsic(s, a, g), expected)
    torch.testing.assert_close(cost(s, a, g), expected.sum(-1))


class LinearValue:
    """A stand-in critic: V(s, g) = sum(s) + 10 (no training, known values)."""

    def value(self, s, g):
        s, g = torch.broadcast_tensors(s, g)
        return s.sum(-1) + 10.0


def test_critic_added_at_horizon():
    """The critic adds critic_weight * gamma^H * V(s_H, g) to the discounted sum."""
    H, gamma, w = 3, 0.8, 0.5
    s = torch.randn(2, 5, H, 4)
    a = torch.zeros(2, 5, H, 2)
    g = torch.zeros(2, 1, 4)
    base = Cost([(ActionEffort(), 1.0)], gamma=gamma)
    with_critic = Cost([(ActionEffort(), 1.0)], critic=LinearValue(), critic_weight=w, gamma=gamma)
    diff = with_critic(s, a, g) - base(s, a, g)
    torch.testing.assert_close(diff, w * gamma**H * (s[..., -1, :].sum(-1) + 10.0))
    zero_weight = Cost([(ActionEffort(), 1.0)], critic=LinearValue(), critic_weight=0.0, gamma=gamma)
    torch.testing.assert_close(zero_weight(s, a, g), base(s, a, g))


def test_cost_from_config_and_empty_terms():
    """from_config builds the configured terms; a Cost without terms is refused."""
    cost = Cost.from_config(CostConfig(goal_norm="l1", goal_space="latent", effort_weight=0.0, smoothness_weight=0.2,
                                       gamma=0.7))
    kinds = [type(t).__name__ for t, _ in cost.terms]
    assert kinds == ["LatentGoalDistance", "ActionSmoothness"] and cost.terms[0][0].norm == "l1"
    assert cost.gamma == 0.7
    with pytest.raises(ValueError):
        Cost([])


def test_goal_space_chooses_where_the_goal_energy_is_measured():
    """goal_space probe: the distance between the probe's readouts (env units, a known answer);
    latent: between the latents; auto, which the configurator decides, is refused where the goal
    energy enters; probe without a probe is refused."""
    probe = nn.Linear(3, 2, bias=False)
    with torch.no_grad():
        probe.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))  # reads (x, y), ignores z
    probe.requires_grad_(False)
    states = torch.tensor([[[3.0, 4.0, 100.0]]])  # (1, H=1, 3)
    goal, actions = torch.zeros(1, 3), torch.zeros(1, 1, 1)
    plain = dict(effort_weight=0.0, smoothness_weight=0.0, critic_weight=0.0)
    in_probe = Cost.from_config(CostConfig(goal_space="probe", goal_weight=2.0, **plain), probe=probe)
    assert [type(t).__name__ for t, _ in in_probe.terms] == ["ProbeGoalDistance"]
    assert in_probe.intrinsic(states, actions, goal).item() == pytest.approx(2.0 * 5.0)  # z does not count
    auto = CostConfig(**plain)
    with pytest.raises(ValueError, match="goal_space 'auto' is decided from the task by the configurator"):
        Cost.from_config(auto, probe=probe)
    assert Cost.from_config(auto.model_copy(update={"effort_weight": 1.0}), goal=False).terms  # no goal energy: no matter
    latent = Cost.from_config(CostConfig(goal_space="latent", **plain), probe=probe)
    assert latent.intrinsic(states, actions, goal).item() == pytest.approx(math.sqrt(9 + 16 + 100**2), rel=1e-5)
    with pytest.raises(ValueError, match="goal_space 'probe' needs a probe"):
        Cost.from_config(CostConfig(goal_space="probe"))
