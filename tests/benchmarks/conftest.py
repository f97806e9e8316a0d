"""The benchmark scripts are modules of the ``benchmarks`` package (``python -m benchmarks.NAME``):
each fixture imports one."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _load(name: str):
    return importlib.import_module(f"benchmarks.{name}")


@pytest.fixture(scope="session")
def risk_modes():
    return _load("diagnostics.risk_modes")


@pytest.fixture(scope="session")
def planner_speed():
    return _load("planner_speed")


@pytest.fixture(scope="session")
def sample_efficiency():
    return _load("sample_efficiency")


@pytest.fixture(scope="session")
def reliability():
    return _load("reliability")


@pytest.fixture(scope="session")
def bad_inputs():
    return _load("bad_inputs")


@pytest.fixture(scope="session")
def reach_reference():
    return _load("reach_reference")


@pytest.fixture(scope="session")
def plan_audit():
    return _load("diagnostics.plan_audit")


@pytest.fixture(scope="session")
def model_error():
    return _load("diagnostics.model_error")


@pytest.fixture(scope="session")
def latent_readout():
    return _load("diagnostics.latent_readout")


@pytest.fixture(scope="session")
def offline():
    return _load("offline")


@pytest.fixture(scope="session")
def throughput():
    return _load("throughput")


@pytest.fixture(scope="session")
def random_coverage():
    return _load("diagnostics.random_coverage")


@pytest.fixture(scope="session")
def epistemic_signal():
    return _load("diagnostics.epistemic_signal")


@pytest.fixture(scope="session")
def temporal_ablation():
    return _load("diagnostics.temporal_ablation")


@pytest.fixture(scope="session")
def reward_model_error():
    return _load("diagnostics.reward_model_error")


@pytest.fixture(scope="session")
def goal_energy():
    return _load("diagnostics.goal_energy")


@pytest.fixture(scope="session")
def maze_distance():
    return _load("diagnostics.maze_distance")


@pytest.fixture(scope="session")
def exploration():
    return _load("exploration")


@pytest.fixture(scope="session")
def hierarchy():
    return _load("hierarchy")


@pytest.fixture(scope="session")
def gpu_check():
    return _load("gpu_check")


@pytest.fixture(scope="session")
def common():
    return _load("common")


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def script():
    """``script(NAME, *args)``: run ``python -m benchmarks.NAME ARGS`` from the repository root,
    as a user does (headless MuJoCo, one torch thread); returns the finished process."""

    def run(name: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        env = {**os.environ, "MUJOCO_GL": "egl"}
        return subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *map(str, args)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)

    return run
