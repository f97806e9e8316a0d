"""examples/custom_module.py: a user's planner and encoder, chosen by import path, train and act."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from jepa_agent.agent.checkpoint import read_checkpoint

ROOT = Path(__file__).resolve().parents[2]


def test_custom_module_example_runs_on_a_tiny_budget(tmp_path):
    """The example trains and evaluates with its own Annealed planner and TanhEncoder, from another folder."""
    # The project as installed (`pip install -e .` puts the root on the path; so does this)
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl"), "PYTHONPATH": path}
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "custom_module.py"), "--out", str(out), "--steps", "200",
         "--episodes", "2", "--num-envs", "2", "--threads", "1", "--video", "0",
         "--training.random_steps=100", "--training.pretrain_updates=5", "--training.batch_size=16",
         "--actor.samples=16", "--actor.iterations=2", "--training.exploration.planner.samples=16"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"custom_module.py failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    result = json.loads((out / "eval.json").read_text())
    assert result["episodes"] == 2 and result["env_steps"] == 200 and result["updates"] > 0
    assert result["planner"] == "examples.custom_module:Annealed"
    state = read_checkpoint(out / "checkpoint.safetensors")
    assert state["config"]["encoder"]["name"] == "examples.custom_module:TanhEncoder"
    assert any(k.startswith("encoder.net.") for k in state["world_model"])  # the user's layers were trained
