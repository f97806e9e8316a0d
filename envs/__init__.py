"""MuJoCo reach environments for the jepa-agent.

Importing this package registers the Gymnasium ids

- ``jepa_agent/Reach2D-v0``: planar two-link arm, goal in the plane (`Reach2DEnv`)
- ``jepa_agent/Reach3D-v0``: four-joint spatial arm, goal in 3-D (`Reach3DEnv`)

both with ``max_episode_steps=50`` (1 s at 50 Hz control)::

    import gymnasium as gym
    import jepa_agent.envs

    env = gym.make("jepa_agent/Reach2D-v0", render_mode="rgb_array")

``obs_type="pixels"`` (or ``"pixels+state"``) makes the observation a uint8
``(3, 64, 64)`` camera image (``image_size``, ``frame_stack`` configurable) and
the goal observation a **goal image** of the goal configuration::

    env = gym.make("jepa_agent/Reach2D-v0", obs_type="pixels")
    obs, info = env.reset(seed=0)
    obs["pixels"], info["goal_observation"]["pixels"]   # (3, 64, 64) uint8 each

``control="torque"`` replaces the velocity servos with Reacher-style torque motors on
damped joints (the action is a joint torque; see `ReachEnv`)::

    env = gym.make("jepa_agent/Reach3D-v0", control="torque")

``OracleDynamics.from_env(env)`` gives an env's true dynamics as a batched
rollout function (numpy in, numpy out) for planning on the real simulator.

Rendering on a headless machine needs ``MUJOCO_GL=egl`` (or ``osmesa``, the
software fallback) in the environment before ``mujoco`` is first imported; this
package does not set it (examples/reach_pixels.py, the ``jepa-agent`` command and
the tests default to egl).
See `envs.pixels`.
"""

from __future__ import annotations

import gymnasium

from jepa_agent.envs.action_repeat import ActionRepeat
from jepa_agent.envs.oracle import OracleDynamics
from jepa_agent.envs.pixels import PixelRenderer
from jepa_agent.envs.reach import ReachEnv
from jepa_agent.envs.reach2d import Reach2DEnv
from jepa_agent.envs.reach3d import Reach3DEnv
from jepa_agent.envs.step_guard import StepGuard

__all__ = [
    "ActionRepeat",
    "OracleDynamics",
    "PixelRenderer",
    "ReachEnv",
    "Reach2DEnv",
    "Reach3DEnv",
    "StepGuard",
    "ENV_IDS",
    "MAX_EPISODE_STEPS",
]

MAX_EPISODE_STEPS = 50
"""Episode length of the registered ids, in control steps."""

ENV_IDS = {
    "jepa_agent/Reach2D-v0": "jepa_agent.envs.reach2d:Reach2DEnv",
    "jepa_agent/Reach3D-v0": "jepa_agent.envs.reach3d:Reach3DEnv",
}
"""Registered Gymnasium id -> entry point."""


def _register() -> None:
    # Guarded so that re-importing (or importlib.reload) neither warns nor fails.
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id, entry_point=entry_point, max_episode_steps=MAX_EPISODE_STEPS
            )


_register()
