"""Resume: a stopped run continues bit for bit; checkpoints that cannot be lost or misread."""

from __future__ import annotations

import os
import signal

import gymnasium as gym
import numpy as np
import pytest
import torch

import jepa_agent.agent.checkpoint as checkpoint_module
from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.agent.app.cli import main
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides
from jepa_agent.envs.state import env_state, set_env_state

from .test_cli_commands import REACH2D, TINY
from .test_run_loop import TINY as TINY_OVERRIDES


def tiny(env_id: str) -> AgentConfig:
    over = dict(TINY_OVERRIDES, **{"task.env": env_id})
    if not env_id.startswith("jepa_agent/"):
        over["task.objective"] = "reward"
    return apply_overrides(AgentConfig(), over)


def weights(agent: Agent) -> list[torch.Tensor]:
    modules = (agent.world_model, agent.critic, agent.critic._target() if agent.critic else None, agent.policy,
               agent.probe, agent.task_cost)
    return [t for m in modules if m is not None for t in m.state_dict().values() if isinstance(t, torch.Tensor)]


def same_obs(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    return np.array_equal(a, b)


def same_weights(a: Agent, b: Agent) -> bool:
    wa, wb = weights(a), weights(b)
    return len(wa) == len(wb) and all(torch.equal(x, y) for x, y in zip(wa, wb, strict=True))


# Reach2D: a goal task, episodes truncated together; Hopper: a reward task whose episodes
# terminate at different steps in each env, so the stop falls in the middle of episodes.
@pytest.mark.parametrize("env_id", ["jepa_agent/Reach2D-v0", "Hopper-v5"])
def test_training_n_then_resuming_m_equals_n_plus_m(env_id, tmp_path):
    config = tiny(env_id)
    n, m = 230, 170
    straight = Agent.from_config(config, gym.make(env_id))
    straight.train([gym.make(env_id) for _ in range(2)], n + m)

    first = Agent.from_config(config, gym.make(env_id))
    first.train([gym.make(env_id) for _ in range(2)], n)
    first.save(tmp_path / "checkpoint.safetensors", resume=True)
    del first
    resumed = Agent.load(tmp_path / "checkpoint.safetensors", resume=True)
    assert resumed.envs is not None and resumed.envs.num_envs == 2
    resumed.train(resumed.envs, m)

    assert (resumed.env_steps, resumed.updates) == (straight.env_steps, straight.updates)
    assert straight.updates > 20
    assert resumed.replay.num_steps == straight.replay.num_steps
    assert same_weights(resumed, straight)
    a = straight.replay.sample(64, 4, rng=np.random.default_rng(0))
    b = resumed.replay.sample(64, 4, rng=np.random.default_rng(0))
    assert np.array_equal(a["actions"], b["actions"]) and np.array_equal(a["costs"], b["costs"])


@pytest.mark.parametrize("env_id", ["Reacher-v5", "Hopper-v5", "jepa_agent/Reach3D-v0"])
def test_env_state_continues_the_episode_exactly(env_id):
    env = gym.make(env_id)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(7):
        env.step(rng.uniform(env.action_space.low, env.action_space.high))
    copy = gym.make(env_id)
    set_env_state(copy, env_state(env))
    for _ in range(120):  # across the episode end and the next reset
        a = rng.uniform(env.action_space.low, env.action_space.high)
        one, two = env.step(a), copy.step(a)
        assert same_obs(one[0], two[0]) and one[1:4] == two[1:4]
        if one[2] or one[3]:
            assert same_obs(env.reset()[0], copy.reset()[0])


def test_env_state_refuses_another_wrapper_chain():
    env = gym.make("Reacher-v5")
    env.reset(seed=0)
    other = gym.make("Reacher-v5", max_episode_steps=None)
    other = gym.wrappers.ClipAction(other)
    with pytest.raises(ValueError, match="wrappers are ClipAction"):
        set_env_state(other, env_state(env))


def test_ctrl_c_then_resume_ends_like_the_unstopped_run(tmp_path, monkeypatch, capsys):
    """`train` stopped by Ctrl-C (SIGINT) and continued with `train --resume` ends with the
    same weights as the run that was never stopped."""
    args = ["--config", REACH2D, "--steps", "400", "--episodes", "1", "--video", "0", "--log-every", "100", *TINY]
    assert main(["train", "--out", str(tmp_path / "straight"), *args]) == 0

    real_train, calls = Agent.train, []

    def train_with_ctrl_c(self, *a, **kw):
        calls.append(1)
        if len(calls) == 3:  # during the third chunk of 100 steps
            os.kill(os.getpid(), signal.SIGINT)
        return real_train(self, *a, **kw)

    monkeypatch.setattr(Agent, "train", train_with_ctrl_c)
    out = tmp_path / "stopped"
    assert main(["train", "--out", str(out), *args]) == 130
    err = capsys.readouterr().err
    assert "interrupted at 200 env steps" in err and f"--resume {out}" in err
    monkeypatch.setattr(Agent, "train", real_train)
    assert main(["train", "--resume", str(out), "--threads", "1"]) == 0

    straight = Agent.load(tmp_path / "straight" / "checkpoint.safetensors")
    resumed = Agent.load(out / "checkpoint.safetensors")
    assert resumed.env_steps == straight.env_steps == 400
    assert same_weights(resumed, straight)
    steps = [[r.split(",")[0] for r in (d / "metrics.csv").read_text().splitlines()] for d in (out, tmp_path / "straight")]
    assert steps[0] == steps[1] == ["step", "100", "200", "300", "400", "400"]  # the last row: evaluation


def test_resume_refuses_config_changes(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path), "--actor.samples=8"]) == 2
    assert "drop --actor.samples" in capsys.readouterr().err


def test_resume_without_resume_state_says_so(tmp_path):
    agent = Agent.from_config(tiny("jepa_agent/Reach2D-v0"), gym.make("jepa_agent/Reach2D-v0"))
    agent.save(tmp_path / "weights.pt")
    with pytest.raises(ValueError, match="holds no resume state"):
        Agent.load(tmp_path / "weights.pt", resume=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    agent = Agent.from_config(tiny("jepa_agent/Reach2D-v0"), gym.make("jepa_agent/Reach2D-v0"))
    agent.train([gym.make("jepa_agent/Reach2D-v0") for _ in range(2)], 160)
    agent.save(folder / "checkpoint.safetensors", resume=True)
    return agent, folder


def test_a_crash_while_saving_keeps_the_previous_checkpoint(trained, tmp_path, monkeypatch):
    agent, _ = trained
    path = tmp_path / "checkpoint.safetensors"
    agent.save(path, resume=True)
    before = sorted(p.name for p in (tmp_path / "checkpoint.resume").iterdir())
    real_write = checkpoint_module.atomic_write

    def crash_on_the_checkpoint(target, write):
        if target == path:  # the checkpoint itself, after the side files
            def half(f):
                f.write(b"half a file")
                raise OSError("disk full")
            return real_write(target, half)
        return real_write(target, write)

    monkeypatch.setattr(checkpoint_module, "atomic_write", crash_on_the_checkpoint)
    with pytest.raises(OSError, match="disk full"):
        agent.save(path, resume=True)
    monkeypatch.setattr(checkpoint_module, "atomic_write", real_write)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    back = Agent.load(path, resume=True)  # the previous checkpoint and the files it names
    assert back.env_steps == agent.env_steps and same_weights(back, agent)
    after = {p.name for p in (tmp_path / "checkpoint.resume").iterdir()}
    assert set(before) <= after  # the new side files are stale, the old ones kept
    agent.save(path, resume=True)  # the next good save removes what no checkpoint names
    assert len(list((tmp_path / "checkpoint.resume").iterdir())) == 2


def test_truncated_checkpoint_is_one_line_naming_the_file(trained, tmp_path):
    _, folder = trained
    data = (folder / "checkpoint.safetensors").read_bytes()
    bad = tmp_path / "checkpoint.safetensors"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="could not read checkpoint .*checkpoint.safetensors") as err:
        Agent.load(bad)
    assert "\n" not in str(err.value)


def test_missing_or_corrupt_replay_is_named(trained, tmp_path):
    _, folder = trained
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    replay = next((copy / "checkpoint.resume").glob("*.replay.npz"))
    replay.write_bytes(replay.read_bytes()[:1000])
    with pytest.raises(ValueError, match="could not read replay buffer from .*replay.npz"):
        Agent.load(copy / "checkpoint.safetensors", resume=True)
    replay.unlink()
    with pytest.raises(ValueError, match="replay file .*replay.npz is missing"):
        Agent.load(copy / "checkpoint.safetensors", resume=True)
