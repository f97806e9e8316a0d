"""Every file the library reads is data: a crafted pickle in any of them runs nothing.

Each case writes a file whose unpickling would create a marker file (a ``__reduce__`` that
calls ``os.system``), hands it to the reader a user would call, and checks that the marker
was not created and that the error is one line naming the file. The five kinds of file:
checkpoints, resume states, replay buffers, frozen-encoder weights and modules, Minari
datasets (and the shareable model folders of ``save_pretrained``).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.agent.checkpoint import FORMAT, write_file
from jepa_agent.agent.configs import apply_overrides
from jepa_agent.agent.dataset import fill_replay, load_minari, write_minari
from jepa_agent.configurator import AgentConfig
from jepa_agent.memory import ReplayBuffer
from jepa_agent.perception import FrozenEncoder, FrozenEncoderConfig

from .agent.test_run_loop import TINY

REACH = "jepa_agent/Reach2D-v0"


class Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A trained tiny agent saved with its resume state."""
    folder = tmp_path_factory.mktemp("good")
    config = apply_overrides(AgentConfig(), {**TINY, "task.env": REACH})
    agent = Agent.from_config(config, gym.make(REACH))
    agent.train([gym.make(REACH) for _ in range(2)], 120)
    agent.save(folder / "checkpoint.safetensors", resume=True)
    agent.save_pretrained(folder / "model")
    return folder


def evil_pickle(path: Path, marker: Path, *, wrap: Callable[[Payload], object] = lambda p: p) -> Path:
    path.write_bytes(pickle.dumps(wrap(Payload(marker))))
    return path


def evil_torch(path: Path, marker: Path, *, wrap: Callable[[Payload], object] = lambda p: p) -> Path:
    torch.save(wrap(Payload(marker)), path)
    return path


def copy_run(saved: Path, dest: Path) -> Path:
    shutil.copytree(saved, dest)
    return dest / "checkpoint.safetensors"


def case_checkpoint_raw_pickle(saved, tmp, marker):
    return lambda: Agent.load(evil_pickle(tmp / "checkpoint.safetensors", marker))


def case_checkpoint_torch_zip(saved, tmp, marker):
    return lambda: Agent.load(evil_torch(tmp / "checkpoint.pt", marker))


def case_checkpoint_legacy_nested(saved, tmp, marker):
    """A jepa-agent 0.1 layout with the payload among its optimiser states."""
    def wrap(p):
        return {"format": "jepa-agent/1", "config": {}, "optimizers": {"world_model": p}}
    return lambda: Agent.load(evil_torch(tmp / "old.pt", marker, wrap=wrap))


def case_checkpoint_names_a_class(saved, tmp, marker):
    """A well-formed file whose JSON names a callable as a dataclass and as a bit generator."""
    path = tmp / "named.safetensors"
    write_file(path, {"format": FORMAT, "x": 1})
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header["__metadata__"]["state"] = json.dumps({"format": FORMAT, "a": {"$dataclass": "system", "fields": {
        "command": f"touch {marker}"}}, "b": {"$np_generator": {"bit_generator": "system"}}})
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + data[8 + n:])
    return lambda: Agent.load(path)


def resumed_with(saved: Path, tmp: Path, side_file: str, plant: Callable[[Path, Path], Path], marker: Path):
    """Resuming a copy of the saved run whose side file ``side_file`` (a glob) was replaced."""
    ckpt = copy_run(saved, tmp / "run")
    plant(next((ckpt.parent / "checkpoint.resume").glob(side_file)), marker)
    return lambda: Agent.load(ckpt, resume=True)


def case_resume_state_pickle(saved, tmp, marker):
    return resumed_with(saved, tmp, "*.loop.safetensors", evil_pickle, marker)


def case_resume_state_torch_zip(saved, tmp, marker):
    return resumed_with(saved, tmp, "*.loop.safetensors", evil_torch, marker)


def case_replay_object_array(saved, tmp, marker):
    """A real replay file with one of its arrays replaced by a pickled object array."""
    good = next((saved / "checkpoint.resume").glob("*.replay.npz"))
    with np.load(good) as data:
        arrays = {k: data[k] for k in data.files}
    victim = next(k for k in arrays if k != "meta")
    arrays[victim] = np.array([Payload(marker)], dtype=object)
    path = tmp / "replay.npz"
    np.savez(path, **arrays)
    return lambda: ReplayBuffer.load(path)


def case_replay_raw_pickle(saved, tmp, marker):
    return lambda: ReplayBuffer.load(evil_pickle(tmp / "replay.npz", marker))


def case_resume_replay_pickle(saved, tmp, marker):
    return resumed_with(saved, tmp, "*.replay.npz", evil_pickle, marker)


def case_frozen_module_without_trust(saved, tmp, marker):
    path = evil_torch(tmp / "module.pt", marker)
    return lambda: FrozenEncoder(FrozenEncoderConfig(path=str(path)), input_shapes={"observation": (4,)})


def case_frozen_export_without_trust(saved, tmp, marker):
    path = evil_torch(tmp / "module.pt2", marker)
    return lambda: FrozenEncoder(FrozenEncoderConfig(path=str(path)), input_shapes={"observation": (4,)})


def case_frozen_state_dict(saved, tmp, marker):
    path = evil_torch(tmp / "weights.pt", marker, wrap=lambda p: {"weight": p})
    cfg = FrozenEncoderConfig(factory="torch.nn:Identity", path=str(path))
    return lambda: FrozenEncoder(cfg, input_shapes={"observation": (4,)})


def case_checkpoint_config_calls_a_factory(saved, tmp, marker):
    """A checkpoint whose config builds a frozen encoder by calling ``subprocess:getoutput``."""
    from jepa_agent.agent.checkpoint import read_checkpoint

    state = read_checkpoint(saved / "checkpoint.safetensors")
    state["config"]["encoder"] = {"name": "frozen", "options": {
        "factory": "subprocess:getoutput", "factory_kwargs": {"cmd": f"touch {marker}"}}}
    path = tmp / "factory.safetensors"
    write_file(path, {k: v for k, v in state.items() if k not in ("resume", "training")})
    return lambda: Agent.load(path)


def minari_dataset(tmp: Path) -> Path:
    replay = ReplayBuffer()
    obs = {"observation": np.zeros((4, 3), np.float32)}
    replay.add_episode(obs, np.zeros((3, 2), np.float32), np.zeros(3, np.float32), {"observation": np.zeros(3, np.float32)})
    space = gym.spaces.Dict({"observation": gym.spaces.Box(-1, 1, (3,), np.float32)})
    return write_minari(replay, "evil/data-v0", observation_space=space,
                        action_space=gym.spaces.Box(-1, 1, (2,), np.float32), path=tmp)


def case_minari_data_file(saved, tmp, marker):
    folder = minari_dataset(tmp)
    for f in (folder / "data").iterdir():
        if f.name != "metadata.json":
            evil_pickle(f, marker)
    return lambda: fill_replay(ReplayBuffer(), load_minari(folder))


def case_minari_metadata(saved, tmp, marker):
    folder = minari_dataset(tmp)
    evil_pickle(folder / "data" / "metadata.json", marker)
    return lambda: fill_replay(ReplayBuffer(), load_minari(folder))


def case_pretrained_weights(saved, tmp, marker):
    folder = tmp / "model"
    shutil.copytree(saved / "model", folder)
    evil_torch(folder / "model.safetensors", marker)
    return lambda: Agent.from_pretrained(folder)


CASES = [
    case_checkpoint_raw_pickle, case_checkpoint_torch_zip, case_checkpoint_legacy_nested,
    case_checkpoint_names_a_class, case_checkpoint_config_calls_a_factory,
    case_resume_state_pickle, case_resume_state_torch_zip,
    case_replay_object_array, case_replay_raw_pickle, case_resume_replay_pickle,
    case_frozen_module_without_trust, case_frozen_export_without_trust, case_frozen_state_dict,
    case_minari_data_file, case_minari_metadata,
    case_pretrained_weights,
]


def test_the_payload_does_run_when_unpickled(tmp_path):
    """The crafted payload is live: plain unpickling creates the marker (so the cases below can fail)."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.removeprefix("case_") for c in CASES])
def test_a_crafted_file_runs_nothing_and_fails_in_one_line(case, saved, tmp_path):
    """Reading a crafted file never runs its payload; the error is one line."""
    marker = tmp_path / "ran"
    read = case(saved, tmp_path, marker)
    with pytest.raises((ValueError, OSError)) as err:
        read()
    assert not marker.exists(), f"{case.__name__}: the payload ran"
    message = str(err.value)
    assert message and "\n" not in message.strip(), f"{case.__name__}: {message!r}"
    assert str(tmp_path) in message, f"{case.__name__} does not name the file: {message!r}"


def test_the_cli_refuses_a_crafted_checkpoint_in_one_line(tmp_path):
    """``jepa-agent show evil.pt``: exit 1, one stderr line, the payload not run."""
    marker = tmp_path / "ran"
    evil = evil_torch(tmp_path / "evil.pt", marker)
    done = subprocess.run([sys.executable, "-m", "jepa_agent", "show", str(evil)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "MUJOCO_GL": "egl"})
    assert done.returncode != 0 and not marker.exists()
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "evil.pt" in lines[0] and "not opened" in lines[0], done.stderr
