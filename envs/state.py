"""The state of a running Gymnasium env, to continue its episode in another process.

Gymnasium's MuJoCo envs pickle by their constructor arguments (``EzPickle``): a pickled env
comes back freshly built, its episode and RNG lost. :func:`env_state` instead reads, from
every layer of the wrapper chain, the attributes a step depends on (the env's RNG, a time
limit's step count, the goal, the random number streams of its spaces) and, for a MuJoCo
env, the simulator's full integration state (``mj_getState``: positions, velocities,
actuator state, warm start, controls, time). :func:`set_env_state` writes them into an env
built from the same id and options; stepping both with the same actions then gives the
same observations bit for bit.

The state is plain data (numbers, strings, numpy arrays and generators, and lists, tuples
and dicts of them), so a checkpoint stores it without pickling: attributes of other types
(an ``EnvSpec``, a renderer, the simulator itself) are made again by building the env, and
are not part of it; a space's random number stream is kept, the space itself is not.

An env with state outside its Python attributes and its ``MjData`` (a model it edits
during episodes, an external process) defines ``get_state()`` and ``set_state(state)`` on
its unwrapped class, returning and taking plain data; those are used instead of the
attributes.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

__all__ = ["env_state", "set_env_state", "take_instability"]

_FULL = mujoco.mjtState.mjSTATE_INTEGRATION


def _layers(env: gym.Env) -> list[Any]:
    """The wrapper chain from the outermost wrapper to the unwrapped env."""
    out = [env]
    while isinstance(out[-1], gym.Wrapper):
        out.append(out[-1].env)
    return out


def _plain(value: Any) -> bool:
    """Whether ``value`` is plain data: what a checkpoint stores as it is (see the module
    docstring)."""
    if value is None or isinstance(value, (bool, int, float, str, bytes, np.random.Generator)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biufU"
    if isinstance(value, np.generic):
        return value.dtype.kind in "biufU"
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return False


def _subspaces(space: gym.spaces.Space) -> Any:
    """The spaces a ``Dict`` or ``Tuple`` space holds, in order; none for the others."""
    if isinstance(space, gym.spaces.Dict):
        return space.spaces.values()
    return space.spaces if isinstance(space, gym.spaces.Tuple) else ()


def _space_streams(space: gym.spaces.Space) -> list[np.random.Generator | None]:
    """The random number streams of a space and its subspaces, in a fixed order (None where
    a space has not drawn yet)."""
    out = [space._np_random]
    for sub in _subspaces(space):
        out += _space_streams(sub)
    return out


def _set_space_streams(space: gym.spaces.Space, streams: list[np.random.Generator | None]) -> None:
    space._np_random = copy.deepcopy(streams[0])
    rest = streams[1:]
    for sub in _subspaces(space):
        n = len(_space_streams(sub))
        _set_space_streams(sub, rest[:n])
        rest = rest[n:]


def env_state(env: gym.Env) -> dict[str, Any]:
    """Everything needed to continue ``env``'s episode, as plain data (see the module docstring)."""
    layers = _layers(env)
    base = layers[-1]
    state: dict[str, Any] = {"class": type(base).__qualname__, "layers": []}
    for layer in layers:
        # copies: a snapshot must not share the env's RNG or arrays, which go on changing
        attrs, spaces = {}, {}
        for k, v in vars(layer).items():
            if k == "env":
                continue
            if isinstance(v, gym.spaces.Space):
                spaces[k] = copy.deepcopy(_space_streams(v))
            elif _plain(v):
                attrs[k] = copy.deepcopy(v)
        state["layers"].append({"class": type(layer).__qualname__, "attrs": attrs, "spaces": spaces})
    if callable(getattr(base, "get_state", None)):
        custom = base.get_state()
        if not _plain(custom):
            raise TypeError(f"{type(base).__qualname__}.get_state() must return plain data (numbers, strings, "
                            "numpy arrays and generators, lists, tuples and dicts of them)")
        state["custom"] = copy.deepcopy(custom)
    model, data = getattr(base, "model", None), getattr(base, "data", None)
    if isinstance(model, mujoco.MjModel) and isinstance(data, mujoco.MjData):
        sim = np.empty(mujoco.mj_stateSize(model, _FULL))
        mujoco.mj_getState(model, data, sim, _FULL)
        state["mujoco"] = sim
        state["mujoco_warnings"] = [int(w.number) for w in data.warning]
    return state


def set_env_state(env: gym.Env, state: dict[str, Any]) -> None:
    """Write :func:`env_state`'s result into ``env`` (built from the same id and options).

    Raises ValueError when the wrapper chain or the env class differs from the saved one.
    """
    layers = _layers(env)
    saved = [layer["class"] for layer in state["layers"]]
    ours = [type(layer).__qualname__ for layer in layers]
    if saved != ours:
        raise ValueError(f"the env's wrappers are {' > '.join(ours)}, but the saved state is of {' > '.join(saved)}")
    for layer, saved_layer in zip(layers, state["layers"], strict=True):
        for k, v in saved_layer["attrs"].items():
            setattr(layer, k, copy.deepcopy(v))
        for k, streams in saved_layer["spaces"].items():
            space = getattr(layer, k, None)
            if isinstance(space, gym.spaces.Space) and len(_space_streams(space)) == len(streams):
                _set_space_streams(space, list(streams))
    base = layers[-1]
    if "custom" in state:
        base.set_state(state["custom"])
    if "mujoco" in state:
        model, data = base.model, base.data
        mujoco.mj_setState(model, data, np.asarray(state["mujoco"], dtype=np.float64), _FULL)
        mujoco.mj_forward(model, data)
        for w, n in zip(data.warning, state.get("mujoco_warnings", ()), strict=False):
            w.number = n


_UNSTABLE = (mujoco.mjtWarning.mjWARN_BADQACC, mujoco.mjtWarning.mjWARN_BADQPOS, mujoco.mjtWarning.mjWARN_BADQVEL)


def take_instability(env: gym.Env) -> int:
    """How many times the MuJoCo simulator of ``env`` went unstable (non-finite or huge
    positions, velocities or accelerations; MuJoCo then resets the state itself) since the
    last call; the counts are cleared. 0 for an env without a MuJoCo simulator."""
    data = getattr(env.unwrapped, "data", None)
    if not isinstance(data, mujoco.MjData):
        return 0
    n = 0
    for kind in _UNSTABLE:
        w = data.warning[int(kind)]
        n += int(w.number)
        w.number = 0
    return n
