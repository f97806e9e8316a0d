"""Tests for the learned task cost (cost.MLPTaskCost) and how cost.Cost uses it."""

import pytest
import torch

from jepa_agent.cost import (
    ActionEffort,
    Cost,
    CostConfig,
    LearnedTaskCost,
    MLPTaskCost,
    TaskCostConfig,
)

D, A = 4, 2


def make() -> MLPTaskCost:
    torch.manual_seed(0)
    return MLPTaskCost(TaskCostConfig(hidden_dim=32), latent_dim=D, action_dim=A)


def test_shapes_broadcast_over_candidates_and_latent_samples():
    """As a cost term it broadcasts actions (B, N, 1, H, A) against states (B, N, K, H, D) to (B, N, K, H)."""
    term = LearnedTaskCost(make())
    out = term(torch.randn(2, 5, 3, 6, D), torch.randn(2, 5, 1, 6, A), torch.zeros(2, 1, 1, D))
    assert out.shape == (2, 5, 3, 6)


def test_regression_learns_a_known_cost():
    """Trained on c = |a|^2 + s_0 (known answer), the task cost's error falls below 5% of the cost's spread."""
    tc = make()
    opt = torch.optim.Adam(tc.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(600):
        s, a = torch.randn(64, 3, D, generator=gen), torch.rand(64, 3, A, generator=gen) * 2 - 1
        loss, info = tc.loss({"states": s, "actions": a, "costs": a.pow(2).sum(-1) + s[..., 0]})
        opt.zero_grad()
        loss.backward()
        opt.step()
    s, a = torch.randn(512, 1, D, generator=gen), torch.rand(512, 1, A, generator=gen) * 2 - 1
    target = a.pow(2).sum(-1) + s[..., 0]
    with torch.no_grad():
        rmse = float((tc(s, a) - target).pow(2).mean().sqrt())
    assert rmse < 0.05 * float(target.std()) + 0.05
    assert "task_cost_rmse" in info


def test_cost_includes_the_task_cost_only_for_reward_tasks():
    """Cost.from_config adds the learned term for reward (and both) and the goal energy for goal tasks;
    fixed() leaves the learned term out."""
    tc = make()
    cfg = CostConfig(reward_weight=2.0, effort_weight=0.5, smoothness_weight=0.0, goal_space="latent")
    reward = Cost.from_config(cfg, task_cost=tc, goal=False, reward=True)
    goal = Cost.from_config(cfg, task_cost=tc, goal=True, reward=False)
    assert reward.task_cost_weight == 2.0 and goal.task_cost_weight == 0.0
    s, a, g = torch.randn(3, 4, D), torch.randn(3, 4, A), torch.randn(3, D)
    effort = 0.5 * ActionEffort()(s, a, g)
    torch.testing.assert_close(reward.fixed(s, a, g), effort)
    torch.testing.assert_close(reward.intrinsic(s, a, g), effort + 2.0 * tc(s, a))
    assert not torch.allclose(goal.intrinsic(s, a, g), effort)  # the goal energy is in


def test_reward_task_without_task_cost_is_refused():
    """A reward task whose cost has no task cost module is a clear error."""
    try:
        Cost.from_config(CostConfig(), goal=False, reward=True)
    except ValueError as err:
        assert "needs a task cost" in str(err)
    else:
        raise AssertionError("expected a ValueError")


def test_termination_is_learned_from_terminal_flags():
    """The termination head learns P(end) = [s_0 > 1] from flags (known answer); inactive, it predicts nothing."""
    torch.manual_seed(0)
    tc = MLPTaskCost(TaskCostConfig(hidden_dim=32, termination=True), latent_dim=D, action_dim=A)
    opt = torch.optim.Adam(tc.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(400):
        s, a = torch.randn(64, 3, D, generator=gen), torch.zeros(64, 3, A)
        loss, info = tc.loss({"states": s, "actions": a, "costs": torch.zeros(64, 3), "terminals": s[..., 0] > 1})
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert "terminal_bce" in info
    s = torch.tensor([[[2.0, 0, 0, 0], [-1.0, 0, 0, 0]]])  # (1, H=2, D)
    p = tc.terminal_prob(s)
    assert p.shape == (1, 2) and p[0, 0] > 0.9 and p[0, 1] < 0.1
    tc.set_termination(False)
    assert tc.terminal_prob(s) is None
    _, info = tc.loss({"states": s, "actions": torch.zeros(1, 2, A), "costs": torch.zeros(1, 2),
                       "terminals": torch.ones(1, 2, dtype=torch.bool)})
    assert "terminal_bce" not in info


def test_termination_state_round_trips_and_none_starts_off():
    """termination=None starts inactive; set_termination survives a state-dict round trip; False builds no head."""
    tc = make()
    assert not tc.termination_active and tc.terminal_logit(torch.zeros(1, D)) is not None
    tc.set_termination(True)
    other = make()
    other.load_state_dict(tc.state_dict())
    assert other.termination_active
    off = MLPTaskCost(TaskCostConfig(hidden_dim=8, termination=False), latent_dim=D, action_dim=A)
    off.set_termination(True)
    assert off.terminal_prob(torch.zeros(1, 2, D)) is None


def test_cost_counts_nothing_past_a_predicted_end():
    """With P(end) = 1 at step 0, only step 0's cost counts (no later cost, no critic); with 0, all of it."""
    per_step = lambda s, a, g: torch.ones(s.shape[:-1])  # noqa: E731

    class Value(torch.nn.Module):
        gamma = 0.5

        def value(self, s, g):
            return torch.full(s.shape[:-1], 10.0)

    states, actions, goal = torch.zeros(2, 3, D), torch.zeros(2, 3, A), torch.zeros(2, D)
    ends = lambda s: torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # noqa: E731
    cost = Cost([(per_step, 1.0)], critic=Value(), gamma=0.5, termination=ends)
    torch.testing.assert_close(cost(states, actions, goal), torch.tensor([1.0, 1 + 0.5 + 0.25 + 0.125 * 10]))
    no_model = Cost([(per_step, 1.0)], critic=Value(), gamma=0.5, termination=lambda s: None)
    torch.testing.assert_close(no_model(states, actions, goal), torch.tensor([1.0 + 0.5 + 0.25 + 1.25] * 2))


def test_terminal_pos_weight_weighs_the_terminating_transitions():
    """Known answer: the cross-entropy with ``terminal_pos_weight`` w is torch's with
    ``pos_weight=w``; w > 1 raises the loss of a missed termination, and 1 leaves it unchanged."""
    s = torch.randn(2, 3, D, generator=torch.Generator().manual_seed(0))
    terminals = torch.tensor([[False, False, True], [False, False, False]])
    batch = {"states": s, "actions": torch.zeros(2, 3, A), "costs": torch.zeros(2, 3), "terminals": terminals}
    infos = {}
    for w in (1.0, 5.0):
        torch.manual_seed(0)
        tc = MLPTaskCost(TaskCostConfig(hidden_dim=16, termination=True, terminal_pos_weight=w), latent_dim=D,
                         action_dim=A)
        _, infos[w] = tc.loss(batch)
        with torch.no_grad():
            expected = torch.nn.functional.binary_cross_entropy_with_logits(
                tc.terminal_logit(s), terminals.float(), pos_weight=torch.tensor(w))
        assert infos[w]["terminal_bce"] == pytest.approx(float(expected), rel=1e-6)
    assert infos[5.0]["terminal_bce"] > infos[1.0]["terminal_bce"]
