"""What the agent takes from an env: Gymnasium's contract, checked before the first step.

Nothing beyond the Gymnasium API is required. From the spaces the agent takes:

* the observation: a flat ``Box`` (a state vector) becomes ``{"observation": obs}``; a ``uint8``
  image ``Box`` (``(H, W, C)`` or ``(C, H, W)``) becomes ``{"pixels": (C, H, W)}``; a ``Dict``
  is taken as it is, its image entries turned channels-first;
* the action: a 1-D ``Box`` with finite bounds;
* the goal, for goal tasks: the env's ``goal_observation()`` (or ``info["goal_observation"]``)
  where it has one, else the ``desired_goal`` entry of the observation.

``info["is_success"]`` (or ``info["success"]``) and ``info["distance"]`` are used where an env
gives them and never needed. Anything else is refused here, with the space named and what
is supported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SUPPORTED_OBSERVATIONS", "EnvInterface", "adapt_observation", "inspect_env", "success_of"]

SUPPORTED_OBSERVATIONS = (
    "a Box observation (a 1-D state vector, or a uint8 image (H, W, C) or (C, H, W)), "
    "or a Dict of such Boxes"
)
SUPPORTED_ACTIONS = "a 1-D Box action space with finite bounds"
_CHANNELS = (1, 3, 4)


@dataclass(frozen=True)
class EnvInterface:
    """What the agent reads from an env's spaces (see the module docstring)."""

    input_shapes: dict[str, tuple[int, ...]]
    """The observation entries as the agent's modules see them (images channels-first)."""
    hwc_keys: tuple[str, ...]
    """Image entries the env gives channels-last, transposed to (C, H, W) on the way in."""
    action_low: np.ndarray
    action_high: np.ndarray
    has_goal_observation: bool
    """The env offers ``goal_observation()`` (the goal as an observation)."""


def _image_layout(shape: tuple[int, ...]) -> str | None:
    """``"hwc"``, ``"chw"`` or None (not an image shape)."""
    if len(shape) != 3:
        return None
    if shape[-1] in _CHANNELS and shape[0] not in _CHANNELS:
        return "hwc"
    if shape[0] in _CHANNELS or shape[0] % 3 == 0:  # frame stacks are 3k channels first
        return "chw"
    return "hwc" if shape[-1] in _CHANNELS else None


def _entry(name: str, space: Any) -> tuple[tuple[int, ...], bool]:
    """(shape as the agent sees it, whether it is channels-last) of one Box entry."""
    shape = getattr(space, "shape", None)
    dtype = getattr(space, "dtype", None)
    if type(space).__name__ != "Box" or shape is None:
        raise ValueError(f"observation {name} is {space!r}; supported: {SUPPORTED_OBSERVATIONS}")
    if len(shape) == 1:
        return tuple(shape), False
    layout = _image_layout(tuple(shape))
    if layout is not None and np.dtype(dtype) == np.uint8:
        if layout == "hwc":
            h, w, c = shape
            return (c, h, w), True
        return tuple(shape), False
    raise ValueError(
        f"observation {name} is {space!r} ({len(shape)}-D {np.dtype(dtype)}); supported: {SUPPORTED_OBSERVATIONS}"
    )


def inspect_env(env: Any) -> EnvInterface:
    """Check an env (or anything with Gymnasium spaces; of a vector env or a list of envs,
    the first) and say what the agent takes from it."""
    from gymnasium.vector import VectorEnv

    if isinstance(env, (list, tuple)) and env:  # envs stepped together: they share one interface
        return inspect_env(env[0])
    if isinstance(env, VectorEnv):
        sub = getattr(env, "envs", None)  # SyncVectorEnv's envs live here
        if sub:
            return inspect_env(sub[0])
        fns = getattr(env, "env_fns", None)  # AsyncVectorEnv's live in workers: build one here
        if fns:
            one = fns[0]()
            try:
                return inspect_env(one)
            finally:
                one.close()
        # another vector env: its single-env spaces (a goal_observation() is not seen from here)
        import types

        return inspect_env(types.SimpleNamespace(
            observation_space=env.single_observation_space, action_space=env.single_action_space
        ))
    obs_space = getattr(env, "observation_space", None)
    act_space = getattr(env, "action_space", None)
    if obs_space is None or act_space is None:
        raise ValueError(f"an env needs observation_space and action_space (Gymnasium API), got {env!r}")
    spaces = getattr(obs_space, "spaces", None)
    shapes: dict[str, tuple[int, ...]] = {}
    hwc: list[str] = []
    if type(obs_space).__name__ == "Dict" and isinstance(spaces, Mapping):
        for key, sub in spaces.items():
            shapes[key], is_hwc = _entry(f"{key!r}", sub)
            if is_hwc:
                hwc.append(key)
    else:
        shape = getattr(obs_space, "shape", None) or ()
        key = "pixels" if len(shape) == 3 else "observation"
        shapes[key], is_hwc = _entry("space", obs_space)
        if is_hwc:
            hwc.append(key)
    low, high = getattr(act_space, "low", None), getattr(act_space, "high", None)
    shape = getattr(act_space, "shape", None)
    if type(act_space).__name__ != "Box" or low is None or high is None or shape is None or len(shape) != 1:
        raise ValueError(f"action space is {act_space!r}; supported: {SUPPORTED_ACTIONS}")
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError(
            f"action space is {act_space!r} with unbounded entries (low={low}, high={high}); "
            f"supported: {SUPPORTED_ACTIONS} (rescale it, e.g. gymnasium.wrappers.RescaleAction)"
        )
    has_goal_obs = callable(_wrapper_attr(env, "goal_observation"))
    return EnvInterface(
        shapes, tuple(hwc), np.asarray(low, np.float32), np.asarray(high, np.float32), has_goal_obs
    )


def _wrapper_attr(env: Any, name: str) -> Any:
    getter = getattr(env, "get_wrapper_attr", None)
    if getter is not None:
        try:
            return getter(name)
        except AttributeError:
            return None
    return getattr(env, name, None)


def adapt_observation(
    obs: Any, hwc_keys: tuple[str, ...] = (), shapes: Mapping[str, tuple[int, ...]] | None = None
) -> dict[str, np.ndarray]:
    """An env's observation as the agent's dict (see the module docstring); a leading batch
    axis is kept. With ``shapes`` (the agent's ``input_shapes``), an image entry already
    channels-first is left as it is, so adapting an adapted observation changes nothing.

    Shapes: obs (..., F) or {key: (...)} -> {key: (...)}.
    """
    if isinstance(obs, Mapping):
        out = {k: np.asarray(v) for k, v in obs.items()}
    else:
        arr = np.asarray(obs)
        key = "pixels" if hwc_keys == ("pixels",) or (arr.dtype == np.uint8 and arr.ndim >= 3) else "observation"
        out = {key: arr}
    for k in hwc_keys:
        if k in out and not (shapes is not None and out[k].shape[-3:] == tuple(shapes[k])):
            out[k] = np.moveaxis(out[k], -1, -3)  # (..., H, W, C) -> (..., C, H, W)
    return out


def success_of(info: Mapping[str, Any]) -> float:
    """``info["is_success"]``, else ``info["success"]``, as a float; NaN where neither is given."""
    for key in ("is_success", "success"):
        if key in info:
            return float(info[key])
    return float("nan")
