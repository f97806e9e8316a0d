"""benchmarks.diagnostics.model_error --replay: the open-loop latent error on the agent's own replay."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from tests.agent.test_agent_unit import fill_replay, tiny_config


@pytest.fixture()
def agent():
    env = gym.make("jepa_agent/Reach2D-v0")
    torch.manual_seed(0)
    config = tiny_config()
    wm = config.world_model.model_copy(update={"options": {**config.world_model.options, "ensemble_heads": 3}})
    agent = Agent.from_config(config.model_copy(update={"world_model": wm}), env)
    fill_replay(agent, env, episodes=3, steps=8)
    env.close()
    return agent


def test_replay_error_is_the_rollout_against_the_target_latents(model_error, agent):
    """Known answer: the error at step t is |rollout_t - target_t| of the same sampled windows,
    computed here by hand with the model's step(), and the online-target gap by hand; the
    same seed gives the same numbers."""
    with torch.no_grad():  # the online encoder ahead of its target, as in training
        for p in agent.world_model.encoder.parameters():
            p.add_(0.05 * torch.randn_like(p))
    out = model_error.replay_error(agent, windows=16, horizon=3, seed=4)
    assert (out["windows"], out["horizon"]) == (16, 3) and len(out["error_mean"]) == 3
    batch = agent.replay.sample(16, 3, rng=np.random.default_rng(4))
    wm = agent.world_model
    with torch.no_grad():
        obs = {k: torch.as_tensor(v).float() for k, v in batch["obs"].items()}  # (B, T+1, ...)
        actions = torch.as_tensor(batch["actions"]).float()
        flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in obs.items()}
        target = wm.encode_target(flat).reshape(16, 4, -1)
        s = wm.encode(flat).reshape(16, 4, -1)[:, 0]
        by_hand = []
        for t in range(3):
            s = wm.step(s, actions[:, t])
            by_hand.append((s - target[:, t + 1]).norm(dim=-1).mean().item())
    np.testing.assert_allclose(out["error_mean"], by_hand, atol=1e-4)
    gap = (wm.encoder(flat) - target.reshape(-1, target.shape[-1])).reshape(16, 4, -1)[:, 0].norm(dim=-1).mean()
    assert out["online_target_gap"] == pytest.approx(gap.item(), abs=1e-4) and gap > 1e-3
    assert out == model_error.replay_error(agent, windows=16, horizon=3, seed=4)
    wm.config = wm.config.model_copy(update={"ensemble_mix": 0.5})
    assert model_error.replay_error(agent, windows=16, horizon=3, seed=4)["error_mean"] != out["error_mean"]


def test_replay_command_refits_the_predictor_first(model_error, agent, tmp_path):
    """``--replay N --refit-predictor R --set world_model.options.plan_encoder=target`` on a
    resumable checkpoint: the record says the refit ran, its loss, and the errors."""
    path = agent.save(tmp_path / "ckpt.pt", resume=True)
    model_error.main([str(path), "--replay", "8", "--horizon", "2", "--refit-predictor", "3",
                      "--set", "world_model.options.plan_encoder=target", "--json", str(tmp_path / "out.json")])
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["refit_predictor"] == 3 and out["refit_loss_first"] > 0 and len(out["error_mean"]) == 2
    assert out["set"] == ["world_model.options.plan_encoder=target"]
