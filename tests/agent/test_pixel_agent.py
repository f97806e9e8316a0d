"""The agent on pixel observations: uint8 images through replay, goal latents from goal images."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.actor import ActorConfig
from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig, ModuleSpec, TaskSpec, TrainingConfig


def pixel_config(obs_type: str = "pixels", encoder: str = "conv") -> AgentConfig:
    image = {"channels": [8, 8, 8], "hidden_dim": 32}
    options = image if encoder == "conv" else {"image": image}
    return AgentConfig(
        task=TaskSpec(
            env_kwargs={"obs_type": obs_type, "image_size": 32},
            planner=ModuleSpec(name="cem", options={"samples": 16, "iterations": 1, "elites": 4}),
            actor=ActorConfig(horizon=3),
        ),
        encoder=ModuleSpec(name=encoder, options=options),
        world_model=ModuleSpec(name="jepa", options={"hidden_dim": 32}),
        critic=ModuleSpec(name="mlp", options={"hidden_dim": 32}),
        policy=ModuleSpec(name="mlp", options={"hidden_dim": 32}),
        training=TrainingConfig(batch_size=8, window=2, random_steps=0, pretrain_updates=0),
        device="cpu",
    )


def run_episode(agent: Agent, env: gym.Env, seed: int) -> None:
    obs, info = env.reset(seed=seed)
    agent.reset(goal=info["goal_observation"])
    done = False
    while not done:
        obs, reward, terminated, truncated, info = env.step(agent.act(obs))
        done = terminated or truncated
        agent.observe(obs, reward, done)


@pytest.mark.parametrize(("obs_type", "encoder"), [("pixels", "conv"), ("pixels+state", "conv_state")])
def test_pixel_agent_acts_stores_uint8_and_learns(obs_type, encoder):
    """Acting on images works, replay keeps them as uint8, and updates change the conv trunk."""
    config = pixel_config(obs_type, encoder)
    env = gym.make(config.task.env, **config.task.env_kwargs)
    torch.manual_seed(0)
    agent = Agent.from_config(config, env)
    run_episode(agent, env, seed=0)
    shape, dtype = agent.replay.obs_spec["pixels"]
    assert shape == (3, 32, 32) and dtype == np.uint8
    trunk = agent.encoder.trunk if encoder == "conv" else agent.encoder.image.trunk
    before = trunk[0].weight.detach().clone()
    agent.adapt(64)
    for _ in range(3):
        info = agent.update()
    assert np.isfinite(info["pred_loss"])
    assert not torch.equal(before, trunk[0].weight)
    env.close()


def test_goal_latent_is_the_encoded_goal_image():
    """reset(goal=...) sets the goal latent to the target encoder's embedding of the goal image."""
    config = pixel_config()
    env = gym.make(config.task.env, **config.task.env_kwargs)
    agent = Agent.from_config(config, env)
    _, info = env.reset(seed=5)
    goal = info["goal_observation"]
    agent.reset(goal=goal)
    expected = agent.world_model.encode_target({"pixels": torch.as_tensor(goal["pixels"][None])})
    torch.testing.assert_close(agent.configurator.goal_latent(), expected)
    # A different goal image, a different goal latent.
    _, info = env.reset(seed=6)
    agent.reset(goal=info["goal_observation"])
    assert not torch.allclose(agent.configurator.goal_latent(), expected)
    env.close()
