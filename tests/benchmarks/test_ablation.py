"""benchmarks.ablation: rows read from run folders, each named by what its config changed."""

import importlib
import json

import pytest

from jepa_agent.agent.app.run import Run, RunOptions
from jepa_agent.configurator.loading import apply_overrides, load_config
from tests.agent.test_run_loop import TINY


@pytest.fixture(scope="module")
def ablation():
    return importlib.import_module("benchmarks.ablation")


def test_differences_name_every_changed_leaf(ablation):
    base = {"a": 1, "b": {"c": 2, "d": [1, 2]}, "seed": 0}
    changed = {"a": 1, "b": {"c": 3, "d": [1, 2, 3]}, "seed": 5}
    assert ablation.differences(changed, base) == ["b.c=3", "b.d=[1, 2, 3]"]
    assert ablation.differences(base, base) == []


def test_two_runs_one_changed(ablation, tmp_path):
    """Two tiny runs of the shipped reach2d config, one with a wider critic: the rows say base
    and the one change, with the runs' own evaluation."""
    base = apply_overrides(load_config("reach2d"), {k: v for k, v in TINY.items() if k != "critic.hidden_dim"})
    base_file = tmp_path / "base.yaml"
    base.save(base_file)
    folders = []
    for name, over in (("base", {}), ("wide", {"critic.hidden_dim": 48})):
        config = apply_overrides(base, over)
        run = Run(config, tmp_path / name, RunOptions(steps=120, num_envs=2, episodes=1, log=("csv",)))
        run.train()
        run.evaluate()
        run.close()
        folders.append(tmp_path / name)
    out = tmp_path / "ablation.json"
    result = ablation.main([*map(str, folders), "--base", str(base_file), "--tail", "100", "--json", str(out)])
    rows = result["runs"]
    assert [r["variant"] for r in rows] == ["base", "critic.options.hidden_dim=48"]
    for r, folder in zip(rows, folders, strict=True):
        evaluation = json.loads((folder / "eval.json").read_text())
        assert r["eval_mean_return"] == evaluation["mean_return"] and r["env_steps"] == 120
        assert r["train_return_tail"] < 0  # Reach2D's returns are negative distances
    saved = json.loads(out.read_text())["runs"]
    assert [r["variant"] for r in saved] == [r["variant"] for r in rows] and "audit_value_mean" not in rows[0]


def test_an_audit_in_the_folder_adds_the_critic_columns(ablation, tmp_path):
    (tmp_path / "audit.json").write_text(json.dumps({"critic": {"states": 9, "value_mean": -30.0, "mc_mean": -10.0, "corr": 0.5},
                                                     "planner": {"mean_return": 300.0}, "policy": None,
                                                     "critic_actor": {"mean_return": 500.0}}))
    assert ablation.audit_columns(tmp_path / "audit.json") == {
        "audit_value_mean": -30.0, "audit_mc_mean": -10.0, "audit_value_corr": 0.5,
        "audit_planner_return": 300.0, "audit_critic_actor_return": 500.0}
    assert ablation.audit_columns(tmp_path / "missing.json") == {}


def test_a_folder_that_is_not_a_run_is_refused(ablation, tmp_path, capsys):
    with pytest.raises(SystemExit):
        ablation.main([str(tmp_path), "--base", "reach2d", "--json", str(tmp_path / "x.json")])
    assert "no config.yaml" in capsys.readouterr().err
