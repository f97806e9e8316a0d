"""training.exploration.cost: the collection planner's own cost fields, the task's cost left as it is."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides
from jepa_agent.cost import ActionEffort

from .test_run_loop import TINY


def weight_of(cost, kind: type) -> float:
    weights = [w for term, w in cost.terms if isinstance(term, kind)]
    assert len(weights) == 1, f"expected one {kind.__name__} term, got {len(weights)}"
    return weights[0]


def test_collection_plans_with_the_replaced_fields_and_acting_with_the_task_cost():
    """effort 0.5 while collecting, the task's 0.01 while acting: the two costs of one plan
    differ by exactly 0.49 times its discounted effort."""
    config = apply_overrides(AgentConfig(), {**TINY, "training.exploration.cost": {"effort_weight": 0.5}})
    agent = Agent.from_config(config, gym.make(config.task.env))
    assert agent.collect_actor is not agent.actor
    assert weight_of(agent.cost, ActionEffort) == pytest.approx(0.01)
    assert weight_of(agent.collect_actor.cost, ActionEffort) == pytest.approx(0.5)
    g = torch.Generator().manual_seed(0)
    H, D, A = 4, agent.world_model.latent_dim, agent.action_low.shape[0]
    states, actions, goal = torch.randn(3, H, D, generator=g), torch.randn(3, H, A, generator=g), torch.randn(3, D, generator=g)
    gamma = agent.cost.gamma ** torch.arange(H, dtype=torch.float32)
    effort = (ActionEffort()(states, actions, goal) * gamma).sum(-1)
    agent.cost.critic_weight = agent.collect_actor.cost.critic_weight = 0.0  # the critic is the same in both
    torch.testing.assert_close(agent.collect_actor.cost(states, actions, goal) - agent.cost(states, actions, goal),
                               0.49 * effort)


def test_an_empty_collect_cost_shares_the_task_actor():
    config = apply_overrides(AgentConfig(), {**TINY, "training.exploration.planner": None})
    agent = Agent.from_config(config, gym.make(config.task.env))
    assert agent.collect_actor is agent.actor


def test_the_collect_cost_comes_with_the_epistemic_term():
    config = apply_overrides(AgentConfig(), {**TINY, "world_model.ensemble_heads": 3, "training.exploration.epistemic_weight": -1.0,
                                             "training.exploration.cost": {"effort_weight": 0.2}})
    agent = Agent.from_config(config, gym.make(config.task.env))
    assert weight_of(agent.collect_actor.cost, ActionEffort) == pytest.approx(0.2)
    assert any(term is agent._epistemic for term, _ in agent.collect_actor.cost.terms)
    assert weight_of(agent.cost, ActionEffort) == pytest.approx(0.01)


def test_a_bad_collect_cost_names_what_was_expected():
    with pytest.raises(ValueError, match=r"fields of task.cost .*unknown \['effort'\]"):
        apply_overrides(AgentConfig(), {**TINY, "training.exploration.cost": {"effort": 0.5}})
    with pytest.raises(ValueError, match="effort_weight"):
        apply_overrides(AgentConfig(), {**TINY, "training.exploration.cost": {"effort_weight": -1.0}})


def test_the_collect_cost_survives_a_checkpoint(tmp_path):
    config = apply_overrides(AgentConfig(), {**TINY, "training.exploration.cost": {"effort_weight": 0.3}})
    agent = Agent.from_config(config, gym.make(config.task.env))
    agent.save(tmp_path / "a.pt")
    loaded = Agent.load(tmp_path / "a.pt")
    assert weight_of(loaded.collect_actor.cost, ActionEffort) == pytest.approx(0.3)
    assert weight_of(loaded.cost, ActionEffort) == pytest.approx(0.01)
