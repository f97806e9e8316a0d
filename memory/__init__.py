"""Memory: this episode's latent trajectory (short-term) and episodes for training (replay)."""

from memory.replay import ReplayBuffer, ReplayBufferConfig, to_torch
from memory.short_term import ShortTermMemory, ShortTermMemoryConfig

__all__ = [
    "ReplayBuffer",
    "ReplayBufferConfig",
    "ShortTermMemory",
    "ShortTermMemoryConfig",
    "to_torch",
]
