"""benchmarks.ablation: rows read from run folders, each named by what its config changed."""

import importlib
import json

import pytest
import yaml

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


def test_another_module_is_one_change_with_its_own_options(ablation):
    """A module spec whose name changed is one change, the whole spec (its options belong to
    it, not changes of the base's); the same module with other options is its changed leaves."""
    base = {"planner": {"name": "cem", "options": {"samples": 128, "iterations": 2}}}
    other = {"planner": {"name": "prior", "options": {}}}
    assert ablation.differences(other, base) == ['planner={"name": "prior", "options": {}}']
    tuned = {"planner": {"name": "cem", "options": {"samples": 64, "iterations": 2}}}
    assert ablation.differences(tuned, base) == ["planner.options.samples=64"]
    assert ablation.differences({"planner": None}, base) == ["planner=null"]


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
    # a run written before a config field existed: the field counts as its default, not a change
    written = yaml.safe_load((folders[0] / "config.yaml").read_text())
    del written["training"]["critic_updates"]
    (folders[0] / "config.yaml").write_text(yaml.safe_dump(written))
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
