"""Tiny numpy envs for the agent's contract tests: no MuJoCo, known dynamics and rewards."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Line(gym.Env):
    """A point on a line driven by its velocity: ``x' = x + 0.1 a``; reward ``-|x - 0.5|``.

    Flat ``Box`` observation ``[x]``. ``terminate_beyond``: the episode terminates when
    ``|x|`` exceeds it (a failure). ``length``: a time limit (truncation), per env, so envs in
    one batch end at different steps. ``success_key`` puts ``|x - 0.5| < 0.05`` in that info key.
    ``scalar``: the observation is a 0-D ``Box`` (``x`` as a scalar) instead of ``[x]``.
    """

    metadata = {"render_modes": []}

    def __init__(
        self, length: int = 10, terminate_beyond: float | None = None, success_key: str | None = None,
        scalar: bool = False,
    ):
        self.scalar = scalar
        self.observation_space = spaces.Box(-np.inf, np.inf, () if scalar else (1,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.length, self.terminate_beyond, self.success_key = length, terminate_beyond, success_key
        self.x, self.t = 0.0, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.x, self.t = float(self.np_random.uniform(-0.2, 0.2)), 0
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        return np.array(self.x if self.scalar else [self.x], np.float32)

    def step(self, action):
        self.x += 0.1 * float(np.clip(action[0], -1, 1))
        self.t += 1
        reward = -abs(self.x - 0.5)
        terminated = self.terminate_beyond is not None and abs(self.x) > self.terminate_beyond
        truncated = self.t >= self.length
        info = {} if self.success_key is None else {self.success_key: float(abs(self.x - 0.5) < 0.05)}
        return self._obs(), reward, terminated, truncated, info


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
        """``options``: ``start`` and ``goal`` place the point and the goal (a maze's
        ``reset_cell`` / ``goal_cell``, in one dimension)."""
        super().reset(seed=seed)
        self.x, self.g, self.t = 0.0, float(self.np_random.uniform(-0.8, 0.8)), 0
        options = options or {}
        self.x = float(options.get("start", self.x))
        self.g = float(options.get("goal", self.g))
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


class DictPoint(gym.Env):
    """A point mass on a plane with a Dict observation and no ``observation`` entry; reward
    ``-|target - x|``. ``with_goal`` adds ``achieved_goal`` / ``desired_goal`` entries.

    ============  =======  ============================================
    entry         shape    meaning
    ============  =======  ============================================
    velocity      (2,)     v (m/s), set by the action: v = a
    position      (2,)     x (m); x' = x + 0.1 v
    to_target     (2,)     target - x (m)
    time          ()       t / length, a scalar Box
    ============  =======  ============================================

    The entries are declared out of name order (an ``OrderedDict`` keeps it), so an
    encoder that read them in the env's order would differ from one that sorts them.
    """

    metadata = {"render_modes": []}

    def __init__(self, length: int = 10, with_goal: bool = False):
        if not 1 <= length <= 40:
            raise ValueError(f"length must be in [1, 40] (the entries' bounds), got {length}")
        box = spaces.Box(-5.0, 5.0, (2,), np.float32)  # |x| <= 0.5 + 0.1 * length
        entries = [("velocity", box), ("position", box), ("to_target", box),
                   ("time", spaces.Box(0.0, 1.0, (), np.float32))]
        if with_goal:
            entries = [("desired_goal", box), *entries, ("achieved_goal", box)]
        self.observation_space = spaces.Dict(OrderedDict(entries))
        self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.length, self.with_goal = length, with_goal
        self.x = self.v = self.target = np.zeros(2, np.float32)
        self.t = 0

    def _obs(self) -> dict[str, np.ndarray]:
        obs = {"velocity": self.v.copy(), "position": self.x.copy(), "to_target": self.target - self.x,
               "time": np.array(self.t / self.length, np.float32)}
        if self.with_goal:
            obs.update(achieved_goal=self.x.copy(), desired_goal=self.target.copy())
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.x = self.np_random.uniform(-0.5, 0.5, 2).astype(np.float32)
        self.target = self.np_random.uniform(-0.5, 0.5, 2).astype(np.float32)
        self.v = np.zeros(2, np.float32)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.v = np.clip(np.asarray(action, np.float32), -1.0, 1.0)
        self.x = self.x + 0.1 * self.v
        self.t += 1
        reward = -float(np.linalg.norm(self.target - self.x))
        return self._obs(), reward, False, self.t >= self.length, {}
