"""agent.app.run and its parts: batch-by-batch training, metrics CSV, curves, videos and projection."""

from __future__ import annotations

import csv

import gymnasium as gym
import numpy as np
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.agent.app.metrics import CSVWriter, learning_curve
from jepa_agent.agent.app.run import Run, RunOptions, evaluate_agent
from jepa_agent.agent.app.video import CameraProjection, EpisodeRecorder, plan_path_source
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides

TINY = {
    "encoder.latent_dim": 8, "encoder.hidden_dim": 32, "world_model.hidden_dim": 32, "critic.hidden_dim": 32,
    "policy.hidden_dim": 32, "probe.hidden_dim": 32, "training.batch_size": 16, "training.random_steps": 100,
    "training.pretrain_updates": 5, "actor.samples": 16, "actor.iterations": 1, "actor.horizon": 5,
    "training.exploration.planner.samples": 16, "training.exploration.planner.iterations": 1, "device": "cpu", "seed": 2,
}


@pytest.fixture(scope="module")
def config() -> AgentConfig:
    return apply_overrides(AgentConfig(), TINY)


def test_run_trains_exactly_like_one_agent_train_call(config, tmp_path):
    """Run.train's batch-by-batch loop gives the same weights and replay as one Agent.train call."""
    torch.manual_seed(0)
    run = Run(config, tmp_path, RunOptions(steps=200, num_envs=2, episodes=1))
    run.train()
    torch.manual_seed(0)
    envs_ = [gym.make(config.task.env) for _ in range(2)]
    agent = Agent.from_config(config, envs_[0])
    agent.train(envs_, 200)
    assert (run.agent.env_steps, run.agent.updates) == (agent.env_steps, agent.updates) == (200, agent.updates)
    assert agent.updates > 0
    for a, b in zip(run.agent.world_model.state_dict().values(), agent.world_model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert len(run.history["episodes"]) == 4 and len(run.history["updates"]) == agent.updates
    run.close()


def test_csv_header_grows_with_new_metrics(tmp_path):
    """A metric that appears later widens metrics.csv; earlier rows keep an empty cell for it."""
    writer = CSVWriter(tmp_path / "metrics.csv")
    writer.write(1, {"a": 1.0})
    writer.write(2, {"a": 2.0, "b": 3.0})
    writer.write(3, {"b": 4.0})
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert (rows[0]["b"], rows[1]["b"], rows[2]["a"]) == ("", "3.0", "")


def test_learning_curve_plots_every_panel(tmp_path):
    """The learning curve renders success, distance, return, losses and collapse diagnostics."""
    eps = [{"env_steps": 50 * i, "success": float(i % 2), "final_distance": 0.1, "return": -1.0} for i in range(60)]
    ups = [{"update": i, "pred_loss": 1.0 / (i + 1), "embed_std": 0.9, **({"embed_rank": 5.0} if i % 5 == 0 else {})}
           for i in range(30)]
    learning_curve({"episodes": eps, "updates": ups}, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 20_000


@pytest.mark.parametrize("env_id", sorted(envs.ENV_IDS))
def test_camera_projection_finds_the_goal_marker(env_id):
    """The projected goal position lands on the red goal marker in the rendered frame."""
    env = gym.make(env_id, render_mode="rgb_array")
    obs, _ = env.reset(seed=5)
    frame = env.render().astype(int)
    base = env.unwrapped
    goal = np.array(base.data.site("fingertip").xpos)
    goal[list(base.GOAL_DIMS)] = obs["desired_goal"]
    (col, row), depth = CameraProjection(base.model, base.data, base.CAMERA, base.width, base.height)(goal)
    assert depth > 0
    r, g, b = frame[int(round(row)), int(round(col))]
    assert r > 150 and g < 90 and b < 90, (env_id, col, row, (r, g, b))
    env.close()


def test_recording_does_not_change_the_evaluation(config, tmp_path):
    """Evaluating through the video recorder gives the same episodes as without it, plus a file."""
    env = gym.make(config.task.env, render_mode="rgb_array")
    agent = Agent.from_config(config, env)
    agent.generator.manual_seed(0)
    plain, _ = evaluate_agent(agent, env, 1, seed=7)
    agent.generator.manual_seed(0)
    recorded, paths = evaluate_agent(agent, env, 1, seed=7, videos=1, video_dir=tmp_path)
    assert [r["final_distance"] for r in plain["records"]] == [r["final_distance"] for r in recorded["records"]]
    assert len(paths) == 1 and paths[0].stat().st_size > 1000
    env.close()


def test_evaluation_videos_are_the_files_written_one_per_requested_episode(config, tmp_path, caplog):
    """evaluate_agent(videos=N) records each of the first N episodes to a file of its own and
    returns exactly the files it wrote (the loop's autoreset after each episode is no episode)."""
    import imageio.v2 as imageio

    env = gym.make(config.task.env, render_mode="rgb_array", max_episode_steps=5)
    agent = Agent.from_config(config, env)
    _, paths = evaluate_agent(agent, env, 3, seed=7, videos=2, video_dir=tmp_path)
    assert [p.name for p in paths] == ["eval_000.mp4", "eval_001.mp4"]
    assert sorted(tmp_path.iterdir()) == paths
    assert [imageio.get_reader(p).count_frames() for p in paths] == [6, 6]
    with caplog.at_level("INFO"):
        _, paths = evaluate_agent(agent, env, 1, seed=7, videos=2, video_dir=tmp_path / "more")
    assert [p.name for p in paths] == ["eval_000.mp4"] and sorted((tmp_path / "more").iterdir()) == paths
    assert "1 of 2 videos written: only 1 episode(s) evaluated" in caplog.text
    env.close()


def test_plan_path_needs_a_trained_probe(config, caplog):
    """No plan path is drawn (and a log line says why) without a probe or before any update."""
    env = gym.make(config.task.env)
    untrained = Agent.from_config(config, env)
    no_probe = Agent.from_config(apply_overrides(config, {"probe": None}), env)
    with caplog.at_level("INFO"):
        assert plan_path_source(untrained, env) is None
        assert "untrained" in caplog.text
        assert plan_path_source(no_probe, env) is None
        assert "no achieved-goal probe" in caplog.text


def test_plan_path_starts_at_the_fingertip(config):
    """The imagined path is the fingertip now, then one probe readout per planned step."""
    env = gym.make(config.task.env)
    agent = Agent.from_config(config, env)
    agent.updates = 1  # pretend the probe was trained: the geometry is what is checked here
    obs, info = env.reset(seed=0)
    agent.reset(goal=info["goal_observation"])
    agent.act(obs)
    path = plan_path_source(agent, env)()
    assert path.shape == (1 + config.task.actor.horizon, 3)
    np.testing.assert_allclose(path[0], env.unwrapped.data.site("fingertip").xpos)
    assert np.all(path[:, 2] == path[0, 2])  # Reach2D: the plan stays in the arm's plane


def test_recorder_writes_one_file_per_episode(tmp_path):
    """The recorder writes the first N episodes only, each with one frame per step plus the last."""
    import imageio.v2 as imageio

    env = EpisodeRecorder(gym.make("jepa_agent/Reach2D-v0", render_mode="rgb_array"), tmp_path, episodes=2)
    for seed in range(3):
        env.reset(seed=seed)
        done = False
        while not done:
            _, _, term, trunc, _ = env.step(env.action_space.sample())
            done = term or trunc
    env.close()
    assert [p.name for p in env.paths] == ["episode_000.mp4", "episode_001.mp4"]
    assert imageio.get_reader(env.paths[0]).count_frames() == 51


def test_update_history_stays_bounded_and_keeps_every_stretch():
    """Past the limit, neighbouring update records merge in pairs (means), so a long run's
    history stays bounded while its first and last updates are still covered."""
    from jepa_agent.agent.app.run import thin_updates

    records = [{"update": i, "env_steps": 2 * i, "pred_loss": float(i), **({"embed_rank": 3.0} if i % 50 == 0 else {})}
               for i in range(1, 12_001)]
    thinned = thin_updates(records, limit=5000)
    assert len(thinned) == 3000
    assert thinned[0] == {"update": 4, "env_steps": 8, "pred_loss": 2.5}
    assert thinned[-1]["update"] == 12_000 and thinned[-1]["pred_loss"] == 11_998.5
    assert sum("embed_rank" in r for r in thinned) == 240  # one per 4-record block holding a multiple of 50
    assert thin_updates(records[:10], limit=5000) == records[:10]
