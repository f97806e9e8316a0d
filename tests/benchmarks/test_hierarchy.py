"""benchmarks.hierarchy end to end on a reduced budget (needs the maze extra), its main in this process."""

import json
from pathlib import Path

import pytest

pytest.importorskip("gymnasium_robotics")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("task", ["pointmaze_medium", "reach2d_wall"])
def test_flat_and_hierarchical_on_the_same_model(hierarchy, model_error, tmp_path, task):
    """A tiny training, 2 detour pairs: one record per planner with the issue's fields, the
    hierarchical episodes carry their subgoals, the figure is written."""
    episode = "{max_episode_steps: 120}" if task == "pointmaze_medium" else "{wall_angle: 1.5708, max_episode_steps: 40}"
    cmd = ["--task", task, "--out", str(tmp_path), "--steps", "800",
           "--pairs", "2", "--max-steps", "12", "--ms", "15", "--set", f"task.env_kwargs={episode}",
           "training.random_steps=300", "training.pretrain_updates=10", "training.batch_size=16", "training.updates_per_step=0.25",
           "coarse_world_model.hidden_dim=32", "encoder.hidden_dim=32", "world_model.hidden_dim=32"]
    if task == "reach2d_wall":  # the ablations too: refits on the saved replay
        cmd += ["--ablate", "--refit-updates", "5"]
    else:  # each planner again along routes through the replay
        cmd += ["--route"]
    hierarchy.main(cmd)
    records = json.loads((tmp_path / "results.json").read_text())
    main = [r for r in records if r["ablation"] is None]
    routed = ["flat+route", "hierarchical+route"] if task == "pointmaze_medium" else []
    assert [r["planner"] for r in main] == ["flat", "hierarchical", *routed]
    ablations = [r["ablation"] for r in records if r["ablation"] is not None]
    assert len(ablations) == (4 if task == "reach2d_wall" else 0)
    assert all(r["planner"] == "hierarchical" for r in records if r["ablation"] is not None)
    for r in records:
        assert r["task"] == task and r["episodes"] == 2 and 0 <= r["success_rate"] <= 1
        assert r["act_ms_median"] > 0 and r["train_env_steps"] >= 800
    episodes = json.loads((tmp_path / f"{task}_episodes.json").read_text())
    assert all(e["subgoals"] for e in episodes["hierarchical"]) and not any(e["subgoals"] for e in episodes["flat"])
    if task == "pointmaze_medium":  # the config holds each action 4 env steps: 12 env steps are 3 actions
        assert all(len(e["path"]) == 12 // 4 + 1 for e in episodes["flat"] if not e["success"])
        # the same agent's prediction error, in metres
        model_error.main([str(tmp_path / task / "agent.pt"), "--config", str(ROOT / "configs" / "pointmaze_medium_hier.yaml"),
                          "--starts", "3", "--horizon", "2", "--json", str(tmp_path / "error.json")])
        err = json.loads((tmp_path / "error.json").read_text())
        assert err["action_repeat"] == 4 and err["starts"] == 3 and len(err["rollout_error_median"]) == 2
        assert all(e >= 0 for e in err["rollout_error_p90"]) and err["moved_median"] >= 0
    for planner in routed:  # the landmarks each routed episode was handed (none where the data never joined them)
        assert all(isinstance(e["route"], list) for e in episodes[planner]) and not any(e["route"] for e in episodes["flat"])
    assert (tmp_path / f"{task}_episodes.png").stat().st_size > 10_000
    assert "act_ms_median" in (tmp_path / "results.csv").read_text().splitlines()[0]
