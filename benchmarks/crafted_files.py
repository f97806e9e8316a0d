"""Crafted files: a pickle that would run a shell command, planted in every kind of file
the library reads. None may run; each must fail in one line naming the file.

    python -m benchmarks.crafted_files --json runs/crafted_files.json

Each case writes a file whose unpickling would create a marker file (a ``__reduce__`` that
calls ``os.system``), hands it to the reader a user would call, and checks that the marker
was not created and that the error is one line naming the file. The kinds of file:
checkpoints, resume states, replay buffers, frozen-encoder weights and modules, Minari
datasets, and the model folders of ``save_pretrained``. ``tests/test_malicious_files.py``
runs the same cases; ``benchmarks.reliability`` reports them with its other checks.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from benchmarks import common
from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.agent.app.dataset import fill_replay, load_minari, write_minari
from jepa_agent.agent.checkpoint import FORMAT, read_checkpoint, write_file
from jepa_agent.memory import ReplayBuffer
from jepa_agent.perception import FrozenEncoder, FrozenEncoderConfig

REACH = common.REACH


class Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def prepare(folder: Path) -> Path:
    """A trained tiny agent saved in ``folder`` with its resume state and as a model folder:
    the good files the cases tamper with."""
    folder.mkdir(parents=True, exist_ok=True)
    agent = common.tiny_agent(120)
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


KINDS = {
    "checkpoint": "checkpoint", "resume": "resume state", "replay": "replay buffer", "frozen": "frozen encoder",
    "minari": "Minari dataset", "pretrained": "model folder",
}
"""Case name prefix -> the kind of file it plants its payload in."""


def kind_of(case: Callable) -> str:
    name = case.__name__.removeprefix("case_")
    return next(kind for prefix, kind in KINDS.items() if name.startswith(prefix))


def check(case: Callable, saved: Path, tmp: Path) -> dict[str, Any]:
    """Run one case in ``tmp``: whether the payload ran, and the error it raised."""
    tmp.mkdir(parents=True, exist_ok=True)
    marker = tmp / "ran"
    read = case(saved, tmp, marker)
    error: BaseException | None = None
    try:
        read()
    except Exception as err:  # every reader's error is a result here, not a crash
        error = err
    message = "" if error is None else str(error)
    return {
        "case": case.__name__.removeprefix("case_"), "kind": kind_of(case), "ran": marker.exists(),
        "refused": error is not None, "error": None if error is None else type(error).__name__,
        "one_line": bool(message.strip()) and "\n" not in message.strip(), "names_file": str(tmp) in message,
        "message": message,
    }


def run(folder: Path) -> dict[str, Any]:
    """Every case, each in its own folder under ``folder``; the counts and the records."""
    saved = prepare(folder / "good")
    records = [check(case, saved, folder / f"case_{i}") for i, case in enumerate(CASES)]
    clear = [r for r in records if not r["ran"] and r["refused"] and r["one_line"] and r["names_file"]]
    return {
        "crafted_files_tried": len(records),
        "crafted_files_ran": sum(r["ran"] for r in records),
        "crafted_files_clear_error": len(clear),
        "crafted_files_kinds": sorted({r["kind"] for r in records}),
        "crafted_files": records,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = common.parser(__doc__, full=True, json_out="optional").parse_args(argv)
    common.setup()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp))
    for r in result["crafted_files"]:
        print(f"{r['kind']:16s} {r['case']:32s} ran={r['ran']!s:5s} one_line={r['one_line']!s:5s} {r['message'][:90]}")
    print(f"{result['crafted_files_tried']} crafted files across {len(result['crafted_files_kinds'])} kinds: "
          f"{result['crafted_files_ran']} ran, {result['crafted_files_clear_error']} refused in one line naming the file")
    if args.json:
        common.write_json(args.json, result)
    ok = result["crafted_files_ran"] == 0 and result["crafted_files_clear_error"] == result["crafted_files_tried"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
