"""Tests for cost.ExpectileCritic: Q on the replayed actions, V as their expectile, an AWR actor."""

import pytest
import torch

from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig
from jepa_agent.cost import ExpectileCritic, ExpectileCriticConfig

D, A = 3, 2


def make(**cfg) -> ExpectileCritic:
    torch.manual_seed(0)
    cfg = {"hidden_dim": 32, "nonnegative": False, **cfg}
    return ExpectileCritic(ExpectileCriticConfig(**cfg), latent_dim=D, action_low=-torch.ones(A),
                           action_high=torch.ones(A))


def bandit(B=64, gen=None) -> dict:
    """One state; half the replayed actions are (+1, +1) and cost 0, half (-1, -1) and cost 1;
    every step ends its episode (so Q is the cost, with nothing bootstrapped)."""
    gen = gen or torch.Generator().manual_seed(0)
    good = torch.rand(B, 1, generator=gen) < 0.5  # (B, 1)
    sign = torch.where(good, 1.0, -1.0)  # (B, 1)
    return {
        "states": torch.ones(B, 2, D),
        "actions": sign[..., None].expand(B, 1, A).clone(),
        "costs": torch.where(good, 0.0, 1.0),
        "goals": torch.zeros(B, D),
        "terminals": torch.ones(B, 1, dtype=torch.bool),
    }


def fit(critic: ExpectileCritic, steps: int = 500) -> None:
    opt = torch.optim.Adam(critic.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        loss, _ = critic.loss(bandit(gen=gen))
        opt.zero_grad()
        loss.backward()
        opt.step()
        critic.update_target()


def test_shapes_bounds_and_the_value_is_its_own_network():
    """value broadcasts to (...) and is ``V``'s output, not the ensemble at the actor's action;
    q_values has a leading ensemble axis; the actor stays in bounds."""
    critic = make(ensemble=3)
    s, g = 50 * torch.randn(4, 5, D), torch.zeros(4, 5, D)
    with torch.no_grad():
        v = critic.value(s, torch.zeros(D))
        assert v.shape == (4, 5) and critic.q_values(s, torch.zeros(4, 5, A), g).shape == (3, 4, 5)
        torch.testing.assert_close(v, critic.v(torch.cat([s, g, s - g], -1)).squeeze(-1) / (1 - critic.gamma))
        assert not torch.allclose(v, critic.q_values(s, critic.greedy(s, g), g).mean(0))
    a = critic.greedy(s, g)
    assert a.shape == (4, 5, A) and (a.abs() <= 1).all() and critic.greedy_policy is not None


def test_terminal_q_targets_are_the_costs():
    """Past a termination nothing is bootstrapped: Q's loss is the regression onto the costs."""
    critic = make()
    b = bandit()
    pred = critic.q_values(b["states"][:, :-1], b["actions"], torch.zeros(64, 1, D))  # (E, B, T)
    _, info = critic.loss(b)
    expected = (pred - b["costs"]).pow(2).mean(dim=(1, 2)).sum() / 2
    assert info["critic_loss"] == pytest.approx(float(expected.detach()), rel=1e-5)


@pytest.mark.parametrize(("expectile", "low", "high"), [(0.5, 0.4, 0.6), (0.9, 0.0, 0.2)])
def test_the_value_is_the_expectile_of_the_replayed_actions(expectile, low, high):
    """Known answer: costs 0 and 1, half each. The 0.5-expectile is their mean (0.5); the
    0.9-expectile is 0.1 (0.9 * v = 0.1 * (1 - v)): the value of the better replayed action."""
    critic = make(expectile=expectile)
    fit(critic)
    with torch.no_grad():
        v = float(critic.value(torch.ones(D), torch.zeros(D)))
        q = critic.q_values(torch.ones(2, D), torch.tensor([[1.0, 1.0], [-1.0, -1.0]]), torch.zeros(2, D)).mean(0)
    assert low < v < high, v
    assert q[0] < 0.1 and q[1] > 0.9, q  # Q is each action's own cost


def test_the_actor_imitates_the_better_replayed_action():
    """Advantage weights pick the cheaper of the two replayed actions; with beta 0 the actor
    regresses to their mean (0)."""
    weighted, plain = make(awr_beta=5.0), make(awr_beta=0.0)
    fit(weighted), fit(plain)
    s, g = torch.ones(D), torch.zeros(D)
    assert (weighted.greedy(s, g) > 0.5).all(), weighted.greedy(s, g)
    assert plain.greedy(s, g).abs().max() < 0.3, plain.greedy(s, g)


def test_an_agent_trains_and_plans_with_it():
    """``critic: {name: expectile}`` on a reward task: the agent trains it and plans with its value."""
    import gymnasium as gym

    config = AgentConfig.load("hopper").with_overrides({
        "critic.name": "expectile", "encoder.latent_dim": 8, "encoder.hidden_dim": 32, "world_model.hidden_dim": 32,
        "critic.hidden_dim": 32, "policy.hidden_dim": 32, "task_cost.hidden_dim": 32, "training.batch_size": 16,
        "training.random_steps": 100, "training.pretrain_updates": 5, "actor.samples": 16, "actor.iterations": 1,
        "device": "cpu",
    })
    env = gym.make(config.task.env)
    agent = Agent.from_config(config, env)
    assert isinstance(agent.critic, ExpectileCritic)
    history = agent.train([gym.make(config.task.env) for _ in range(2)], 160)
    updates = [u for u in history["updates"] if "critic_v_loss" in u]
    assert updates and all(torch.isfinite(torch.tensor(u["critic_v_loss"])) for u in updates)
    obs, _ = env.reset(seed=0)
    a = agent.act(obs)
    assert a.shape == (3,) and (abs(a) <= 1).all()
