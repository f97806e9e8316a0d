"""The benchmark scripts are not a package: load them by path, once per session."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as importlib's recipe does: dataclasses (and pickling)
    # look a class's module up in sys.modules.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def risk_modes():
    return _load("risk_modes")


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
def reach_reference():
    return _load("reach_reference")


@pytest.fixture(scope="session")
def plan_audit():
    return _load("plan_audit")


@pytest.fixture(scope="session")
def model_error():
    return _load("model_error")


@pytest.fixture(scope="session")
def latent_readout():
    return _load("latent_readout")
