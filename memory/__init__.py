"""Memory: this episode's latent trajectory (short-term) and episodes for training (replay).
Offline datasets in the Minari format are read and written by ``agent.dataset``."""

from memory.replay import ReplayBuffer, ReplayBufferConfig, to_torch
from memory.short_term import ShortTermMemory, ShortTermMemoryConfig

__all__ = [
    "ReplayBuffer",
    "ReplayBufferConfig",
    "ShortTermMemory",
    "ShortTermMemoryConfig",
    "to_torch",
]
