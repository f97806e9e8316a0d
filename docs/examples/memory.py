"""Memory: the replay buffer and the short-term memory, used and extended.

    python docs/examples/memory.py
"""

import numpy as np
import torch

from jepa_agent.memory import (
    ReplayBuffer,
    ReplayBufferConfig,
    ShortTermMemory,
    ShortTermMemoryConfig,
)


# --8<-- [start:replay]
class RecentReplay(ReplayBuffer):
    """Samples half of each batch from the newest episode (recency, for a changing world)."""

    def sample(self, batch_size, window, *, rng):
        old = super().sample(batch_size - batch_size // 2, window, rng=rng)
        newest = max(self.num_episodes - 1, 0)
        keep = ReplayBuffer(self.config)
        for i, episode in enumerate(self.episodes()):
            if i == newest:
                keep.add_episode(episode["obs"], episode["actions"], episode["costs"], episode["goal_obs"])
        new = keep.sample(batch_size // 2, window, rng=rng)
        return {k: _cat(old[k], new[k]) for k in old}


def _cat(a, b):
    if isinstance(a, dict):
        return {k: _cat(a[k], b[k]) for k in a}
    return np.concatenate([a, b]) if isinstance(a, np.ndarray) else a
# --8<-- [end:replay]


# --8<-- [start:use]
rng = np.random.default_rng(0)
replay = RecentReplay(ReplayBufferConfig(capacity=1_000))
for _ in range(3):  # three episodes of T=20 steps: obs (T+1, F), actions (T, A), costs (T,)
    obs = {"observation": rng.normal(size=(21, 4)).astype(np.float32)}
    replay.add_episode(obs, rng.uniform(-1, 1, size=(20, 2)), rng.random(20),
                       goal_obs={"observation": obs["observation"][-1]})
batch = replay.sample(8, 5, rng=rng)  # (B, W) windows within one episode each
print({k: v.shape for k, v in batch.items() if hasattr(v, "shape")})

memory = ShortTermMemory(ShortTermMemoryConfig(capacity=16), batch_size=1, latent_dim=3, action_dim=2)
memory.write(torch.zeros(1, 3))                                   # the first state: no action yet
memory.write(torch.ones(1, 3), torch.ones(1, 2), torch.zeros(1))  # (B, D), (B, A), (B,)
print({k: tuple(v.shape) for k, v in memory.recent().items()})
# --8<-- [end:use]

assert batch["actions"].shape == (8, 5, 2) and len(memory) == 2
