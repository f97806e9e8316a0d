"""Offline pretraining: the world model, critic, policy and probe learn from a dataset in the
Minari format with no env step, on one process or data-parallel on several (torchrun).

This is how DINO-WM, PLDM and V-JEPA 2-AC are trained: offline, then planning zero-shot.
Each rank reads its shard of the dataset's episodes (episode ``i`` goes to rank
``i % world_size``) into its own replay buffer and samples its part of every global batch
from it (:class:`agent.distributed.ShardedBatches`); the input normalisation is fitted on
the dataset's first episodes, the same on every rank.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from jepa_agent.agent.agent import Agent
from jepa_agent.agent.distributed import ProcessGroup, ShardedBatches
from jepa_agent.memory import ReplayBuffer, ReplayBufferConfig

__all__ = ["ADAPT_STEPS", "OfflineData", "load_offline", "parameter_digest", "pretrain"]

log = logging.getLogger(__name__)

ADAPT_STEPS = 10_000
"""Steps of the dataset's first episodes the input normalisation is fitted on."""


class OfflineData:
    """A dataset loaded for pretraining: the shards this process holds (rank -> replay) and
    the replay the normalisation is fitted on."""

    def __init__(self, shards: dict[int, ReplayBuffer], adapt: ReplayBuffer, world_size: int, info: dict[str, Any]):
        self.shards, self.adapt, self.world_size, self.info = shards, adapt, world_size, info


def load_offline(
    id_or_path: str,
    *,
    world_size: int = 1,
    ranks: list[int] | None = None,
    capacity: int | None = None,
) -> OfflineData:
    """Load the shards ``ranks`` (default: all of them, as one process emulating
    ``world_size`` ranks; a rank passes its own) of a Minari dataset, given by local path or
    by id in the local Minari store. ``capacity``: replay size per shard (default: the
    whole shard)."""
    import minari

    from jepa_agent.agent.app.dataset import fill_replay, load_minari, shard_episodes

    dataset = load_minari(id_or_path)
    n = dataset.total_episodes
    if n < world_size:
        raise ValueError(f"{id_or_path} has {n} episodes, fewer than the {world_size} processes")
    ranks = list(range(world_size)) if ranks is None else ranks
    per_episode = max(1, dataset.total_steps // max(n, 1))
    shards = {}
    for r in ranks:
        indices = np.asarray(dataset.episode_indices)[shard_episodes(n, r, world_size)]
        part = minari.MinariDataset(dataset.storage, episode_indices=indices)
        size = capacity or max(part.total_steps, 1)
        shards[r] = ReplayBuffer(ReplayBufferConfig(capacity=size))
        fill_replay(shards[r], part)
    adapt = ReplayBuffer(ReplayBufferConfig(capacity=max(dataset.total_steps, 1)))
    fill_replay(adapt, dataset, max_episodes=max(1, -(-ADAPT_STEPS // per_episode)))
    info = {"dataset": str(id_or_path), "episodes": n, "steps": int(dataset.total_steps),
            "env_spec": getattr(dataset.spec, "env_spec", None) and dataset.spec.env_spec.id}
    return OfflineData(shards, adapt, world_size, info)


def pretrain(
    agent: Agent,
    data: OfflineData,
    updates: int,
    *,
    seed: int = 0,
    group: ProcessGroup | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    every: int = 100,
) -> dict[str, Any]:
    """``updates`` gradient steps of every learning module on ``data``, no env step.

    With ``group`` (this process is one rank of a data-parallel run: ``data`` holds its
    shard) the agent is distributed first (:meth:`Agent.distribute`) and each update averages
    the gradients of all ranks. The global batch is ``training.batch_size`` windows, split
    evenly over the ranks. The agent's replay becomes this process's (first) shard, so
    training can go on online. ``on_progress`` gets ``update, updates, loss, updates_per_s``
    every ``every`` updates. Returns ``updates, wall_s, updates_per_s`` and the update records.
    """
    tcfg = agent.config.training
    if group is not None:
        if sorted(data.shards) != [group.rank] or data.world_size != group.world_size:
            raise ValueError(
                f"rank {group.rank} of {group.world_size} must hold its own shard, got shards {sorted(data.shards)} "
                f"of {data.world_size}"
            )
        agent.distribute()
    batches = ShardedBatches(data.shards, data.world_size, tcfg.batch_size, tcfg.window, seed=seed)
    agent.replay = next(iter(data.shards.values()))
    agent.adapt(replay=data.adapt)
    if group is not None:
        agent.learner.sync_state()  # the normalisation too, bit for bit
    records: list[dict[str, float]] = []
    start = time.perf_counter()
    for i in range(updates):
        info = agent.update(batches.sample())
        if group is not None:  # the losses of the global batch: the mean over the ranks' parts
            keys = sorted(info)
            t = torch.tensor([info[k] for k in keys], dtype=torch.float64)
            torch.distributed.all_reduce(t)
            info = dict(zip(keys, (t / group.world_size).tolist(), strict=True))
        info["update"] = agent.updates
        records.append(info)
        if on_progress is not None and ((i + 1) % every == 0 or i + 1 == updates):
            wall = time.perf_counter() - start
            on_progress({"update": i + 1, "updates": updates, "loss": info.get("pred_loss", float("nan")),
                         "updates_per_s": (i + 1) / max(wall, 1e-9)})
    wall = time.perf_counter() - start
    digest = parameter_digest(agent)
    out = {"updates": updates, "wall_s": wall, "updates_per_s": updates / max(wall, 1e-9), "records": records,
           "parameter_digest": digest}
    if group is not None:  # every rank must have taken the same steps: compare their weights
        mine = torch.tensor([int(digest[:15], 16)], dtype=torch.int64)
        every = [torch.zeros_like(mine) for _ in range(group.world_size)]
        torch.distributed.all_gather(every, mine)
        out["ranks_identical"] = all(int(t.item()) == int(mine.item()) for t in every)
    return out


def parameter_digest(agent: Agent) -> str:
    """SHA-256 of every learning module's parameters and buffers, bit for bit."""
    h = hashlib.sha256()
    for module in (agent.world_model, agent.task_cost, agent.critic, agent.policy, agent.probe, agent.goal_encoder):
        if module is not None:
            for name, t in module.state_dict().items():
                h.update(name.encode())
                h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
