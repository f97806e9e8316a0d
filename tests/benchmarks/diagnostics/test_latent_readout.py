"""benchmarks.diagnostics.latent_readout: how finely a latent resolves the goal space."""

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
    agent = Agent.from_config(tiny_config(), env)
    fill_replay(agent, env, episodes=3, steps=8)
    env.close()
    return agent


def test_inputs_leave_out_the_goal_columns_of_the_observation(latent_readout, agent):
    """The observation input is the observation without the columns that equal an
    achieved-goal column (the reach arm's fingertip), the latents are the encoders' own,
    and distances are from the oldest episode's first achieved goal."""
    inputs, goal, distance = latent_readout.readout_inputs(agent, samples=20, seed=1)
    batch = agent.replay.sample(20, 1, rng=np.random.default_rng(1))
    raw, ag = batch["obs"]["observation"][:, 0], batch["obs"]["achieved_goal"][:, 0]
    kept = [j for j in range(raw.shape[1]) if not any(np.allclose(raw[:, j], ag[:, g]) for g in range(ag.shape[1]))]
    assert 0 < len(kept) < raw.shape[1]  # Reach2D's observation carries the fingertip
    np.testing.assert_allclose(inputs["observation"], raw[:, kept])
    np.testing.assert_allclose(goal, ag)
    obs = {k: torch.as_tensor(v[:, 0]) for k, v in batch["obs"].items()}
    with torch.no_grad():
        np.testing.assert_allclose(inputs["target"], agent.world_model.encode_target(obs).numpy(), atol=1e-6)
    start = next(agent.replay.episodes())["obs"]["achieved_goal"][0]
    np.testing.assert_allclose(distance, np.linalg.norm(ag - start, axis=1), atol=1e-6)


def test_fit_reads_a_function_of_the_input_and_not_noise(latent_readout):
    """Known answer: a smooth function of the input is read to a small fraction of its
    spread on held-out rows; a target independent of the input is not (error about its
    spread)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(2000, 4))
    smooth = np.stack([np.sin(x[:, 0]) + 0.5 * x[:, 1], x[:, 2] * x[:, 3]], axis=1)
    noise = rng.normal(size=(2000, 2)) * smooth.std(0)
    # 500 updates read it to 0.033-0.040 of its spread (6 data and weight seeds), the noise to 0.84-0.90
    fitted = latent_readout.fit_readout(x, smooth, updates=500)
    guessed = latent_readout.fit_readout(x, noise, updates=500)
    assert fitted.shape == (400,)
    spread = np.linalg.norm(smooth - smooth.mean(0), axis=1).mean()
    assert np.median(fitted) < 0.1 * spread
    assert np.median(guessed) > 0.5 * spread


def test_cli_writes_a_record_per_input(latent_readout, agent, tmp_path):
    """End to end on a resumable checkpoint: a record per input, four distance bins each."""
    path = agent.save(tmp_path / "ckpt.pt", resume=True)
    latent_readout.main([str(path), "--samples", "40", "--updates", "20", "--json", str(tmp_path / "out.json")])
    out = json.loads((tmp_path / "out.json").read_text())
    assert (out["samples"], out["updates"], len(out["bin_edges"])) == (40, 20, 3)
    for name in ("target", "online", "observation"):
        assert out[name]["median"] > 0 and len(out[name]["median_by_bin"]) == 4, name
