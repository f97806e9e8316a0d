"""Memory: this episode's latent trajectory (short-term), episodes for training (replay)
and offline datasets in the Minari format (dataset; needs ``minari[hdf5]`` when used)."""

from memory.dataset import fill_replay, load_minari, shard_episodes, write_minari
from memory.replay import ReplayBuffer, ReplayBufferConfig, to_torch
from memory.short_term import ShortTermMemory, ShortTermMemoryConfig

__all__ = [
    "ReplayBuffer",
    "ReplayBufferConfig",
    "ShortTermMemory",
    "ShortTermMemoryConfig",
    "fill_replay",
    "load_minari",
    "shard_episodes",
    "to_torch",
    "write_minari",
]
