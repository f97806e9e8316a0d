"""A tiny maze agent for the diagnostics that read a checkpoint of a goal env without a goal observation."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def maze_checkpoint(common, tmp_path_factory):
    """A tiny PointMaze_UMaze agent (configs/pointmaze.yaml, 20-step episodes) trained 200 env steps, saved."""
    pytest.importorskip("gymnasium_robotics")
    small = {k: v for k, v in common.TINY.items() if k != "training.random_steps"}
    config = common.task_config("configs/pointmaze.yaml", over={
        **small, "goal_encoder.hidden_dim": 32, "task.env_kwargs": {"max_episode_steps": 20},
        "training.random_steps": 100})
    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_env

    agent = Agent.from_config(config, make_env(config))
    agent.train([make_env(config) for _ in range(2)], 200)
    return agent.save(tmp_path_factory.mktemp("maze") / "agent.pt")
