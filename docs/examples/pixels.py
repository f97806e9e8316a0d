"""Pixels and goal images: the env's camera observation, its goal image, a conv encoder.

    MUJOCO_GL=egl python docs/examples/pixels.py
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # headless rendering; osmesa is the software fallback

import gymnasium as gym  # noqa: E402

import jepa_agent.envs  # noqa: E402,F401
from jepa_agent import Agent  # noqa: E402
from jepa_agent.configurator import AgentConfig  # noqa: E402

# --8<-- [start:pixels]
env = gym.make("jepa_agent/Reach2D-v0", obs_type="pixels", image_size=64)
obs, info = env.reset(seed=0)
print({k: v.shape for k, v in obs.items()})           # pixels (3, 64, 64) uint8, achieved/desired goal
goal = info["goal_observation"]                         # the goal, rendered the same way
print("goal image", goal["pixels"].shape, env.unwrapped.goal_image().shape)

config = AgentConfig.model_validate({
    "encoder": {"name": "conv", "options": {"latent_dim": 16}},
    "task": {"planner": {"name": "cem", "options": {"samples": 32, "iterations": 2}}},
})
agent = Agent.from_config(config, env)
agent.reset(goal=goal)                                  # the goal image's latent is the target
print("action", agent.act(obs))
# --8<-- [end:pixels]

assert obs["pixels"].shape == (3, 64, 64) and goal["pixels"].shape == (3, 64, 64)
