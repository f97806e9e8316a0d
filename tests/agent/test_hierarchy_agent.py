"""An agent with a two-level world model: it trains the coarse level, plans hierarchically, and saves both."""

import gymnasium as gym
import numpy as np
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides

from .test_run_loop import TINY

HIER = {
    **{k: v for k, v in TINY.items() if k not in ("actor.samples", "actor.iterations")},
    "coarse_world_model.name": "jepa", "coarse_world_model.k": 3, "coarse_world_model.train_steps": 2,
    "coarse_world_model.hidden_dim": 32, "task.planner.name": "hierarchical", "task.planner.macro_steps": 3,
    "task.planner.high": {"name": "cem", "options": {"samples": 32, "iterations": 2}},
    "task.planner.low": {"name": "cem", "options": {"samples": 16, "iterations": 1}},
}


def test_the_agent_trains_plans_and_saves_both_levels(tmp_path):
    config = apply_overrides(AgentConfig(), HIER)
    envs_ = [gym.make(config.task.env) for _ in range(2)]
    agent = Agent.from_config(config, envs_[0])
    history = agent.train(envs_, 400)
    losses = [u["coarse_pred_loss"] for u in history["updates"] if "coarse_pred_loss" in u]
    assert len(losses) == agent.updates > 20 and sum(losses[-10:]) < sum(losses[:10])
    result = agent.evaluate(gym.make(config.task.env), 2, seed=5)
    assert result["episodes"] == 2 and agent.actor.planner.last_high is not None
    subgoals = agent.memory.last_subgoals  # the imagined coarse latents reach short-term memory
    assert subgoals is not None and subgoals.shape == (1, 3, agent.world_model.latent_dim)
    path = agent.save(tmp_path / "h.pt")
    loaded = Agent.load(path)
    assert type(loaded.actor.planner).__name__ == "HierarchicalPlanner"
    for a, b in zip(agent.coarse_model.state_dict().values(), loaded.coarse_model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_without_a_coarse_level_nothing_changes():
    """The default config builds no coarse model and its updates report no coarse loss."""
    config = apply_overrides(AgentConfig(), TINY)
    agent = Agent.from_config(config, gym.make(config.task.env))
    assert agent.coarse_model is None and agent.learner.coarse_optim is None


def test_a_goal_observation_task_routes_through_landmark_observations():
    """task.route on Reach2D (goal observations): the subgoals before the goal are stored
    observations of the replay's landmarks, whose fingertips lie on the way the data went, and
    evaluation runs with them."""
    config = apply_overrides(AgentConfig(), {**TINY, "task.route": True, "task.route_spacing": 0.03,
                                             "task.route_every": 5})
    env = gym.make(config.task.env)
    agent = Agent.from_config(config, env)
    agent.train(env, 300)
    obs, info = env.reset(seed=3)
    agent.reset(goal=env.unwrapped.goal_observation())
    agent.act(obs)
    graph = agent.landmarks()
    levels = agent.configurator.goal_state()["obs"]
    assert graph is not None and set(graph.observations) == set(agent.replay.obs_spec) and len(levels) >= 3
    for level in levels[:-1]:  # each a landmark's own stored observation
        point = level["achieved_goal"][0].numpy()
        i = int(np.argmin(np.linalg.norm(graph.points - point, axis=1)))
        np.testing.assert_allclose(graph.observations["achieved_goal"][i], point, atol=1e-6)
    result = agent.evaluate(gym.make(config.task.env), 2, seed=5)
    assert result["episodes"] == 2
