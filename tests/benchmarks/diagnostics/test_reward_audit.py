"""benchmarks.diagnostics.reward_audit: a reward-task agent audited on its own episodes."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

TINY = {"encoder.latent_dim": 8, "encoder.hidden_dim": 32, "world_model.hidden_dim": 32, "critic.hidden_dim": 32,
        "policy.hidden_dim": 32, "task_cost.hidden_dim": 32, "training.batch_size": 16,
        "training.random_steps": 300, "training.pretrain_updates": 5, "actor.samples": 16, "actor.iterations": 1,
        "training.exploration.planner": None, "device": "cpu", "seed": 0}


@pytest.fixture(scope="module")
def audit():
    return importlib.import_module("benchmarks.diagnostics.reward_audit")


@pytest.fixture(scope="module")
def hopper_checkpoint(tmp_path_factory):
    """configs/hopper.yaml made tiny, 400 env steps on Hopper-v5 (random episodes fall early)."""
    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_env
    from jepa_agent.configurator import AgentConfig

    config = AgentConfig.load("hopper").with_overrides(TINY)
    agent = Agent.from_config(config, make_env(config))
    agent.train([make_env(config) for _ in range(2)], 400)
    return agent.save(tmp_path_factory.mktemp("hopper") / "agent.safetensors")


def test_recorded_episodes_are_the_evaluated_ones(audit, hopper_checkpoint):
    """Each recorded trajectory sums to its episode's return, has its length, T+1 observations
    and ends as the record says."""
    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_env

    agent = Agent.load(hopper_checkpoint)
    result, trajectories = audit.record_episodes(agent, make_env(agent.config), 2, None)
    assert len(trajectories) == 2
    for record, tr in zip(result["records"], trajectories, strict=True):
        T = len(tr["actions"])
        assert T == record["length"] and tr["obs"]["observation"].shape[0] == T + 1
        assert tr["rewards"].sum() == pytest.approx(record["return"], rel=1e-5)
        assert tr["terminated"] == record["terminated"]


def test_the_audit_reports_endings_model_and_critic(audit, hopper_checkpoint, tmp_path):
    out = tmp_path / "audit.json"
    result = audit.main([str(hopper_checkpoint), "--episodes", "1", "--horizon", "3", "--stride", "2",
                         "--json", str(out)])
    assert result["planner"]["episodes"] == result["policy"]["episodes"] == result["critic_actor"]["episodes"] == 1
    assert result["window_starts"] == "fit"
    rmse = result["model"]["cost_rmse_per_step"]
    assert len(rmse) == 3 and np.all(np.isfinite(rmse))
    critic = result["critic"]
    assert critic["states"] > 0 and np.isfinite(critic["bias"]) and critic["rmse"] >= abs(critic["bias"]) - 1e-9
    # the bins hold the states of terminated episodes, each bin's steps in its range
    bins = critic["by_steps_to_end"]
    assert sum(b["states"] for b in bins) == (critic["states"] if result["planner"]["terminated"] else 0)
    for b in bins:
        lo, hi = b["steps_to_end"]
        assert 1 <= lo < hi and b["states"] <= (hi - lo) * result["planner"]["terminated"]
        assert np.isfinite([b["value_mean"], b["q_taken_mean"], b["mc_mean"]]).all()
    assert result["critic_on_model"]["states"] > 0 and np.isfinite(result["critic_on_model"]["value_predicted_mean"])
    assert json.loads(out.read_text())["env"] == "Hopper-v5"


def test_the_critic_at_the_horizon_end_reads_the_predicted_latent(audit, hopper_checkpoint, monkeypatch):
    """Known answer: a model that predicts exactly the encoded latents the episode reached makes
    ``V`` at the predicted and at the encoded horizon end equal; the starts are every stride-th
    state whose horizon end lies in the episode; the real model's differ."""
    import torch

    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_env

    agent = Agent.load(hopper_checkpoint)
    _, trajectories = audit.record_episodes(agent, make_env(agent.config), 1, None)
    (tr,) = trajectories
    H, T = agent.config.task.actor.horizon, len(tr["actions"])
    assert tr["terminated"]  # a tiny agent's hopper falls: every start up to T - H is measured
    real = audit.critic_on_model(agent, trajectories, stride=2)
    assert real["states"] == len(range(0, T - H + 1, 2)) and real["horizon"] == H
    assert real["predicted_minus_encoded_rmse"] > 0

    wm = agent.world_model
    obs = agent._tensors(tr["obs"])
    with torch.no_grad():
        online, target = wm.encode(obs), wm.encode_target(obs)  # (T+1, D)

    def exact(s0, actions):  # the encoded latents the episode reached after each start
        starts = [int((online == row).all(-1).nonzero()[0, 0]) for row in s0]
        return torch.stack([target[t + 1 : t + actions.shape[1] + 1] for t in starts])

    monkeypatch.setattr(wm, "rollout", exact)
    same = audit.critic_on_model(agent, trajectories, stride=2)
    assert same["predicted_minus_encoded_rmse"] == pytest.approx(0.0, abs=1e-6)
    assert same["value_predicted_mean"] == pytest.approx(real["value_encoded_mean"], rel=1e-6)
    assert same["mc_mean"] == real["mc_mean"] and same["corr_predicted_mc"] == pytest.approx(same["corr_encoded_mc"])
