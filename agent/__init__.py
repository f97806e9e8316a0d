"""Agent: composes perception, world model, cost, actor, memory and configurator."""

from jepa_agent.agent.agent import Agent, resolve_device
from jepa_agent.agent.collection import stack_obs

__all__ = ["Agent", "resolve_device", "stack_obs"]
