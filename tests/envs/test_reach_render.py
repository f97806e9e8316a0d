"""Offscreen rendering of the reach environments.

MuJoCo picks its OpenGL backend once, when `mujoco` is first imported, from
MUJOCO_GL. Any earlier test module in the same pytest session may already have
imported mujoco without it, so setting it here would come too late. The
rendering checks therefore run in a fresh interpreter with MUJOCO_GL=egl
(unless the caller chose another backend); a missing GL makes the test fail,
not skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

RENDER_SCRIPT = r"""
import json
import warnings

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

from jepa_agent import envs

results = {}
for env_id in envs.ENV_IDS:
    env = gym.make(env_id, render_mode="rgb_array", width=64, height=64).unwrapped
    nq = env.action_space.shape[0]
    env.reset(seed=0)
    start = env.render()
    for _ in range(10):
        env.step(np.ones(nq, dtype=np.float32))
    moved = env.render()
    # Same arm pose, goal elsewhere: the marker must show in the image.
    state = env.get_physics_state()
    env.reset(options={"goal_qpos": env.home_qpos + 1.0})
    env.set_physics_state(state)
    other_goal = env.render()
    env.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(gym.make(env_id, render_mode="rgb_array").unwrapped)  # includes render
    results[env_id] = {
        "shape": list(start.shape),
        "dtype": str(start.dtype),
        "distinct_colours": int(len(np.unique(start.reshape(-1, 3), axis=0))),
        "pixels_changed_by_motion": int(np.any(moved != start, axis=-1).sum()),
        "pixels_changed_by_goal": int(np.any(other_goal != moved, axis=-1).sum()),
    }
print("RESULTS" + json.dumps(results))
"""


@pytest.fixture(scope="module")
def render_results() -> dict:
    env = dict(os.environ)
    env.setdefault("MUJOCO_GL", "egl")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", RENDER_SCRIPT],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"rendering failed (MUJOCO_GL={env['MUJOCO_GL']}):\n{proc.stderr}"
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULTS"))
    return json.loads(line.removeprefix("RESULTS"))


@pytest.mark.parametrize("env_id", ["jepa_agent/Reach2D-v0", "jepa_agent/Reach3D-v0"])
def test_rgb_array_render_is_a_changing_image(render_results, env_id):
    """render_mode='rgb_array' at 64x64 gives a non-constant (64,64,3) uint8 image that follows
    the arm and the goal marker, and check_env's render check passes."""
    result = render_results[env_id]
    assert result["shape"] == [64, 64, 3]
    assert result["dtype"] == "uint8"
    assert result["distinct_colours"] > 10
    assert result["pixels_changed_by_motion"] > 20
    assert result["pixels_changed_by_goal"] > 0
