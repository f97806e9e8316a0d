"""Vector envs: every autoreset mode stores whole episodes, one loop serves lists and VectorEnvs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.agent.environments import make_vector_env
from jepa_agent.agent.vector import as_vector_env, unbatch_info
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides

from .test_run_loop import TINY


class Counter(gym.Env):
    """Observation ``[episode, t, x]``: which episode (counted per env) and which step of it.

    Episodes last ``3 + episode % 4`` steps, so envs of one batch end at different steps; an
    episode whose ``x`` leaves [-0.5, 0.5] terminates.
    """

    metadata = {"render_modes": []}

    def __init__(self) -> None:
        self.observation_space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.episode, self.t, self.x = -1, 0, 0.0

    def _obs(self) -> np.ndarray:
        return np.array([self.episode, self.t, self.x], np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.episode, self.t, self.x = self.episode + 1, 0, 0.0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        self.x += 0.2 * float(action[0])
        terminated = abs(self.x) > 0.5
        truncated = self.t >= 3 + self.episode % 4
        return self._obs(), 1.0, bool(terminated), bool(truncated and not terminated), {"success": float(self.t > 3)}


def tiny(**over: Any) -> AgentConfig:
    return apply_overrides(AgentConfig(), {**TINY, "training.random_steps": 10_000, **over})


def stored_episodes(agent: Agent) -> list[np.ndarray]:
    """Each held episode's observations (T+1, 3)."""
    replay = agent.replay
    starts, lengths = replay._episodes.live("start"), replay.episode_lengths()
    rows = replay._rows.live(("obs", "observation"))
    lo = replay._rows.lo
    return [rows[s - lo: s - lo + n + 1] for s, n in zip(starts, lengths, strict=True)]


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED])
def test_no_transition_crosses_an_episode_boundary(mode):
    """Whatever the autoreset mode, each stored episode is one env episode, steps 0..T in order."""
    vec = SyncVectorEnv([Counter for _ in range(3)], autoreset_mode=mode)
    agent = Agent.from_config(tiny(), vec)
    agent.collect(vec, 120, seed=0)
    episodes = stored_episodes(agent)
    assert len(episodes) >= 20
    for obs in episodes:
        assert (obs[:, 0] == obs[0, 0]).all()  # one episode id
        np.testing.assert_array_equal(obs[:, 1], np.arange(len(obs)))  # t = 0, 1, ..., T
        T = len(obs) - 1
        assert T == 3 + int(obs[0, 0]) % 4 or abs(obs[-1, 2]) > 0.5  # truncated at its length, or terminated
    # every env step of a finished episode is stored, none twice
    assert agent.replay.num_steps + sum(len(e["actions"]) for e in agent._episodes) == agent.env_steps


def test_a_list_of_envs_and_a_sync_vector_env_train_alike():
    """Training on a list of envs equals training on make_vector_env's SyncVectorEnv (bitwise)."""
    config = tiny(**{"training.random_steps": 100})
    results = []
    for make in (lambda: [gym.make(config.task.env) for _ in range(2)], lambda: make_vector_env(config, 2)):
        torch.manual_seed(0)
        env = make()
        agent = Agent.from_config(config, env)
        agent.train(env, 200)
        results.append(agent)
    a, b = results
    assert (a.env_steps, a.updates) == (b.env_steps, b.updates) and a.updates > 0
    for x, y in zip(a.world_model.state_dict().values(), b.world_model.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_evaluate_on_b_envs_runs_each_seed_once():
    """evaluate on 3 envs runs episodes seed..seed+6 once each, like one env does (deterministic policy)."""
    config = tiny()
    agent = Agent.from_config(config, gym.make(config.task.env))
    one = agent.evaluate(gym.make(config.task.env), 7, seed=50, mode="policy")
    many = agent.evaluate([gym.make(config.task.env) for _ in range(3)], 7, seed=50, mode="policy")
    assert many["num_envs"] == 3 and [r["seed"] for r in many["records"]] == list(range(50, 57))
    for r1, r3 in zip(one["records"], many["records"], strict=True):
        assert r1["final_distance"] == pytest.approx(r3["final_distance"], abs=1e-5)
        assert r1["length"] == r3["length"] == 50


def test_async_vector_env_from_the_config():
    """training.vector_env=async builds an AsyncVectorEnv that trains and evaluates."""
    config = tiny(**{"training.vector_env": "async", "training.random_steps": 60})
    vec = make_vector_env(config, 2)
    try:
        assert type(vec).__name__ == "AsyncVectorEnv"
        agent = Agent.from_config(config, vec)
        agent.train(vec, 120)
        assert agent.env_steps >= 120 and agent.replay.num_episodes >= 2 and agent.updates > 0
        result = agent.evaluate(vec, 2, seed=7)
        assert [r["seed"] for r in result["records"]] == [7, 8]
    finally:
        vec.close()


def test_action_repeat_lives_in_the_vector_envs():
    """make_vector_env repeats actions inside the envs; each agent step counts its env steps."""
    config = tiny(**{"task.action_repeat": 2})
    vec = make_vector_env(config, 2)
    agent = Agent.from_config(config, vec)
    agent.collect(vec, 200, seed=0)
    assert set(agent.replay.episode_lengths()) == {25}  # 50 env steps, 2 per agent step
    plain = SyncVectorEnv([lambda: gym.make(config.task.env) for _ in range(2)])
    with pytest.raises(ValueError, match="action_repeat=2 cannot be applied to a VectorEnv"):
        agent.collect(plain, 10)


class Explodes(gym.vector.VectorEnv):
    """A user's vector env whose step raises at its 5th call."""

    def __init__(self) -> None:
        self.inner = SyncVectorEnv([Counter, Counter], autoreset_mode=AutoresetMode.SAME_STEP)
        self.num_envs = 2
        self.single_observation_space, self.single_action_space = Counter().observation_space, Counter().action_space
        self.observation_space, self.action_space = self.inner.observation_space, self.inner.action_space
        self.metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}
        self.calls = 0

    def reset(self, *, seed=None, options=None):
        return self.inner.reset(seed=seed, options=options)

    def step(self, actions):
        self.calls += 1
        if self.calls == 5:
            raise RuntimeError("the simulator farm went away")
        return self.inner.step(actions)


def test_a_vector_env_that_raises_ends_every_episode():
    """A VectorEnv that raises as a whole ends every env's episode, counted once, and goes on."""
    vec = Explodes()
    agent = Agent.from_config(tiny(), vec)
    records = agent.collect(vec, 30, seed=0)
    assert agent.faults == {"env_error": 1}
    assert sum(r["fault"] == "env_error" for r in records) == 2
    for obs in stored_episodes(agent):
        np.testing.assert_array_equal(obs[:, 1], np.arange(len(obs)))


def test_unbatch_info_reads_the_masks():
    """unbatch_info gives each env only the keys it reported, nested dicts included."""
    info = {"a": np.array([1, 0]), "_a": np.array([True, False]),
            "g": {"x": np.array([[1.0], [2.0]]), "_x": np.array([True, True])}, "_g": np.array([False, True])}
    out = unbatch_info(info, 2)
    assert out[0] == {"a": 1}
    assert list(out[1]) == ["g"] and out[1]["g"]["x"] == pytest.approx([2.0])


def test_bad_envs_are_refused():
    """An empty list or a non-env is refused with what was expected."""
    with pytest.raises(ValueError, match="non-empty list"):
        as_vector_env([])
    with pytest.raises(TypeError, match="env 1 must be a gymnasium.Env"):
        as_vector_env([Counter(), "Reacher-v5"])
