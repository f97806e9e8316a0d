"""The exploration options of the far-goal runs as a config, validated and built into an agent.

    python docs/examples/exploration.py

It is what ``python -m benchmarks.exploration --task reach3d_far --protocol free --achieve 0.5
--variants epistemic`` sets on top of the shipped ``reach3d_far`` config (its ``base``).
"""

import gymnasium as gym

import jepa_agent.envs  # noqa: F401  (registers jepa_agent/Reach3D-v0)
from jepa_agent import Agent
from jepa_agent.configurator import loads_config

# --8<-- [start:config]
CONFIG = """
base: reach3d_far               # the folded arm, far goals (a shipped config)
world_model: {name: jepa, options: {ensemble_heads: 5}}  # the disagreement the term seeks
training:
  exploration:
    epistemic_weight: -10         # the collection planner seeks the heads' disagreement ...
    epistemic_decay_steps: 30000  # ... less and less, none after 30k env steps
    practice_goals: 1.0           # every planned collection episode practises a goal of its own
    practice_frontier: sparse     # drawn at the least visited goal cells
    practice_achieve: 0.5         # half of them drawn evenly over the visited cells instead
    practice_explore: true        # reach the goal, then explore past it
"""
config = loads_config(CONFIG)
env = gym.make(config.task.env, **config.task.env_kwargs)
agent = Agent.from_config(config, env)
# --8<-- [end:config]

exploration = config.training.exploration
print("ensemble heads:", agent.world_model.ensemble is not None, "practice goals:", exploration.practice_goals)
assert agent.world_model.ensemble is not None and exploration.practice_frontier == "sparse"
