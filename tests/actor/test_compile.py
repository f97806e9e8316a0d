"""task.actor.compile: the compiled rollout and cost plan the same actions as the plain ones."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides

from ..agent.test_run_loop import TINY


def test_compiled_planning_equals_plain_planning():
    """The same seed and weights give the same actions with torch.compile on and off (within 1e-5)."""
    actions = []
    for compiled in (False, True):
        torch.manual_seed(0)
        config = apply_overrides(AgentConfig(), {**TINY, "task.actor.compile": compiled})
        env = gym.make(config.task.env)
        agent = Agent.from_config(config, env)
        obs, info = env.reset(seed=3)
        agent.reset(goal=info["goal_observation"])
        actions.append(np.stack([agent.act(obs) for _ in range(3)]))
        assert (agent.actor._plan_model is agent.world_model) is not compiled
    np.testing.assert_allclose(actions[0], actions[1], atol=1e-5)
