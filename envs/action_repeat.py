"""Repeat each action for a fixed number of env steps (DeepMind Control papers use 2)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

__all__ = ["ActionRepeat"]


class ActionRepeat(gym.Wrapper):
    """``ActionRepeat(env, 2)`` applies each action twice and sums the rewards; a step that
    ends the episode stops the repeat. ``info["env_steps"]`` says how many env steps the
    agent's step took (what the agent counts its ``env_steps`` in)."""

    def __init__(self, env: gym.Env, repeat: int) -> None:
        if not isinstance(repeat, int) or repeat < 1:
            raise ValueError(f"repeat must be a positive int, got {repeat!r}")
        super().__init__(env)
        self.repeat = repeat

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        total, n = 0.0, 0
        while True:
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            n += 1
            if terminated or truncated or n == self.repeat:
                break
        return obs, total, bool(terminated), bool(truncated), {**info, "env_steps": n}
