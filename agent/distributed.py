"""Data-parallel training across processes: torch.distributed, as torchrun launches it.

``torchrun --nproc_per_node=P jepa-agent pretrain ...`` starts P processes with ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and a rendezvous in their environment; :func:`init_from_env`
joins the process group (gloo on CPU, NCCL on CUDA), :meth:`agent.Agent.distribute` wraps
every learning module in ``DistributedDataParallel`` (gradients averaged across ranks in the
backward pass), and each rank samples its part of the global batch from its own shard of
the data (:class:`ShardedBatches`). The world model's VICReg variance and covariance terms
are computed on the embeddings of the whole global batch (gathered with gradient, as
VICReg's own distributed training does), so P processes with batch B/P each take the same
step as one process with batch B.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from jepa_agent.memory import ReplayBuffer

__all__ = ["ProcessGroup", "ShardedBatches", "concat_batches", "init_from_env", "LossModule"]


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place in the default process group."""

    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that writes checkpoints and evaluates."""
        return self.rank == 0

    def barrier(self) -> None:
        torch.distributed.barrier()

    def close(self) -> None:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def init_from_env(device: torch.device, *, timeout_s: float = 600.0) -> ProcessGroup | None:
    """Join the process group torchrun describes in the environment (``WORLD_SIZE`` > 1):
    gloo for a CPU device, NCCL for CUDA (each process on ``cuda:LOCAL_RANK``). None when
    this process runs alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    return ProcessGroup(rank=rank, world_size=world, local_rank=local)


class LossModule(torch.nn.Module):
    """``modules`` and a loss function over them as one module whose ``forward`` is the loss:
    what ``DistributedDataParallel`` wraps, so calling it syncs the modules' gradients."""

    def __init__(self, loss: Callable[..., Any], *modules: torch.nn.Module | None) -> None:
        super().__init__()
        self.learners = torch.nn.ModuleList([m for m in modules if m is not None])
        self._loss = loss

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._loss(*args, **kwargs)


def concat_batches(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Replay batches (``ReplayBuffer.sample``) joined along the batch axis."""
    if len(parts) == 1:
        return dict(parts[0])
    out: dict[str, Any] = {}
    for key, value in parts[0].items():
        if isinstance(value, Mapping):
            out[key] = {k: np.concatenate([p[key][k] for p in parts]) for k in value}
        else:
            out[key] = np.concatenate([p[key] for p in parts])
    return out


class ShardedBatches:
    """A global batch of ``batch_size`` windows in ``world_size`` equal parts, part ``r``
    drawn from shard ``r``'s replay with its own random stream (``seed``, ``r``).

    A rank holds its own shard (``shards={rank: replay}``) and draws its part; one process
    holding every shard draws the whole global batch, the parts in rank order: the same
    windows the ranks draw between them, which is what makes a P-process run comparable
    with a one-process run.
    """

    def __init__(
        self, shards: Mapping[int, ReplayBuffer], world_size: int, batch_size: int, window: int, *, seed: int
    ) -> None:
        if batch_size % world_size:
            raise ValueError(f"batch_size {batch_size} must be a multiple of the {world_size} processes")
        bad = sorted(r for r in shards if not 0 <= r < world_size)
        if bad or not shards:
            raise ValueError(f"shards must be some of ranks 0..{world_size - 1}, got {sorted(shards)}")
        self.shards = dict(sorted(shards.items()))
        self.part, self.window = batch_size // world_size, window
        self.rngs = {r: np.random.default_rng([seed, r]) for r in self.shards}

    def sample(self) -> dict[str, Any]:
        """The windows of the shards held, concatenated in rank order."""
        return concat_batches(
            [replay.sample(self.part, self.window, rng=self.rngs[r]) for r, replay in self.shards.items()]
        )
