"""The shipped configs/: every file validates, and each matches the example it stands for."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from jepa_agent.agent.app.bench_config import BenchConfig
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import load_config, shipped_configs, validate_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (ROOT / "configs").iterdir() if p.suffix in (".yaml", ".yml", ".json"))
RECORDED = json.loads((ROOT / "tests" / "data" / "shipped_configs.json").read_text())
"""Every shipped config as it resolved (``model_dump(mode="json")``) when each file still spelled
out every key, before any named a ``base``."""


def test_configs_folder_is_not_empty():
    """configs/ ships the example configs (the parametrized test below would pass vacuously)."""
    names = {p.name for p in CONFIGS}
    assert {"reach2d.yaml", "reach3d.yaml", "custom_module.yaml", "bench_oracle.yaml", "bench_learned.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_config_validates(path, monkeypatch):
    """Every file in configs/ validates: bench_* as a BenchConfig, the others as an AgentConfig."""
    monkeypatch.syspath_prepend(str(ROOT))  # configs name examples.custom_module:... from the root
    if path.name.startswith("bench"):
        grid = load_config(path, model=BenchConfig)
        assert grid.planners and grid.budgets
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no shipped config uses a moved key
        config = load_config(path)
    assert isinstance(config, AgentConfig)
    for kind in ("encoder", "world_model", "critic", "policy", "probe"):
        spec = getattr(config, kind)
        if spec is not None:
            spec.resolve(kind)


def test_every_shipped_config_is_recorded():
    """The recorded resolutions cover exactly the shipped configs (a new config is recorded too)."""
    assert sorted(RECORDED) == sorted(shipped_configs()) == sorted(p.stem for p in CONFIGS)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_shipped_config_resolves_as_recorded(name, monkeypatch):
    """A shipped config, its bases merged, resolves to the very config it resolved to before it
    held only its differences (tests/data/shipped_configs.json; recorded before the exploration
    fields moved to training.exploration, so the record's flat keys are migrated on the way)."""
    monkeypatch.syspath_prepend(str(ROOT))
    model = BenchConfig if name.startswith("bench") else AgentConfig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        recorded = validate_config(RECORDED[name], model=model)
    assert load_config(name, model=model).model_dump(mode="json") == recorded.model_dump(mode="json")


@pytest.mark.parametrize(("name", "env"), [("reach2d.yaml", "jepa_agent/Reach2D-v0"), ("reach3d.yaml", "jepa_agent/Reach3D-v0")])
def test_reach_configs_are_the_example_defaults(name, env):
    """`train --config configs/reachXd.yaml` trains what `examples/reach.py --env ...` trains."""
    defaults = AgentConfig().with_overrides({"task.env": env, "seed": 0, "device": "auto"})
    assert load_config(ROOT / "configs" / name) == defaults


def test_reach2d_torque_config_is_the_measured_run():
    """configs/reach2d_torque.yaml is the example's defaults plus control=torque and random_steps=5000."""
    overrides = {
        "task.env": "jepa_agent/Reach2D-v0",
        "task.env_kwargs.control": "torque",
        "training.random_steps": 5000,
        "seed": 0,
        "device": "auto",
    }
    config = load_config(ROOT / "configs" / "reach2d_torque.yaml")
    assert config == AgentConfig().with_overrides(overrides)
    assert config.task.env_kwargs == {"control": "torque"}


def test_custom_module_config_names_user_classes(monkeypatch):
    """configs/custom_module.yaml selects the example's own planner and encoder by import path."""
    monkeypatch.syspath_prepend(str(ROOT))
    config = load_config(ROOT / "configs" / "custom_module.yaml")
    planner_cls, planner_cfg = config.task.planner.resolve("planner")
    encoder_cls, _ = config.encoder.resolve("encoder")
    assert (planner_cls.__name__, encoder_cls.__name__) == ("Annealed", "TanhEncoder")
    assert planner_cfg.shrink == 0.5



def test_pixel_config_sees_images():
    """configs/reach_pixels.yaml (examples/reach_pixels.py's agent) encodes 64x64 pixels with the conv encoder."""
    config = load_config(ROOT / "configs" / "reach_pixels.yaml")
    assert config.task.env_kwargs["obs_type"] == "pixels" and config.task.env_kwargs["image_size"] == 64
    assert config.encoder.resolve("encoder")[0].__name__ == "ConvEncoder"
