"""Offline pretraining on a Minari dataset: one process, 2 processes under torchrun, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("minari")

from jepa_agent import envs  # noqa: E402, F401  (registers the reach envs)
from jepa_agent.agent import Agent  # noqa: E402
from jepa_agent.agent.app.cli import main  # noqa: E402
from jepa_agent.agent.app.dataset import write_minari  # noqa: E402
from jepa_agent.agent.app.pretrain import load_offline, parameter_digest, pretrain  # noqa: E402
from jepa_agent.agent.checkpoint import read_checkpoint  # noqa: E402
from jepa_agent.agent.distributed import ShardedBatches, concat_batches  # noqa: E402
from jepa_agent.agent.environments import make_vector_env  # noqa: E402
from jepa_agent.configurator import AgentConfig  # noqa: E402
from jepa_agent.configurator.loading import apply_overrides  # noqa: E402
from jepa_agent.memory import ReplayBuffer  # noqa: E402

from .test_run_loop import TINY  # noqa: E402

# No latent-variable noise and no hindsight draws: an update is then a function of its batch,
# so ranks and a single process can be compared number for number.
EXACT = {**TINY, "world_model.latent_var_dim": 0, "training.relabel_prob": 0.0}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, Path]:
    """600 random steps of Reach2D as a Minari dataset, and the tiny config as YAML."""
    folder = tmp_path_factory.mktemp("pretrain")
    config = apply_overrides(AgentConfig(), EXACT)
    config.save(folder / "tiny.yaml")
    vec = make_vector_env(config, 4)
    agent = Agent.from_config(config, vec)
    agent.collect(vec, 600, seed=0)
    path = write_minari(agent.replay, "test/reach2d-random-v0", observation_space=vec.single_observation_space,
                        action_space=vec.single_action_space, env_id=config.task.env, path=folder / "data")
    vec.close()
    return path, folder / "tiny.yaml"


def torchrun(*args: str, processes: int) -> subprocess.CompletedProcess:
    """``jepa-agent ARGS`` launched by torchrun as ``processes`` CPU processes. (Everything
    else calls the CLI's ``main`` in this process: the same parsing and runners, without an
    interpreter start and the imports, seconds each, per command.)"""
    env = {**os.environ, "MUJOCO_GL": "egl", "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    return subprocess.run([*launcher, "-m", "jepa_agent.agent.app.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)


def test_sharded_batches_split_one_global_batch():
    """Ranks drawing their parts get, together, the batch one process holding every shard draws."""
    rng = np.random.default_rng(0)
    shards = {}
    for r in range(2):
        replay = ReplayBuffer()
        for _ in range(3):
            replay.add_episode({"x": rng.normal(size=(9, 2))}, rng.normal(size=(8, 1)), rng.normal(size=8), {"x": np.zeros(2)})
        shards[r] = replay
    whole = ShardedBatches(shards, 2, 8, 3, seed=5).sample()
    parts = [ShardedBatches({r: shards[r]}, 2, 8, 3, seed=5).sample() for r in range(2)]
    joined = concat_batches(parts)
    assert whole["actions"].shape == (8, 3, 1)
    np.testing.assert_array_equal(whole["obs"]["x"], joined["obs"]["x"])
    np.testing.assert_array_equal(whole["actions"], joined["actions"])
    with pytest.raises(ValueError, match="multiple of the 3 processes"):
        ShardedBatches(shards, 3, 8, 3, seed=0)


def test_pretrain_learns_offline_and_the_replay_goes_on(dataset):
    """pretrain lowers the prediction loss with no env step and leaves the data in the replay."""
    path, _ = dataset
    config = apply_overrides(AgentConfig(), EXACT)
    agent = Agent.from_config(config, make_vector_env(config, 1))
    data = load_offline(str(path))
    result = pretrain(agent, data, 60, seed=0)
    losses = [r["pred_loss"] for r in result["records"]]
    assert agent.env_steps == 0 and agent.updates == 60
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    assert agent.replay.num_steps == 600


def test_two_torchrun_processes_match_one_process_on_the_same_global_batch(dataset, tmp_path):
    """torchrun with 2 CPU processes (gloo): both ranks end identical, the loss falls, and the
    weights equal a 1-process run drawing the same global batches (--shards 2) within 1e-5."""
    path, config = dataset
    two = torchrun("pretrain", "--dataset", str(path), "--config", str(config), "--steps", "25", "--episodes", "0",
                   "--out", str(tmp_path / "two"), processes=2)
    assert two.returncode == 0, two.stderr[-3000:]
    assert main(["pretrain", "--dataset", str(path), "--config", str(config), "--steps", "25", "--episodes", "0",
                 "--shards", "2", "--out", str(tmp_path / "one")]) == 0
    report = json.loads((tmp_path / "two" / "pretrain.json").read_text())
    assert report["processes"] == 2 and report["ranks_identical"] is True
    assert report["last_pred_loss"] < report["first_pred_loss"]
    a = read_checkpoint(tmp_path / "two" / "checkpoint.safetensors")
    b = read_checkpoint(tmp_path / "one" / "checkpoint.safetensors")
    for module in ("world_model", "critic", "probe"):
        for key, value in a[module].items():
            torch.testing.assert_close(value, b[module][key], rtol=0, atol=1e-5, msg=f"{module}.{key}")
    single = json.loads((tmp_path / "one" / "pretrain.json").read_text())
    assert report["last_pred_loss"] == pytest.approx(single["last_pred_loss"], rel=1e-4)


def test_the_cli_collects_a_minari_dataset_pretrains_and_evaluates(tmp_path, monkeypatch, capsys):
    """collect --format minari, then pretrain --dataset: a checkpoint and a zero-shot evaluation."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # main() puts the current folder on it
    config = apply_overrides(AgentConfig(), EXACT)
    config.save(tmp_path / "tiny.yaml")
    assert main(["collect", "--config", str(tmp_path / "tiny.yaml"), "--steps", "300", "--num-envs", "2",
                 "--format", "minari", "--out", str(tmp_path / "data")]) == 0
    folder = tmp_path / "data" / "jepa_agent" / "reach2d-random-v0"
    assert (folder / "data" / "metadata.json").is_file()
    assert main(["pretrain", "--dataset", str(folder), "--config", str(tmp_path / "tiny.yaml"), "--steps", "20",
                 "--episodes", "2", "--out", str(tmp_path / "run")]) == 0
    report = json.loads((tmp_path / "run" / "pretrain.json").read_text())
    assert report["steps"] == 300 and len(report["records"]) == 2 and 0.0 <= report["success_rate"] <= 1.0
    agent = Agent.load(tmp_path / "run" / "checkpoint.safetensors")
    assert agent.updates == 20 and parameter_digest(agent) == report["parameter_digest"]
    capsys.readouterr()
    assert main(["pretrain", "--dataset", str(tmp_path / "nowhere"), "--config", str(tmp_path / "tiny.yaml")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "nowhere" in err
