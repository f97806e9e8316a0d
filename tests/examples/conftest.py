"""Shared runner for the example scripts: a subprocess, as a user would run them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_example(script: str, out: Path, *args: str, timeout: float, keys: set[str], cwd: Path | None = None) -> dict:
    """Run ``examples/<script> --out OUT *args`` from the repo root (or from ``cwd``, a user's
    folder that also comes first on ``PYTHONPATH``); return its eval.json, failing with the
    script's output if it exits non-zero or the JSON lacks ``keys``."""
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    if cwd is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(cwd), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), "--out", str(out), *args],
        cwd=ROOT if cwd is None else cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    result = json.loads((out / "eval.json").read_text())
    assert keys <= set(result), f"eval.json lacks {keys - set(result)}"
    return result


@pytest.fixture()
def run_example():
    return _run_example
