"""Memory: this episode's latent trajectory (short-term), episodes for training (replay), and
a map of where they went (landmarks).
Offline datasets in the Minari format are read and written by ``agent.app.dataset``."""

from jepa_agent.memory.files import atomic_write, atomic_write_text
from jepa_agent.memory.landmarks import LandmarkGraph
from jepa_agent.memory.replay import ReplayBuffer, ReplayBufferConfig, to_torch
from jepa_agent.memory.short_term import ShortTermMemory, ShortTermMemoryConfig

__all__ = [
    "atomic_write",
    "atomic_write_text",
    "LandmarkGraph",
    "ReplayBuffer",
    "ReplayBufferConfig",
    "ShortTermMemory",
    "ShortTermMemoryConfig",
    "to_torch",
]
