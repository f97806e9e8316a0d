"""The resume state of a training run: what ``Agent.save(path, resume=True)`` writes beside
the weights so that ``Agent.load(path, resume=True)`` continues as if it had never stopped.

Two parts, both plain data (``agent.checkpoint``'s codec): the RNG streams and counters,
inside the checkpoint (:func:`training_state`), and the running episodes (the envs'
simulator and RNG states, what was collected of each, the short-term memory, warm starts,
goals), in a ``.loop.safetensors`` file beside it (:func:`loop_state`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jepa_agent.agent.checkpoint import CheckpointError, read_file
from jepa_agent.agent.collection import Collection
from jepa_agent.agent.coverage import GoalCoverage
from jepa_agent.agent.environments import make_vector_env
from jepa_agent.agent.vector import VectorSteps
from jepa_agent.memory import ReplayBuffer, ShortTermMemory

__all__ = ["loop_state", "resume_training", "training_state"]

log = logging.getLogger(__name__)


def training_state(agent: Any) -> dict[str, Any]:
    """The RNG streams and counters a resumed run continues from."""
    return {
        "generator": agent.generator.get_state(),
        "global_rng": agent._global_rng,
        "numpy_rng": agent.rng.bit_generator.state,
        "device": agent.device.type,
        "pending_updates": agent._pending_updates,
        "faults": dict(agent.faults),
    }


def loop_state(agent: Any) -> dict[str, Any]:
    """The running episodes: envs, what was collected of each, memory, warm starts, goals."""
    col = agent._collection
    return {
        "envs": None if col is None else col.steps.states(),
        "collection": None if col is None else {k: getattr(col, k) for k in Collection.STATE},
        "episodes": agent._episodes,
        "last_obs": agent._last_obs,
        "last_action": agent._last_action,
        "last_from_planner": agent._last_from_planner,
        "goal_obs": agent._goal_obs,
        "goal_source": agent._goal_source,
        "goal_batch": agent._goal_batch,
        "memory": agent.memory.state(),
        "memory_batch": agent.memory.batch_size,
        "actor": agent.actor.state(),
        "collect_actor": None if agent.collect_actor is agent.actor else agent.collect_actor.state(),
        "goals": agent.configurator.goal_state(),
        "coverage": None if agent.coverage is None else agent.coverage.state(),
    }


def resume_training(agent: Any, state: dict[str, Any], path: Path) -> None:
    """Restore into ``agent`` what ``Agent.save`` wrote with ``resume=True`` to the checkpoint
    ``path`` whose ``state`` was read (the weights are loaded)."""

    entry, training = state.get("resume"), state.get("training")
    if entry is None or training is None:
        raise ValueError(
            f"{path} holds no resume state: it was saved without resume=True "
            "(jepa-agent train saves it; Agent.save(path, resume=True))"
        )
    files = {k: path.parent / v for k, v in entry.items()}
    for kind, file in files.items():
        if not file.is_file():
            raise ValueError(f"{path}: its {kind} file {file} is missing")
    if files["loop"].suffix == ".pt":
        raise CheckpointError(
            f"{path} was saved by jepa-agent 0.1, whose resume state {files['loop'].name} is a pickle (it can run "
            "code when opened) and is not read: load it without resume to act or train on from its weights"
        )
    agent.replay = ReplayBuffer.load(files["replay"])
    loop = read_file(files["loop"], kind="resume state", device=agent.device)
    if training["device"] == agent.device.type:
        agent.generator.set_state(training["generator"])
        agent._global_rng = training["global_rng"]
    else:
        log.warning("%s was saved on %s; the torch RNG streams start afresh on %s",
                    path, training["device"], agent.device.type)
    agent.rng.bit_generator.state = training["numpy_rng"]
    agent._pending_updates = training["pending_updates"]
    agent.faults = dict(training["faults"])
    agent._episodes, agent._last_obs, agent._last_action = loop["episodes"], loop["last_obs"], loop["last_action"]
    agent._last_from_planner, agent._goal_obs = loop["last_from_planner"], loop["goal_obs"]
    agent._goal_source, agent._goal_batch = loop["goal_source"], loop["goal_batch"]
    agent.memory = ShortTermMemory(agent.config.memory, batch_size=loop["memory_batch"],
                                  latent_dim=agent.world_model.latent_dim, action_dim=agent.action_dim,
                                  device=agent.device)
    agent.memory.load_state(loop["memory"])
    agent.actor.load_state(loop["actor"])
    if loop["collect_actor"] is not None:
        agent.collect_actor.load_state(loop["collect_actor"])
    agent.configurator.load_goal_state(loop["goals"])
    agent.coverage = None if loop["coverage"] is None else GoalCoverage.from_state(loop["coverage"])
    if loop["envs"] is not None:
        vec = make_vector_env(agent.config, len(loop["envs"]))
        vec.reset(seed=0)  # a vector env steps only after a reset; the states then replace it
        steps = VectorSteps(vec, vec)
        steps.set_states(loop["envs"])
        col = Collection(steps, loop["collection"]["obs"], agent.action_dim)
        for k, v in loop["collection"].items():
            setattr(col, k, v)
        agent._collection = col
