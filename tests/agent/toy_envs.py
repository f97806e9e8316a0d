"""Tiny numpy envs for the agent's contract tests: no MuJoCo, known dynamics and rewards."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Line(gym.Env):
    """A point on a line driven by its velocity: ``x' = x + 0.1 a``; reward ``-|x - 0.5|``.

    Flat ``Box`` observation ``[x]``. ``terminate_beyond``: the episode terminates when
    ``|x|`` exceeds it (a failure). ``length``: a time limit (truncation), per env, so envs in
    one batch end at different steps. ``success_key`` puts ``|x - 0.5| < 0.05`` in that info key.
    """

    metadata = {"render_modes": []}

    def __init__(self, length: int = 10, terminate_beyond: float | None = None, success_key: str | None = None):
        self.observation_space = spaces.Box(-np.inf, np.inf, (1,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.length, self.terminate_beyond, self.success_key = length, terminate_beyond, success_key
        self.x, self.t = 0.0, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.x, self.t = float(self.np_random.uniform(-0.2, 0.2)), 0
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x += 0.1 * float(np.clip(action[0], -1, 1))
        self.t += 1
        reward = -abs(self.x - 0.5)
        terminated = self.terminate_beyond is not None and abs(self.x) > self.terminate_beyond
        truncated = self.t >= self.length
        info = {} if self.success_key is None else {self.success_key: float(abs(self.x - 0.5) < 0.05)}
        return np.array([self.x], np.float32), reward, terminated, truncated, info


class GoalLine(gym.Env):
    """``Line`` as a goal env without ``goal_observation()``: a dict observation with
    ``observation [x]``, ``achieved_goal [x]`` and ``desired_goal [g]``, success in
    ``info["success"]`` (as Gymnasium-Robotics' mazes report it)."""

    metadata = {"render_modes": []}

    def __init__(self, length: int = 20):
        box = spaces.Box(-np.inf, np.inf, (1,), np.float32)
        self.observation_space = spaces.Dict({"observation": box, "achieved_goal": box, "desired_goal": box})
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.length = length
        self.x = self.g = 0.0
        self.t = 0

    def _obs(self) -> dict[str, np.ndarray]:
        x = np.array([self.x], np.float32)
        return {"observation": x, "achieved_goal": x.copy(), "desired_goal": np.array([self.g], np.float32)}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.x, self.g, self.t = 0.0, float(self.np_random.uniform(-0.8, 0.8)), 0
        return self._obs(), {}

    def step(self, action):
        self.x += 0.1 * float(np.clip(action[0], -1, 1))
        self.t += 1
        success = abs(self.x - self.g) < 0.1
        return self._obs(), -abs(self.x - self.g), False, self.t >= self.length, {"success": float(success)}


class Image(gym.Env):
    """A uint8 ``(8, 8, 3)`` channels-last image observation of noise; ``length`` steps per episode."""

    metadata = {"render_modes": []}

    def __init__(self, length: int = 5):
        self.observation_space = spaces.Box(0, 255, (8, 8, 3), np.uint8)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.length, self.t = length, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return self.observation_space.sample(), 0.0, False, self.t >= self.length, {}
