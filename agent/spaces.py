"""What the agent takes from an env: Gymnasium's contract, checked before the first step.

Nothing beyond the Gymnasium API is required. From the spaces the agent takes:

* the observation: a flat ``Box`` (a state vector) becomes ``{"observation": obs}``; a ``uint8``
  image ``Box`` (``(H, W, C)`` or ``(C, H, W)``) becomes ``{"pixels": (C, H, W)}``; a ``Dict``
  is taken as it is, its image entries turned channels-first. A 0-D (scalar) ``Box`` counts as
  1-D: it reaches the agent as shape ``(1,)`` (batched ``(B, 1)``), as stored and replayed;
* which entries are encoded is the encoder's business (by default the MLP encoder reads
  ``observation`` where there is one, else every entry but the goal ones, sorted by name);
  an entry the agent cannot read (``Discrete``, ``Text``, a nested ``Dict``, a 2-D float
  ``Box``) is refused, naming it and the fix, unless the encoder's options name the entries
  it reads and leave it out: then it is dropped on the way in;
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
from typing import TYPE_CHECKING, Any

import numpy as np

from jepa_agent.perception.mlp import GOAL_KEYS

if TYPE_CHECKING:
    from jepa_agent.configurator import ModuleSpec

__all__ = [
    "GOAL_KEYS", "SUPPORTED_OBSERVATIONS", "EncoderEntries", "EnvInterface", "adapt_observation", "inspect_env",
    "success_of",
]

SUPPORTED_OBSERVATIONS = (
    "a Box observation (a scalar or 1-D state vector, or a uint8 image (H, W, C) or (C, H, W)), "
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


@dataclass(frozen=True)
class EncoderEntries:
    """The observation entries the encoder's options name, and where they are named."""

    named: frozenset[str] | None = None
    """Entries named in the options (``keys``/``key`` at any depth); None: none are named,
    the encoder reads its default entries (every entry but the goal ones may be read)."""
    option: str = "encoder.options.keys"
    """The option that names them (``encoder.options.state.keys`` for ``conv_state``)."""
    encoder: str = "the MLP encoder"
    """The encoder, as an error message names it."""

    @classmethod
    def of(cls, spec: ModuleSpec) -> EncoderEntries:
        """What the encoder ``spec`` (``AgentConfig.encoder``) says it reads."""
        from pydantic import BaseModel

        _, config = spec.resolve("encoder")
        named: set[str] = set()
        options: list[str] = []

        def walk(model: BaseModel, path: str) -> None:
            for field in type(model).model_fields:
                value = getattr(model, field)
                if isinstance(value, BaseModel):
                    walk(value, f"{path}.{field}")
                elif field in ("keys", "key"):
                    options.append(f"{path}.{field}")
                    if value is not None:
                        named.update([value] if isinstance(value, str) else value)

        if isinstance(config, BaseModel):
            walk(config, "encoder.options")
        option = next((o for o in options if o.endswith(".keys")), options[0] if options else "encoder.options.keys")
        encoder = "the MLP encoder" if spec.name == "mlp" else f"the {spec.name!r} encoder"
        return cls(frozenset(named) if named else None, option, encoder)

    def fix(self, readable: list[str]) -> str:
        """How to leave an entry out: the option set to the ``readable`` entries."""
        if self.option.endswith(".keys"):
            return f"{self.option}=[{', '.join(readable)}]"
        return f"{self.option}=<one of {', '.join(readable) or 'the Box entries'}>"


def _describe(space: Any) -> str:
    """A space as an error names it: ``Discrete(3)``, ``a nested Dict (entries [...])``,
    ``a 2-D float32 Box (4, 5)``."""
    kind = type(space).__name__
    if kind == "Dict":
        return f"a nested Dict (entries {sorted(getattr(space, 'spaces', {}))})"
    if kind == "Box":
        return f"a {len(space.shape)}-D {np.dtype(space.dtype)} Box {tuple(space.shape)}"
    text = repr(space)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _why(space: Any) -> str:
    """Why an entry cannot be read, and the wrapper that would make it readable."""
    kind = type(space).__name__
    if kind == "Dict":
        return ("the agent reads one level of entries; leave it out with {fix} or wrap the env "
                "(an ObservationWrapper lifting its entries to the top level, or gymnasium.wrappers.FlattenObservation)")
    if kind == "Box":
        return ("{encoder} reads 1-D Box entries and the conv encoder uint8 images (C, H, W) or (H, W, C); "
                "leave it out with {fix} or wrap the env (gymnasium.wrappers.FlattenObservation or a reshaping "
                "ObservationWrapper)")
    return ("{encoder} reads Box entries; leave it out with {fix} or wrap the env (an ObservationWrapper "
            "turning it into a Box, e.g. a one-hot vector)")


def _entry(name: str, space: Any) -> tuple[tuple[int, ...], bool]:
    """(shape as the agent sees it, whether it is channels-last) of one Box entry; a 0-D
    (scalar) Box is 1-D, shape ``(1,)``."""
    shape = getattr(space, "shape", None)
    dtype = getattr(space, "dtype", None)
    if type(space).__name__ != "Box" or shape is None:
        raise ValueError(f"observation {name} is {space!r}; supported: {SUPPORTED_OBSERVATIONS}")
    if len(shape) == 0:
        return (1,), False
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


def inspect_env(env: Any, *, reads: EncoderEntries = EncoderEntries()) -> EnvInterface:
    """Check an env (or anything with Gymnasium spaces; of a vector env or a list of envs,
    the first) and say what the agent takes from it. ``reads``: the entries the encoder's
    options name (:meth:`EncoderEntries.of`); a Dict entry the agent cannot read is refused
    unless they leave it out."""
    from gymnasium.vector import VectorEnv

    if isinstance(env, (list, tuple)) and env:  # envs stepped together: they share one interface
        return inspect_env(env[0], reads=reads)
    if isinstance(env, VectorEnv):
        sub = getattr(env, "envs", None)  # SyncVectorEnv's envs live here
        if sub:
            return inspect_env(sub[0], reads=reads)
        fns = getattr(env, "env_fns", None)  # AsyncVectorEnv's live in workers: build one here
        if fns:
            one = fns[0]()
            try:
                return inspect_env(one, reads=reads)
            finally:
                one.close()
        # another vector env: its single-env spaces (a goal_observation() is not seen from here)
        import types

        return inspect_env(types.SimpleNamespace(
            observation_space=env.single_observation_space, action_space=env.single_action_space
        ), reads=reads)
    obs_space = getattr(env, "observation_space", None)
    act_space = getattr(env, "action_space", None)
    if obs_space is None or act_space is None:
        raise ValueError(f"an env needs observation_space and action_space (Gymnasium API), got {env!r}")
    spaces = getattr(obs_space, "spaces", None)
    shapes: dict[str, tuple[int, ...]] = {}
    hwc: list[str] = []
    if type(obs_space).__name__ == "Dict" and isinstance(spaces, Mapping):
        shapes, hwc = _dict_entries(spaces, reads)
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


def _dict_entries(spaces: Mapping[str, Any], reads: EncoderEntries) -> tuple[dict[str, tuple[int, ...]], list[str]]:
    """The shapes of a Dict observation's entries and its channels-last ones; an entry the
    agent cannot read is left out where ``reads`` names others, else refused."""
    shapes: dict[str, tuple[int, ...]] = {}
    hwc: list[str] = []
    bad: dict[str, Any] = {}
    for key, sub in spaces.items():
        try:
            shapes[key], is_hwc = _entry(repr(key), sub)
        except ValueError:
            bad[key] = sub
            continue
        if is_hwc:
            hwc.append(key)
    for key, sub in bad.items():
        if key not in GOAL_KEYS and reads.named is not None and key not in reads.named:
            continue  # the encoder reads the entries it names: this one is dropped on the way in
        if key in GOAL_KEYS:
            raise ValueError(
                f"observation entry {key!r} is {_describe(sub)}: the agent reads the goal entries as Box vectors "
                "(the goal encoder, the probe); wrap the env (an ObservationWrapper turning it into a Box)"
            )
        readable = sorted(k for k in shapes if k not in GOAL_KEYS)
        why = _why(sub).format(encoder=reads.encoder, fix=reads.fix(readable))
        raise ValueError(f"observation entry {key!r} is {_describe(sub)}: {why}")
    return shapes, hwc


def _wrapper_attr(env: Any, name: str) -> Any:
    getter = getattr(env, "get_wrapper_attr", None)
    if getter is not None:
        try:
            return getter(name)
        except AttributeError:
            return None
    return getattr(env, name, None)


def adapt_observation(
    obs: Any,
    hwc_keys: tuple[str, ...] = (),
    shapes: Mapping[str, tuple[int, ...]] | None = None,
    *,
    batched: bool | None = None,
) -> dict[str, np.ndarray]:
    """An env's observation as the agent's dict (see the module docstring); a leading batch
    axis is kept. With ``shapes`` (the agent's ``input_shapes``), an image entry already
    channels-first is left as it is, so adapting an adapted observation changes nothing;
    entries not in ``shapes`` (those the agent does not read) are dropped, and a scalar entry
    of shape ``(1,)`` gets its feature axis: ``()`` -> ``(1,)``, batched ``(B,)`` -> ``(B, 1)``.
    ``batched`` says whether ``obs`` has a batch axis (the loops know it); None: read from
    the entries (an entry with an axis more than its shape, or a scalar entry of B != 1
    values), else taken as one observation.

    Shapes: obs (..., F) or {key: (...)} -> {key: (...)}.
    """
    if isinstance(obs, Mapping):
        out = {k: np.asarray(v) for k, v in obs.items() if shapes is None or k in shapes}
    else:
        arr = np.asarray(obs)
        key = "pixels" if hwc_keys == ("pixels",) or (arr.dtype == np.uint8 and arr.ndim >= 3) else "observation"
        out = {key: arr}
    for k in hwc_keys:
        if k in out and not (shapes is not None and out[k].shape[-3:] == tuple(shapes[k])):
            out[k] = np.moveaxis(out[k], -1, -3)  # (..., H, W, C) -> (..., C, H, W)
    if shapes is not None:
        _add_feature_axis(out, shapes, batched)
    return out


def _add_feature_axis(obs: dict[str, np.ndarray], shapes: Mapping[str, tuple[int, ...]], batched: bool | None) -> None:
    """Give the scalar entries of ``obs`` (a 0-D Box, seen as ``(1,)``) their feature axis, in place."""
    scalars = [k for k, v in obs.items() if k in shapes and tuple(shapes[k]) == (1,) and v.ndim <= 1]
    if not scalars:
        return
    if batched is None:
        batched = any(v.ndim > len(shapes[k]) for k, v in obs.items() if k in shapes) or any(
            obs[k].ndim == 1 and obs[k].shape[0] != 1 for k in scalars
        )
    for k in scalars:
        v = obs[k]
        if v.ndim == 0 and not batched:
            obs[k] = v.reshape(1)  # () -> (1,)
        elif v.ndim == 1 and batched:
            obs[k] = v[:, None]  # (B,) -> (B, 1)


def success_of(info: Mapping[str, Any]) -> float:
    """``info["is_success"]``, else ``info["success"]``, as a float; NaN where neither is given."""
    for key in ("is_success", "success"):
        if key in info:
            return float(info[key])
    return float("nan")
