"""The state of a running Gymnasium env, to continue its episode in another process.

Gymnasium's MuJoCo envs pickle by their constructor arguments (``EzPickle``): a pickled env
comes back freshly built, its episode and RNG lost. :func:`env_state` instead reads, from
every layer of the wrapper chain, the attributes a step depends on (the env's RNG, a time
limit's step count, the goal, the random number streams of its spaces) and, for a MuJoCo
env, the simulator's full integration state (``mj_getState``: positions, velocities,
actuator state, warm start, controls, time). :func:`set_env_state` writes them into an env
built from the same id and options; stepping both with the same actions then gives the
same observations bit for bit.

An env with state outside its Python attributes and its ``MjData`` (a model it edits
during episodes, an external process) defines ``get_state()`` and ``set_state(state)`` on
its unwrapped class; those are used instead of the attributes.
"""

from __future__ import annotations

import copy
import io
import pickle
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


class _Refuse(Exception):
    pass


class _PlainPickler(pickle.Pickler):
    """Refuses values that hold a simulator or an env (a renderer holds both): restored,
    they would be copies detached from the env they came from."""

    def persistent_id(self, obj: Any) -> None:
        if isinstance(obj, (gym.Env, mujoco.MjModel, mujoco.MjData)):
            raise _Refuse
        return None


def _picklable(value: Any) -> bool:
    try:
        _PlainPickler(io.BytesIO()).dump(value)
    except Exception:  # simulators, renderers, GL contexts, open files, locks
        return False
    return True


def env_state(env: gym.Env) -> dict[str, Any]:
    """Everything needed to continue ``env``'s episode (see the module docstring)."""
    layers = _layers(env)
    base = layers[-1]
    state: dict[str, Any] = {"class": type(base).__qualname__, "layers": []}
    for layer in layers:
        # copies: a snapshot must not share the env's RNG or arrays, which go on changing
        attrs = {k: copy.deepcopy(v) for k, v in vars(layer).items() if k != "env" and _picklable(v)}
        state["layers"].append((type(layer).__qualname__, attrs))
    if callable(getattr(base, "get_state", None)):
        state["custom"] = copy.deepcopy(base.get_state())
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
    saved = [name for name, _ in state["layers"]]
    ours = [type(layer).__qualname__ for layer in layers]
    if saved != ours:
        raise ValueError(f"the env's wrappers are {' > '.join(ours)}, but the saved state is of {' > '.join(saved)}")
    for layer, (_, attrs) in zip(layers, state["layers"], strict=True):
        for k, v in attrs.items():
            setattr(layer, k, copy.deepcopy(v))
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
