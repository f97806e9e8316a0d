"""The checkpoint format (agent/checkpoint.py): data only, round trips bit for bit, one-line
errors, jepa-agent 0.1 checkpoints still load."""

from __future__ import annotations

import json
import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.actor import PlanResult
from jepa_agent.agent import Agent
from jepa_agent.agent.checkpoint import (
    FORMAT,
    LEGACY_FORMAT,
    CheckpointError,
    decode,
    encode,
    is_legacy,
    read_checkpoint,
    read_file,
    write_file,
)
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides

from .test_run_loop import TINY

REACH = "jepa_agent/Reach2D-v0"


def mixed_state() -> dict:
    gen = np.random.default_rng(7)
    gen.random(3)  # a stream part-way through
    tgen = torch.Generator().manual_seed(3)
    torch.rand(2, generator=tgen)
    return {
        "ints": {0: 1, 5: -2**70},  # int keys, a big int
        "floats": [0.5, float("nan"), float("inf"), -float("inf")],
        "tuple": (1, "a", None, True),
        "set": {3, 1, 2},
        "bytes": b"\x00\x80data",
        "arrays": [np.arange(6, dtype=np.int16).reshape(2, 3), np.array(2.5), np.zeros(3, np.uint16),
                   np.array([True, False]), np.array(["ab", "c"]), np.ones((2, 2), np.float64)[:, 0],
                   np.zeros((0, 4), np.float32)],
        "scalars": [np.float32(1.25), np.int64(-3), np.bool_(True)],
        "tensors": {"w": torch.randn(3, 4, generator=torch.Generator().manual_seed(1)), "b": torch.arange(5), "flag": torch.tensor(True),
                    "half": torch.ones(2, dtype=torch.float16), "empty": torch.zeros(0, 3)},
        "generator": gen,
        "torch_generator": tgen,
        "plan": PlanResult(actions=torch.ones(1, 3, 2), cost=torch.zeros(1), states=None, iterations=2),
        "$odd key": {"$tensor": "not a reference"},
    }


def assert_same(a, b, path="state"):
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), path
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), path
    elif isinstance(a, np.random.Generator):
        assert np.array_equal(a.random(4), b.random(4)), path  # the same stream, from where it was
    elif isinstance(a, torch.Generator):
        assert torch.equal(torch.rand(4, generator=a), torch.rand(4, generator=b)), path
    elif isinstance(a, PlanResult):
        assert_same(vars(a), vars(b), path)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


def test_encode_decode_round_trips_every_kind_of_value():
    """Numbers, containers, arrays of every stored dtype, tensors, generators (mid-stream) and a
    plan come back equal, of the same types, and the JSON tree is strict JSON."""
    state = mixed_state()
    tree, tensors = encode(state)
    text = json.dumps(tree, allow_nan=False)  # no NaN / Infinity literals
    assert_same(decode(json.loads(text), tensors), mixed_state())


def test_write_and_read_a_file_bit_for_bit(tmp_path):
    """write_file / read_file: the same state back; the kind is checked."""
    path = write_file(tmp_path / "s.safetensors", mixed_state(), kind="resume state")
    assert not is_legacy(path)
    assert_same(read_file(path, kind="resume state"), mixed_state())
    with pytest.raises(CheckpointError, match="is a jepa-agent resume state, not a checkpoint"):
        read_file(path)


def test_tensors_get_readable_names_and_copies(tmp_path):
    """Tensors are stored under their key path and copied (no storage shared with the state)."""
    w = torch.randn(2, 2)
    tree, tensors = encode({"world_model": {"encoder.net.0.weight": w, "view": w[0]}})
    assert set(tensors) == {"world_model/encoder.net.0.weight", "world_model/view"}
    assert tensors["world_model/view"].untyped_storage().data_ptr() != w.untyped_storage().data_ptr()


def test_what_is_not_data_is_refused_by_name():
    """An object array or an arbitrary object is refused at save time, naming its path."""
    with pytest.raises(CheckpointError, match=r"cannot store a/b: a numpy array of dtype object"):
        encode({"a": {"b": np.array([object()], dtype=object)}})
    with pytest.raises(CheckpointError, match=r"cannot store x/1: a builtins.object"):
        encode({"x": [1, object()]})
    with pytest.raises(CheckpointError, match="unknown numpy bit generator 'os'"):
        decode({"$np_generator": {"bit_generator": "os", "state": {}}}, {})


def test_a_header_whose_length_opens_like_a_pickle_is_still_read(tmp_path):
    """A safetensors file whose 8-byte header length begins 0x80 0x02 (a pickle's first bytes)
    is read as what it is, not refused as a pickle."""
    path = tmp_path / "s.safetensors"
    write_file(path, {"t": torch.zeros(1), "pad": ""})
    # 0x80 0x02 little-endian is a header of 0x0280 = 640 bytes; each padding character adds
    # one byte (the header is then aligned to 8): search from just below, not from 0.
    start = max(0, 0x0280 - int.from_bytes(path.read_bytes()[:8], "little") - 16)
    for pad in range(start, start + 64):
        write_file(path, {"t": torch.zeros(1), "pad": "x" * pad})
        if path.read_bytes()[:2] == b"\x80\x02":
            break
    else:
        pytest.fail("no padding gave a header length opening with 0x80 0x02")
    assert not is_legacy(path) and read_file(path)["pad"] == "x" * pad


@pytest.fixture(scope="module")
def trained():
    config = apply_overrides(AgentConfig(), {**TINY, "task.env": REACH})
    agent = Agent.from_config(config, gym.make(REACH))
    agent.train([gym.make(REACH) for _ in range(2)], 120)
    return agent


def actions_of(agent: Agent, seeds=(0, 1, 2)) -> np.ndarray:
    """The first action toward each of a few Reach2D goals, the planner's stream seeded alike."""
    env = gym.make(REACH)
    out = []
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        agent.generator.manual_seed(0)
        agent.reset(goal=info["goal_observation"])
        out.append(agent.act(obs))
    return np.stack(out)


def test_every_cut_of_a_checkpoint_is_one_line_naming_it(trained, tmp_path):
    """A checkpoint cut at any byte is refused in one line that names the file."""
    data = trained.save(tmp_path / "good.safetensors").read_bytes()
    rng = np.random.default_rng(0)
    for cut in [0, 4, 8, 9, 100, *rng.integers(10, len(data) - 1, 12)]:
        bad = tmp_path / f"cut_{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=rf"could not read checkpoint .*cut_{cut}\.safetensors") as err:
            Agent.load(bad)
        assert "\n" not in str(err.value)


def test_a_checkpoint_records_its_provenance(trained, tmp_path):
    """save writes the package version, the software and the device into the checkpoint."""
    state = read_checkpoint(trained.save(tmp_path / "c.safetensors"))
    assert state["format"] == FORMAT
    assert {"jepa_agent", "torch", "mujoco", "gymnasium", "device", "torch_threads"} <= set(state["provenance"])


def test_a_legacy_checkpoint_loads_and_acts_the_same(trained, tmp_path):
    """A jepa-agent 0.1 checkpoint (torch.save of the state, format jepa-agent/1) loads safely
    and acts as the agent it came from; its pickled resume state is refused in one line."""
    state = trained.state_dict()
    old = {**state, "format": LEGACY_FORMAT}
    torch.save(old, tmp_path / "checkpoint.pt")
    assert is_legacy(tmp_path / "checkpoint.pt")
    loaded = Agent.load(tmp_path / "checkpoint.pt")
    np.testing.assert_array_equal(actions_of(loaded), actions_of(trained))
    again = Agent.load(loaded.save(tmp_path / "converted.safetensors"))  # resaving converts it
    np.testing.assert_array_equal(actions_of(again), actions_of(trained))
    (tmp_path / "checkpoint.resume").mkdir()
    for name in ("x.replay.npz", "x.loop.pt"):
        (tmp_path / "checkpoint.resume" / name).write_bytes(b"old")
    old["resume"] = {"replay": "checkpoint.resume/x.replay.npz", "loop": "checkpoint.resume/x.loop.pt"}
    old["training"] = {}
    torch.save(old, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="saved by jepa-agent 0.1, whose resume state x.loop.pt is a pickle") as err:
        Agent.load(tmp_path / "checkpoint.pt", resume=True)
    assert "\n" not in str(err.value)


def small_features(width: int = 8) -> torch.nn.Module:
    """A frozen encoder's factory: Reach2D's observation vector (8,) to ``width`` features."""
    return torch.nn.Sequential(torch.nn.Linear(8, width), torch.nn.Tanh())


def test_a_config_that_calls_code_needs_trust(tmp_path):
    """A checkpoint whose config builds a frozen encoder by calling a factory is refused without
    trust_code=True; with it, the agent loads and acts as the one saved."""
    over = {**{k: v for k, v in TINY.items() if not k.startswith("encoder.")}, "task.env": REACH, "encoder.name": "frozen",
            "encoder.options": {"factory": f"{__name__}:small_features", "key": "observation"}}
    agent = Agent.from_config(apply_overrides(AgentConfig(), over), gym.make(REACH))
    path = agent.save(tmp_path / "f.safetensors")
    with pytest.raises(CheckpointError, match=rf"names code to call \(encoder.options.factory={__name__}:small_features\)") as err:
        Agent.load(path)
    assert "trust_code=True" in str(err.value) and "\n" not in str(err.value)
    np.testing.assert_array_equal(actions_of(Agent.load(path, trust_code=True)), actions_of(agent))


def test_show_needs_trust_code_for_such_a_checkpoint_and_prints_provenance(tmp_path, capsys):
    """`jepa-agent show` refuses a config that calls code without --trust-code (exit 1, one
    line), and with it prints the summary and the provenance the checkpoint was saved with."""
    from jepa_agent.agent.app.cli import main

    over = {**{k: v for k, v in TINY.items() if not k.startswith("encoder.")}, "task.env": REACH, "encoder.name": "frozen",
            "encoder.options": {"factory": f"{__name__}:small_features", "key": "observation"}}
    path = Agent.from_config(apply_overrides(AgentConfig(), over), gym.make(REACH)).save(tmp_path / "f.safetensors")
    assert main(["show", str(path), "--json"]) == 1
    err = capsys.readouterr().err
    assert "--trust-code" in err and len(err.strip().splitlines()) == 1
    assert main(["show", str(path), "--json", "--trust-code"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["provenance"]["jepa_agent"] and info["config"]["encoder"]["name"] == "frozen"
