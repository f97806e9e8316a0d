"""The checkpoint format: data only, never code.

A checkpoint, and the running episodes a resumable one keeps beside it, is one
`safetensors <https://huggingface.co/docs/safetensors>`_ file: every tensor and array under
a readable name (``world_model/encoder.net.0.weight``), and one JSON document in its
metadata that holds everything else as plain values (the config, shapes, counters, RNG
states, optimiser hyper-parameters) and refers to the tensors by name. Reading one parses
JSON and copies bytes: nothing in the file is imported, called or unpickled, so a shared
checkpoint cannot run code when it is opened.

:func:`encode` / :func:`decode` translate a nested state (dicts, lists, tuples, numbers,
strings, tensors, numpy arrays and scalars, numpy generators, torch generators and the
planner's :class:`~jepa_agent.actor.PlanResult`) into that JSON tree and its tensors and
back, bit for bit. Anything else is refused by name when it is written, not silently
pickled: a planner or env that keeps other objects in its state says so at save time.

Files written by jepa-agent 0.1 (``torch.save`` pickles, format ``jepa-agent/1``) are read
with ``torch.load(weights_only=True)``, which refuses every object that is not a tensor or a
plain container; their resume states (arbitrary pickled objects) are not read at all.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import struct
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from jepa_agent.actor import PlanResult
from jepa_agent.configurator import AgentConfig
from jepa_agent.memory import atomic_write

if TYPE_CHECKING:
    from jepa_agent.agent.agent import Agent

A = TypeVar("A", bound="Agent")

__all__ = [
    "FORMAT",
    "LEGACY_FORMAT",
    "CheckpointError",
    "atomic_write",
    "decode",
    "encode",
    "is_legacy",
    "read_checkpoint",
    "read_file",
    "restore_agent",
    "write_file",
]

FORMAT = "jepa-agent/2"
"""The format tag in the metadata of every file this module writes."""
LEGACY_FORMAT = "jepa-agent/1"
"""The tag of jepa-agent 0.1's pickled checkpoints."""

_MAX_HEADER = 100 * 2**20  # safetensors' own limit on the JSON header
# Dataclasses a state may hold, by name: the only classes a file can name, and only to fill
# in their fields (their constructors take plain values and run nothing else).
_DATACLASSES: dict[str, type] = {"PlanResult": PlanResult}
# numpy bit generators a Generator's state may name.
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class CheckpointError(ValueError):
    """A file that is not a checkpoint of this format, or a value that cannot be stored.
    Its message is one line that names the file (or the entry) and what to do."""


# --------------------------------------------------------------------------- the JSON tree
def encode(value: Any, prefix: str = "") -> tuple[Any, dict[str, torch.Tensor]]:
    """A nested state as (a JSON-able tree, the tensors it refers to by name).

    Tensor names are the path of keys to them, joined by ``/`` under ``prefix``. Tensors are
    copied to the CPU (a copy that shares no storage with the state, as safetensors needs);
    the tree remembers each tensor's device and each array's dtype.

    Raises:
        CheckpointError: a value of a type the format does not store (named by its path).
    """
    tensors: dict[str, torch.Tensor] = {}

    def name_for(path: list[str]) -> str:
        name = "/".join([prefix, *path] if prefix else path) or "value"
        base, n = name, 1
        while name in tensors:
            name, n = f"{base}#{n}", n + 1
        return name

    def enc(x: Any, path: list[str]) -> Any:
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, int):
            return x
        if isinstance(x, float):
            return x if math.isfinite(x) else {"$float": repr(x)}
        if isinstance(x, torch.Tensor):
            name = name_for(path)
            tensors[name] = x.detach().to("cpu", copy=True).contiguous()
            return {"$tensor": name, "device": x.device.type}
        if isinstance(x, np.ndarray):
            if x.dtype.kind in "biuf" or x.dtype == np.bool_:
                name = name_for(path)
                tensors[name] = torch.from_numpy(np.array(x, copy=True, order="C"))
                return {"$ndarray": name, "dtype": x.dtype.str}
            if x.dtype.kind == "U":
                return {"$strarray": x.tolist(), "dtype": x.dtype.str, "shape": list(x.shape)}
            raise CheckpointError(f"cannot store {'/'.join(path) or 'the value'}: a numpy array of dtype "
                                  f"{x.dtype} (only numbers, booleans and strings are stored as data)")
        if isinstance(x, np.generic):
            return {"$npscalar": enc(x.item(), path), "dtype": x.dtype.str}
        if isinstance(x, dict):
            items = [(k, enc(v, [*path, str(k)])) for k, v in x.items()]
            if all(isinstance(k, str) and not k.startswith("$") for k, _ in items):
                return dict(items)
            return {"$dict": [[enc(k, [*path, "key"]), v] for k, v in items]}
        if isinstance(x, list):
            return [enc(v, [*path, str(i)]) for i, v in enumerate(x)]
        if isinstance(x, tuple):
            return {"$tuple": [enc(v, [*path, str(i)]) for i, v in enumerate(x)]}
        if isinstance(x, (set, frozenset)):
            return {"$set": [enc(v, [*path, str(i)]) for i, v in enumerate(sorted(x))]}
        if isinstance(x, bytes):
            return {"$bytes": base64.b64encode(x).decode("ascii")}
        if isinstance(x, np.random.Generator):
            return {"$np_generator": enc(x.bit_generator.state, [*path, "state"])}
        if isinstance(x, torch.Generator):
            return {"$torch_generator": enc(x.get_state(), path), "device": x.device.type}
        if is_dataclass(x) and type(x).__name__ in _DATACLASSES and type(x) is _DATACLASSES[type(x).__name__]:
            return {"$dataclass": type(x).__name__,
                    "fields": {f.name: enc(getattr(x, f.name), [*path, f.name]) for f in fields(x)}}
        raise CheckpointError(
            f"cannot store {'/'.join(path) or 'the value'}: a {type(x).__module__}.{type(x).__qualname__} "
            "(a checkpoint holds tensors, arrays, numbers, strings and lists, tuples and dicts of them)"
        )

    return enc(value, []), tensors


def decode(tree: Any, tensors: Mapping[str, torch.Tensor], *, device: torch.device | str | None = None) -> Any:
    """:func:`encode`'s inverse. Tensors saved from an accelerator go to ``device`` (None:
    the CPU); tensors saved from the CPU stay there.

    Raises:
        CheckpointError: a tree that refers to a missing tensor or holds an unknown tag.
    """
    target = torch.device(device) if device is not None else torch.device("cpu")

    def tensor(name: Any) -> torch.Tensor:
        if not isinstance(name, str) or name not in tensors:
            raise CheckpointError(f"the file refers to a tensor {name!r} it does not hold")
        return tensors[name]

    def dec(x: Any) -> Any:
        if isinstance(x, list):
            return [dec(v) for v in x]
        if not isinstance(x, dict):
            return x
        if "$tensor" in x:
            t = tensor(x["$tensor"])
            return t if x.get("device", "cpu") == "cpu" else t.to(target)
        if "$ndarray" in x:
            return tensor(x["$ndarray"]).numpy().astype(np.dtype(x["dtype"]), copy=True)
        if "$strarray" in x:
            return np.array(x["$strarray"], dtype=np.dtype(x["dtype"])).reshape(x["shape"])
        if "$npscalar" in x:
            return np.dtype(x["dtype"]).type(dec(x["$npscalar"]))
        if "$float" in x:
            return float(x["$float"])
        if "$dict" in x:
            return {_hashable(dec(k)): dec(v) for k, v in x["$dict"]}
        if "$tuple" in x:
            return tuple(dec(v) for v in x["$tuple"])
        if "$set" in x:
            return {_hashable(dec(v)) for v in x["$set"]}
        if "$bytes" in x:
            return base64.b64decode(x["$bytes"])
        if "$np_generator" in x:
            state = dec(x["$np_generator"])
            kind = state.get("bit_generator") if isinstance(state, dict) else None
            if kind not in _BIT_GENERATORS:
                raise CheckpointError(f"unknown numpy bit generator {kind!r}; known: {', '.join(_BIT_GENERATORS)}")
            gen = np.random.Generator(getattr(np.random, kind)())
            gen.bit_generator.state = state
            return gen
        if "$torch_generator" in x:
            dev = target if x.get("device", "cpu") != "cpu" else torch.device("cpu")
            gen = torch.Generator(device=dev)
            gen.set_state(dec(x["$torch_generator"]))
            return gen
        if "$dataclass" in x:
            cls = _DATACLASSES.get(x["$dataclass"])
            if cls is None:
                raise CheckpointError(f"the file names a class {x['$dataclass']!r} that a checkpoint may not hold")
            return cls(**{k: dec(v) for k, v in x["fields"].items()})
        tags = [k for k in x if k.startswith("$")]
        if tags:
            raise CheckpointError(f"the file holds an unknown entry {tags[0]!r} (written by a newer jepa-agent?)")
        return {k: dec(v) for k, v in x.items()}

    return dec(tree)


def _hashable(key: Any) -> Any:
    # JSON has no tuples: a tuple key comes back as a tuple (the tree tags it), lists as tuples
    return tuple(key) if isinstance(key, list) else key


# --------------------------------------------------------------------------- files
def write_file(path: str | Path, state: Any, *, kind: str = "checkpoint") -> Path:
    """Write ``state`` (see :func:`encode`) to ``path`` as a safetensors file, atomically.
    ``kind`` is recorded in the metadata and checked by :func:`read_file`."""
    from safetensors.torch import save

    path = Path(path)
    tree, tensors = encode(state)
    metadata = {"format": FORMAT, "kind": kind, "state": json.dumps(tree, separators=(",", ":"))}
    data = save(tensors, metadata=metadata)
    atomic_write(path, lambda f: f.write(data))
    return path


def is_legacy(path: str | Path) -> bool:
    """Whether ``path`` is a ``torch.save`` file (a zip archive or a bare pickle): jepa-agent
    0.1's format, or not a checkpoint of ours at all."""
    with open(path, "rb") as f:
        head = f.read(9)
    return _is_pickle(head, Path(path).stat().st_size)


def _is_pickle(head: bytes, size: int) -> bool:
    """A zip archive (``torch.save``) or a pickle (protocol 2-5 opens with 0x80 and its
    number), and not a safetensors file (8 bytes of header length that fit the file, then
    ``{``), whose length may happen to open with the same bytes."""
    if len(head) >= 9 and head[8:9] == b"{" and 8 + struct.unpack("<Q", head[:8])[0] <= size:
        return False
    return head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"))


def read_file(path: str | Path, *, kind: str = "checkpoint", device: torch.device | str | None = None) -> Any:
    """The state :func:`write_file` wrote to ``path`` (tensors of accelerators on ``device``).

    Only JSON is parsed and tensor bytes copied. Raises :class:`CheckpointError` (one line)
    for a file that is not such a file, is of another ``kind``, or is cut short; and
    FileNotFoundError for a missing one.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {kind} at {path}")
    data = path.read_bytes()
    metadata = _metadata(data, path, kind)
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"could not read {kind} {path}: a safetensors file, but not of format {FORMAT!r} "
                              f"(its format: {metadata.get('format')!r})")
    if metadata.get("kind") != kind:
        raise CheckpointError(f"could not read {kind} {path}: it is a jepa-agent {metadata.get('kind')}, not a {kind}")
    try:
        tree = json.loads(metadata["state"])
        tensors = load(data)
    except (KeyError, ValueError, SafetensorError) as err:
        raise CheckpointError(f"could not read {kind} {path}: it is cut short or damaged ({' '.join(str(err).split())})") from None
    try:
        return decode(tree, tensors, device=device)
    except CheckpointError as err:
        raise CheckpointError(f"could not read {kind} {path}: {err}") from None


def _metadata(data: bytes, path: Path, kind: str) -> dict[str, str]:
    """The metadata of a safetensors file, read from its header alone (8 bytes of length,
    then JSON)."""
    if _is_pickle(data[:9], len(data)):
        raise CheckpointError(
            f"could not read {kind} {path}: it is a torch.save pickle, not a safetensors file of format {FORMAT}; "
            "it is not opened, since unpickling can run code"
        )
    if len(data) < 8:
        raise CheckpointError(f"could not read {kind} {path}: {len(data)} bytes, too short for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(_MAX_HEADER, len(data) - 8):
        raise CheckpointError(f"could not read {kind} {path}: no safetensors header (not such a file, or cut short)")
    try:
        header = json.loads(data[8:8 + n])
        metadata = header.get("__metadata__", {}) if isinstance(header, dict) else None
    except (UnicodeDecodeError, ValueError):
        metadata = None
    if not isinstance(metadata, dict):
        raise CheckpointError(f"could not read {kind} {path}: no safetensors header (not valid JSON)")
    return metadata


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The state an agent checkpoint holds (:meth:`Agent.state_dict`'s, with what
    :meth:`Agent.save` adds): this format, or jepa-agent 0.1's pickles read with
    ``torch.load(weights_only=True)`` (tensors and plain containers only; anything else in
    the file is refused unread).

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: not a jepa-agent checkpoint (one line, naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = _read_legacy(path) if is_legacy(path) else read_file(path)
    if not isinstance(state, dict) or state.get("format") not in (FORMAT, LEGACY_FORMAT):
        raise CheckpointError(f"could not read checkpoint {path}: not a jepa-agent checkpoint (format {FORMAT!r})")
    return state


def _read_legacy(path: Path) -> Any:
    """A jepa-agent 0.1 checkpoint: ``torch.save`` of tensors and plain values, read by
    torch's weights-only unpickler, which calls nothing the file names."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        named = []
        with contextlib.suppress(Exception):  # reads the pickle's opcodes; runs nothing
            named = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        what = f" (it names {', '.join(named[:3])})" if named else ""
        raise CheckpointError(
            f"could not read checkpoint {path}: a torch.save pickle that holds more than tensors and plain "
            f"values{what}; it is not opened, since unpickling it could run code (checkpoints are safetensors files)"
        ) from None


# --------------------------------------------------------------------------- agents
def restore_agent(cls: type[A], state: dict[str, Any], path: Path, *, device: str | None, trust_code: bool,
                  world_model_options: Mapping[str, Any] | None) -> A:
    """The agent (of class ``cls``) a checkpoint's state describes, its weights and optimiser
    moments loaded (``path`` names the source in errors); a config that names code to call
    is refused unless ``trust_code``."""
    code = _code_in_config(state["config"])
    if code and not trust_code:
        raise CheckpointError(
            f"{path}'s config names code to call ({', '.join(code)}): load it with trust_code=True "
            "(--trust-code) only if you trust where the file came from"
        )
    config = AgentConfig.model_validate(state["config"])
    if world_model_options:
        wm = config.world_model
        config = AgentConfig.model_validate(config.model_copy(update={"world_model": wm.model_copy(
            update={"options": {**wm.options, **world_model_options}})}).model_dump())  # checked whole
    if device is not None:
        config = config.model_copy(update={"device": device})
    agent = cls(
        config,
        input_shapes=state["input_shapes"],
        action_low=np.asarray(state["action_low"]),
        action_high=np.asarray(state["action_high"]),
        hwc_keys=state.get("hwc_keys", ()),
        goal_observation=state.get("goal_observation", True),
    )
    modules = [("world_model", agent.world_model), ("critic", agent.critic), ("policy", agent.policy),
               ("probe", agent.probe), ("task_cost", agent.task_cost), ("goal_encoder", agent.goal_encoder),
               ("coarse_world_model", agent.coarse_model)]
    if agent.critic is not None:
        modules.append(("critic_target", agent.critic._target()))
    for name, module in modules:
        if module is not None:
            _load_weights(module, state.get(name), name, path)
    agent.learner.load_state_dict(state["optimizers"], path)
    agent.updates, agent.env_steps = state["updates"], state["env_steps"]
    return agent


def _code_in_config(config: Any, where: str = "") -> list[str]:
    """The entries of a config (as saved) that would call code named in it: a ``factory``
    (a frozen encoder's constructor) or ``trust_code: true``."""
    found = []
    if isinstance(config, Mapping):
        for key, value in config.items():
            here = f"{where}.{key}" if where else str(key)
            if (key == "factory" and value) or (key == "trust_code" and value is True):
                found.append(f"{here}={value}")
            else:
                found += _code_in_config(value, here)
    elif isinstance(config, list):
        for i, value in enumerate(config):
            found += _code_in_config(value, f"{where}[{i}]")
    return found


def _load_weights(module: torch.nn.Module, weights: Mapping[str, Any] | None, name: str, path: Path) -> None:
    """Load one module's weights; a missing entry or a shape that differs is one line naming
    the module and the shapes (torch's message lists every mismatch over several lines)."""
    if weights is None:
        raise ValueError(f"{path} has no {name} weights, but its config builds one")
    own = module.state_dict()
    for key, value in weights.items():
        mine = own.get(key)
        if hasattr(mine, "shape") and hasattr(value, "shape") and tuple(mine.shape) != tuple(value.shape):
            raise ValueError(
                f"{path}: {name}.{key} has shape {tuple(value.shape)} in the checkpoint but "
                f"{tuple(mine.shape)} in the {name} its config builds"
            )
    try:
        module.load_state_dict(weights)
    except RuntimeError as err:
        raise ValueError(f"{path}: the {name} weights do not fit: {' '.join(str(err).split())}") from err
