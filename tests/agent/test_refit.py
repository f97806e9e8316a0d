"""training.refit_every: the encoder's input normalisation follows the replay as it grows."""

import gymnasium as gym
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from tests.agent.test_agent_unit import tiny_config


@pytest.fixture()
def env():
    e = gym.make("jepa_agent/Reach2D-v0")
    yield e
    e.close()


def test_refits_happen_each_refit_every_steps_and_keep_the_latents(env, tmp_path):
    torch.manual_seed(0)
    agent = Agent.from_config(tiny_config(random_steps=100, pretrain_updates=2, refit_every=100), env)
    calls = []
    original = agent.learner.refit

    def watched(n: int = 10_000) -> None:
        obs = {k: torch.as_tensor(v[:64]).float() for k, v in agent.replay.sample(64, 1, rng=agent.rng)["obs"].items()}
        obs = {k: v[:, 0] for k, v in obs.items()}
        before = agent.world_model.encode_target(obs)
        mean = agent.world_model.encoder.in_mean.clone()
        original(n)
        calls.append(agent.env_steps)
        torch.testing.assert_close(agent.world_model.encode_target(obs), before, atol=1e-4, rtol=1e-4)
        assert not torch.equal(agent.world_model.encoder.in_mean, mean)  # new statistics

    agent.learner.refit = watched
    agent.train(env, 320)
    assert calls == [200, 300]  # none in the random phase; one in each step that crosses a multiple
    agent.save(tmp_path / "agent.pt", resume=True)
    again = Agent.load(tmp_path / "agent.pt", resume=True)
    resumed = []
    plain = again.learner.refit
    again.learner.refit = lambda n=10_000: (resumed.append(again.env_steps), plain(n))
    again.train(env, 420 - again.env_steps)
    assert resumed == [400]  # the next refit is at 400, as it would have been


def test_off_by_default(env):
    torch.manual_seed(0)
    agent = Agent.from_config(tiny_config(random_steps=100, pretrain_updates=2), env)
    agent.learner.refit = lambda n=10_000: pytest.fail("refit_every=0 never refits")
    agent.train(env, 250)
