"""benchmarks.common: the far quarter of goals, task configs, continued training and result files."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

from jepa_agent import envs  # noqa: F401  (registers the reach envs)


def test_far_quarter_is_the_farthest_quarter_in_episode_order(common):
    """Known answer: of 8 distances the 2 largest, by index; at least one of fewer than 4."""
    assert common.far_quarter([0.1, 0.9, 0.3, 0.8, 0.2, 0.5, 0.4, 0.6]).tolist() == [1, 3]
    assert common.far_quarter([0.2, 0.1, 0.3]).tolist() == [2]


def test_goal_distances_are_the_first_observations(common):
    """Each seed's start-to-goal distance is that reset's ``|desired_goal - achieved_goal|``, every time."""
    env = gym.make("jepa_agent/Reach3D-v0")
    d = common.goal_distances(env, [5, 6, 7, 8])
    obs, _ = env.reset(seed=7)
    assert d[2] == float(np.linalg.norm(obs["desired_goal"] - obs["achieved_goal"]))
    assert d.tolist() == common.goal_distances(env, [5, 6, 7, 8]).tolist() and len(set(d.tolist())) == 4


def test_task_config_and_overrides(common):
    """A task's config by name with --set items, then mapped overrides on top; task_with makes a task."""
    config = common.task_config("reach3d_far", ["training.batch_size=32"], {"seed": 4})
    assert config.training.batch_size == 32 and config.seed == 4 and "Reach3D" in config.task.env
    assert common.task_with(config, []) is None
    assert common.task_with(config, ["task.cost.effort_weight=0.5"]).cost.effort_weight == 0.5


def test_train_on_scales_the_learning_rates_and_counts_updates(common):
    """Continued training: n more updates, every optimiser's learning rate times lr_scale."""
    agent = common.tiny_agent(120)
    before, lrs = agent.updates, [g["lr"] for o in agent.learner.optimizers.values() for g in o.param_groups]
    info, seconds = common.train_on(agent, 3, lr_scale=0.5)
    assert agent.updates == before + 3 and "pred_loss" in info and seconds > 0
    assert [g["lr"] for o in agent.learner.optimizers.values() for g in o.param_groups] == pytest.approx(
        [0.5 * lr for lr in lrs])


def test_write_json_carries_provenance(common, tmp_path):
    """A dict gets its provenance inside, a list of records beside it; folders are made."""
    common.write_json(tmp_path / "a" / "one.json", {"x": 1.5})
    one = json.loads((tmp_path / "a" / "one.json").read_text())
    assert one["x"] == 1.5 and one["provenance"]["device"] == "cpu"
    common.write_json(tmp_path / "many.json", [{"x": 1}, {"x": 2}])
    assert json.loads((tmp_path / "many.json").read_text()) == [{"x": 1}, {"x": 2}]
    assert "torch" in json.loads((tmp_path / "many.provenance.json").read_text())


def test_targets_report_each_and_all(common, capsys):
    """Each target is printed met or NOT met; the result meets them all only if it meets each."""
    targets = [("a", lambda r: r["a"] < 2, "< 2"), ("b", lambda r: r["b"], "true")]
    assert common.targets_met({"a": 1, "b": True}, targets)
    assert not common.targets_met({"a": 3, "b": True}, targets)
    assert "target a < 2: NOT met" in capsys.readouterr().out
