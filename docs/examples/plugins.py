"""Plug-ins by import path: the configurator imports, checks and validates a class you name.

    python docs/examples/plugins.py          # from the repository root
"""

import os
import sys

# Import paths ("examples.custom_module:Annealed") resolve from the current folder, as they do
# for the jepa-agent command line.
sys.path.insert(0, os.getcwd())

import gymnasium as gym  # noqa: E402

import jepa_agent.envs  # noqa: E402,F401  (registers jepa_agent/Reach2D-v0)
from jepa_agent import Agent  # noqa: E402
from jepa_agent.configurator import PLANNERS, AgentConfig  # noqa: E402

# --8<-- [start:config]
config = AgentConfig.model_validate({
    "task": {"planner": {"name": "examples.custom_module:Annealed",
                         "options": {"samples": 32, "iterations": 2, "shrink": 0.3}}},
    "encoder": {"name": "examples.custom_module:TanhEncoder", "options": {"latent_dim": 8}},
})
env = gym.make("jepa_agent/Reach2D-v0")
agent = Agent.from_config(config, env)  # imports both, checks the ABCs, validates the options
obs, info = env.reset(seed=0)
agent.reset(goal=info["goal_observation"])
print("action", agent.act(obs), "from", type(agent.planner).__name__)
# --8<-- [end:config]

# --8<-- [start:errors]
for name in ("cme", "examples.custom_module:TanhEncoder"):
    try:
        PLANNERS.resolve(name)
    except ValueError as err:
        print("refused:", err)
# --8<-- [end:errors]

assert type(agent.planner).__name__ == "Annealed" and agent.planner.config.shrink == 0.3
