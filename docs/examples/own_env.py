"""Any Gymnasium env with a bounded Box action space, no wrapper: a reward task in three lines.

    python docs/examples/own_env.py
"""

import gymnasium as gym

from jepa_agent import Agent
from jepa_agent.configurator import AgentConfig

# --8<-- [start:reward]
env = gym.make("Pendulum-v1")                  # a flat Box observation, a reward, no goal
config = AgentConfig.model_validate({"task": {"env": "Pendulum-v1"},
                                     "training": {"random_steps": 200, "pretrain_updates": 10}})
agent = Agent.from_config(config, env)          # objective auto -> reward: a learned task cost
obs, info = env.reset(seed=0)
agent.reset()                                   # no goal: the task is the env's reward
print("action", agent.act(obs), "objective", agent.configurator.objective)
# --8<-- [end:reward]

# --8<-- [start:refused]
try:
    Agent.from_config(AgentConfig.model_validate({"task": {"env": "CartPole-v1"}}), gym.make("CartPole-v1"))
except ValueError as err:
    print("refused:", err)
# --8<-- [end:refused]

assert agent.configurator.objective == "reward"
