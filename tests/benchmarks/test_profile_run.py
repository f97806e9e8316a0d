"""benchmarks.profile_run: a run's time split into planning, updates and simulation."""

import importlib
import json

import pytest

from tests.agent.test_run_loop import TINY


def test_the_parts_add_up_to_the_timed_steps(tmp_path):
    """40 timed env steps on 2 envs of a tiny Reach2D agent: one plan call per lockstep step, the
    updates the config asks for, parts that are positive and sum to the whole."""
    profile_run = importlib.import_module("benchmarks.profile_run")
    config = tmp_path / "tiny.yaml"
    from jepa_agent.configurator import AgentConfig
    from jepa_agent.configurator.loading import apply_overrides

    apply_overrides(AgentConfig(), {**TINY, "training.updates_per_step": 0.5}).save(config)
    out = tmp_path / "profile.json"
    r = profile_run.main(["--config", str(config), "--steps", "40", "--warmup", "10", "--num-envs", "2",
                          "--json", str(out)])
    assert r["env_steps"] == 40 and r["plan_calls"] == 20  # B = 2 envs share each batched plan
    assert r["updates"] == pytest.approx(20, abs=1)  # 0.5 per env step
    parts = r["ms_per_env_step_by_part"]
    assert all(parts[k] > 0 for k in ("plan", "update", "simulate")) and parts["other"] > -1e-6
    assert sum(parts.values()) == pytest.approx(r["ms_per_env_step"], rel=1e-9)
    assert json.loads(out.read_text())["plan_calls"] == 20


def test_bad_arguments_are_refused(capsys):
    profile_run = importlib.import_module("benchmarks.profile_run")
    with pytest.raises(SystemExit):
        profile_run.main(["--config", "reach2d", "--steps", "0"])
    assert "--steps must be positive, got 0" in capsys.readouterr().err
