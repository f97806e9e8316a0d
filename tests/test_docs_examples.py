"""The guides' code runs: every docs/examples/*.py exits 0, from the repository root, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.py"))


def test_there_are_examples_for_every_module_kind():
    """The guide to your own modules has a runnable file for each kind it shows."""
    names = {p.stem for p in EXAMPLES}
    assert {"world_model", "cost_and_critic", "planner_and_policy", "memory", "plugins", "pixels", "exploration", "own_env"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_docs_example_runs(path):
    """The example runs to its end (its own asserts check what it shows)."""
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(path.relative_to(ROOT))], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
