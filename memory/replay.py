"""Replay buffer: whole episodes in host memory, sampled as fixed-length windows.

Storage is flat and per key, so sampling a batch is a handful of vectorised
gathers however many episodes are held. Each episode of T steps occupies T + 1
consecutive rows: row t holds observation t and (for t < T) the action taken
there, its cost, whether the planner chose it and whether it ended the episode by
termination (true only on the last action row of a terminated episode); the last
row holds the final observation and padding. The rows live in a growable ring addressed by a
monotonically increasing row number, so evicting the oldest episode (FIFO) only
moves a counter and never copies the remaining data.

Observations are dicts of arrays whose shape and dtype are fixed per key by the
first episode: floating arrays are stored as float32 (what the networks eat),
any other dtype (uint8 images, integer ids) exactly as given.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, PositiveInt

from jepa_agent.memory.files import atomic_write

__all__ = ["ReplayBuffer", "ReplayBufferConfig", "to_torch"]

_FORMAT = "jepa-agent/replay-buffer"
_VERSION = 2
_READABLE_VERSIONS = (1, 2)  # version 1 files have no terminal flags (read as never terminated)


class ReplayBufferConfig(BaseModel):
    """Configuration of :class:`ReplayBuffer`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capacity: PositiveInt = 1_000_000
    """Transitions (steps) kept; adding an episode evicts the oldest whole
    episodes until the total fits. An episode longer than this is rejected."""
    window_starts: Literal["fit", "every_step"] = "fit"
    """Where a sampled window of W steps may start: ``fit``, uniformly over the starts whose
    window fits in the episode (a transition among the last or first W-1 is in fewer
    windows: an episode's final transition, a termination, in 1 of T-W+1); ``every_step``,
    uniformly over every step, a window that would run past the end starting at the last
    one that fits (every transition is in about W windows in T, the final one too, as
    when single transitions are sampled)."""


class _Ring:
    """Growable ring of rows addressed by a monotonically increasing logical index.

    Logical row ``r`` lives at physical row ``r % size``; rows ``[lo, hi)`` are live.
    Growing re-lays the live rows out for the new size, so logical indices stay
    valid across growth and eviction.
    """

    def __init__(self, min_size: int = 256) -> None:
        self._arrays: dict[Any, np.ndarray] = {}
        self._size = 0
        self._min_size = min_size
        self.lo = 0
        self.hi = 0

    def __len__(self) -> int:
        return self.hi - self.lo

    def append(self, data: Mapping[Any, np.ndarray]) -> int:
        """Append ``n`` rows (every array (n, ...)); return the first one's logical index."""
        n = len(next(iter(data.values())))
        if not self._arrays:
            self._size = max(self._min_size, n)
            self._arrays = {
                k: np.empty((self._size, *v.shape[1:]), dtype=v.dtype) for k, v in data.items()
            }
        self._reserve(len(self) + n)
        idx = np.arange(self.hi, self.hi + n) % self._size
        for k, arr in self._arrays.items():
            arr[idx] = data[k]
        start = self.hi
        self.hi += n
        return start

    def _reserve(self, needed: int) -> None:
        if needed <= self._size:
            return
        new_size = max(needed, 2 * self._size)  # doubling keeps appends amortised O(1)
        live = np.arange(self.lo, self.hi)
        for k, arr in self._arrays.items():
            new = np.empty((new_size, *arr.shape[1:]), dtype=arr.dtype)
            new[live % new_size] = arr[live % self._size]
            self._arrays[k] = new
        self._size = new_size

    def drop_front(self, n: int) -> None:
        self.lo += n

    def take(self, key: Any, logical: np.ndarray) -> np.ndarray:
        """Rows at logical indices (any shape) for one key: (*logical.shape, ...)."""
        return self._arrays[key][logical % self._size]

    def live(self, key: Any) -> np.ndarray:
        """All live rows of one key, oldest first."""
        return self.take(key, np.arange(self.lo, self.hi))


def _find_nonfinite(x: np.ndarray) -> tuple[int, str] | None:
    """(first step, "NaN" or "inf") of a non-finite entry along axis 0, or None."""
    if not np.issubdtype(x.dtype, np.floating):
        return None
    bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1) if x.ndim > 1 else ~np.isfinite(x)
    if not bad.any():
        return None
    step = int(np.argmax(bad))
    return step, "NaN" if np.isnan(x[step]).any() else "inf"


class ReplayBuffer:
    """Episodes for training, sampled as (B, W) windows within one episode.

    Windows are drawn uniformly over every valid start position of every episode
    at least W steps long, so long episodes are not under-sampled. Each window
    also carries the episode's goal observation and an observation from later in
    the same episode, for hindsight goal relabelling (Andrychowicz et al. 2017,
    "future" strategy).
    """

    def __init__(self, config: ReplayBufferConfig | None = None) -> None:
        self.config = config if config is not None else ReplayBufferConfig()
        self._rows = _Ring()  # keys: ("obs", name), "actions", "costs", "planner_mask", "terminal"
        self._episodes = _Ring(min_size=64)  # keys: ("goal", name), "start", "length"
        self._obs_spec: dict[str, tuple[tuple[int, ...], np.dtype]] | None = None
        self._action_dim: int | None = None
        self._num_steps = 0

    # -- sizes -------------------------------------------------------------

    @property
    def capacity(self) -> int:
        """Maximum number of steps (transitions) kept."""
        return self.config.capacity

    @property
    def num_steps(self) -> int:
        """Transitions held (sum of episode lengths T)."""
        return self._num_steps

    @property
    def num_episodes(self) -> int:
        """Episodes held."""
        return len(self._episodes)

    def __len__(self) -> int:
        """Transitions held, as :attr:`num_steps`."""
        return self._num_steps

    @property
    def obs_spec(self) -> dict[str, tuple[tuple[int, ...], np.dtype]] | None:
        """Per observation key, its stored (per-step shape, dtype); None while empty."""
        return None if self._obs_spec is None else dict(self._obs_spec)

    @property
    def action_dim(self) -> int | None:
        """A, fixed by the first episode; None while empty."""
        return self._action_dim

    @property
    def num_terminated(self) -> int:
        """Held episodes that ended in a terminal state (Gymnasium's ``terminated``)."""
        if not self.num_episodes:
            return 0
        return int(self._rows.live("terminal").sum())

    def episode_lengths(self) -> np.ndarray:
        """(E,) int64 lengths T of the held episodes, oldest first."""
        if not self.num_episodes:
            return np.zeros(0, dtype=np.int64)
        return self._episodes.live("length")

    def episodes(self) -> Iterator[dict[str, Any]]:
        """Yield the held episodes, oldest first, as :meth:`add_episode` took them.

        Shapes of each yielded dict (copies, safe to keep):
            obs          {key: (T+1, ...)}  in the stored dtypes
            actions      (T, A)             float32
            costs        (T,)               float32
            planner_mask (T,)               bool
            terminated   bool               the episode ended by termination
            goal_obs     {key: (...)}

        The episodes held when iteration starts are the ones yielded; adding an
        episode that evicts one not yet yielded raises RuntimeError, since its rows
        may already be overwritten.
        """
        if not self.num_episodes:
            return
        keys = list(self._obs_spec or {})
        first = self._episodes.lo
        starts = self._episodes.live("start")  # (E,)
        lengths = self._episodes.live("length")  # (E,)
        for i, (start, t) in enumerate(zip(starts.tolist(), lengths.tolist(), strict=True)):
            if self._episodes.lo > first + i:
                raise RuntimeError(
                    f"episode {i} was evicted from the buffer before iteration reached it"
                )
            rows = np.arange(start, start + t + 1)  # (T+1,) logical rows
            ep = np.array([first + i])  # (1,) logical episode index
            yield {
                # Fancy indexing copies, so nothing yielded aliases the ring.
                "obs": {k: self._rows.take(("obs", k), rows) for k in keys},
                "actions": self._rows.take("actions", rows[:t]),
                "costs": self._rows.take("costs", rows[:t]),
                "planner_mask": self._rows.take("planner_mask", rows[:t]),
                "terminated": bool(self._rows.take("terminal", rows[t - 1 : t])[0]),
                "goal_obs": {k: self._episodes.take(("goal", k), ep)[0] for k in keys},
            }

    # -- writing -----------------------------------------------------------

    def add_episode(
        self,
        obs: Mapping[str, np.ndarray],
        actions: np.ndarray,
        costs: np.ndarray,
        goal_obs: Mapping[str, np.ndarray],
        *,
        planner_mask: np.ndarray | None = None,
        terminated: bool = False,
    ) -> None:
        """Store one episode, evicting the oldest episodes if the step capacity is exceeded.

        Shapes: obs {key: (T+1, ...)}, actions (T, A), costs (T,),
        goal_obs {key: (...)} with the same keys and per-step shapes as obs,
        planner_mask (T,) bool (True where the planner chose the action; default
        all False). ``terminated``: the episode ended in a terminal state (Gymnasium's
        ``terminated``), so nothing is to come after its last step; False for an episode
        cut by a time limit (``truncated``), whose value goes on. The arrays are copied.
        """
        actions = np.asarray(actions)
        if actions.ndim != 2 or actions.shape[0] < 1:
            raise ValueError(f"actions must be (T, A) with T >= 1, got {actions.shape}")
        t, a = actions.shape
        if self._action_dim is not None and a != self._action_dim:
            raise ValueError(
                f"actions must be (T, A)=({t}, {self._action_dim}) like earlier episodes, "
                f"got {actions.shape}"
            )
        if not np.issubdtype(actions.dtype, np.number) or np.issubdtype(
            actions.dtype, np.complexfloating
        ):
            raise ValueError(f"actions must be real numbers, got dtype {actions.dtype}")
        if t > self.capacity:
            raise ValueError(
                f"episode has T={t} steps, more than the buffer capacity {self.capacity}"
            )
        costs = np.asarray(costs)
        if costs.shape != (t,):
            raise ValueError(f"costs must be (T,)=({t},), got {costs.shape}")
        if planner_mask is None:
            planner_mask = np.zeros(t, dtype=bool)
        planner_mask = np.asarray(planner_mask)
        if planner_mask.shape != (t,) or planner_mask.dtype != np.bool_:
            raise ValueError(
                f"planner_mask must be (T,)=({t},) bool, got {planner_mask.shape} {planner_mask.dtype}"
            )

        obs = self._check_obs(obs, t)
        goal = self._check_goal(goal_obs, obs)
        for name, arr in (("actions", actions), ("costs", costs)):
            bad = _find_nonfinite(arr)
            if bad is not None:
                raise ValueError(f"{name} contains {bad[1]} at step {bad[0]}")

        while self.num_episodes and self._num_steps + t > self.capacity:
            self._evict_oldest()

        # T + 1 rows; the last row pads actions, costs and mask.
        rows: dict[Any, np.ndarray] = {("obs", k): v for k, v in obs.items()}
        rows["actions"] = np.concatenate([actions, np.zeros((1, a))]).astype(np.float32)
        rows["costs"] = np.concatenate([costs, np.zeros(1)]).astype(np.float32)
        rows["planner_mask"] = np.concatenate([planner_mask, np.zeros(1, dtype=bool)])
        rows["terminal"] = np.zeros(t + 1, dtype=bool)
        rows["terminal"][t - 1] = bool(terminated)
        start = self._rows.append(rows)
        self._episodes.append(
            {
                **{("goal", k): v[None] for k, v in goal.items()},
                "start": np.array([start], dtype=np.int64),
                "length": np.array([t], dtype=np.int64),
            }
        )
        if self._obs_spec is None:
            self._obs_spec = {k: (v.shape[1:], v.dtype) for k, v in obs.items()}
            self._action_dim = a
        self._num_steps += t

    def _check_obs(self, obs: Mapping[str, np.ndarray], t: int) -> dict[str, np.ndarray]:
        """Validate an episode's observations; return them converted to storage dtypes."""
        if not isinstance(obs, Mapping) or not obs:
            raise ValueError(f"obs must be a non-empty dict of arrays, got {type(obs).__name__}")
        if self._obs_spec is not None and set(obs) != set(self._obs_spec):
            raise ValueError(
                f"obs keys must be {sorted(self._obs_spec)} like earlier episodes, got {sorted(obs)}"
            )
        keys = list(self._obs_spec) if self._obs_spec is not None else list(obs)
        out: dict[str, np.ndarray] = {}
        for k in keys:
            x = np.asarray(obs[k])
            if x.ndim < 1 or x.shape[0] != t + 1:
                raise ValueError(f"obs[{k!r}] must be (T+1, ...) with T+1={t + 1}, got {x.shape}")
            if self._obs_spec is not None:
                shape, dtype = self._obs_spec[k]
                if x.shape[1:] != shape:
                    raise ValueError(f"obs[{k!r}] must be (T+1, *{shape}), got {x.shape}")
                if x.dtype != dtype and not (
                    np.issubdtype(dtype, np.floating) and np.issubdtype(x.dtype, np.floating)
                ):
                    raise ValueError(
                        f"obs[{k!r}] dtype must be {dtype} like earlier episodes, got {x.dtype}"
                    )
            bad = _find_nonfinite(x)
            if bad is not None:
                raise ValueError(f"obs[{k!r}] contains {bad[1]} at step {bad[0]}")
            out[k] = x.astype(np.float32) if np.issubdtype(x.dtype, np.floating) else x
        return out

    @staticmethod
    def _check_goal(
        goal_obs: Mapping[str, np.ndarray], obs: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Validate the goal observation against the episode's observations."""
        if not isinstance(goal_obs, Mapping) or set(goal_obs) != set(obs):
            got = sorted(goal_obs) if isinstance(goal_obs, Mapping) else type(goal_obs).__name__
            raise ValueError(f"goal_obs keys must match obs keys {sorted(obs)}, got {got}")
        out: dict[str, np.ndarray] = {}
        for k, o in obs.items():
            g = np.asarray(goal_obs[k])
            if g.shape != o.shape[1:]:
                raise ValueError(
                    f"goal_obs[{k!r}] must be {o.shape[1:]} (one observation), got {g.shape}"
                )
            if np.issubdtype(g.dtype, np.floating) and not np.isfinite(g).all():
                raise ValueError(f"goal_obs[{k!r}] contains NaN or inf")
            if not np.issubdtype(o.dtype, np.floating) and g.dtype != o.dtype:
                raise ValueError(
                    f"goal_obs[{k!r}] dtype must be {o.dtype} like obs[{k!r}], got {g.dtype}"
                )
            out[k] = g.astype(o.dtype)
        return out

    def _evict_oldest(self) -> None:
        length = int(self._episodes.take("length", np.array(self._episodes.lo)))
        self._rows.drop_front(length + 1)
        self._episodes.drop_front(1)
        self._num_steps -= length

    # -- sampling ----------------------------------------------------------

    def sample(self, batch_size: int, window: int, *, rng: np.random.Generator) -> dict[str, Any]:
        """Sample ``batch_size`` windows of ``window`` steps, each within one episode.

        Shapes (B = batch_size, W = window):
            obs          {key: (B, W+1, ...)}  observations t .. t+W
            actions      (B, W, A)             float32
            costs        (B, W)                float32
            planner_mask (B, W)                bool
            terminals    (B, W)                bool, True where the step's transition
                                               ended its episode by termination
            goal_obs     {key: (B, ...)}       the episode's goal observation
            future_obs   {key: (B, ...)}       observation t+k of the same episode, k drawn
                                               uniformly from (W, T-t], or from (0, T-t] when
                                               the window ends the episode
            future_offset (B,)                 int64 k, steps from the window start t

        Raises ValueError if no episode has at least ``window`` steps.
        """
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"window must be a positive int, got {window!r}")
        lengths = self.episode_lengths()  # (E,)
        eligible = np.flatnonzero(lengths >= window)  # (E',)
        if eligible.size == 0:
            longest = int(lengths.max()) if lengths.size else 0
            raise ValueError(
                f"no episode has at least window={window} steps "
                f"({self.num_episodes} episodes, longest {longest})"
            )
        starts = self._episodes.live("start")  # (E,)
        # Uniform over all (episode, start) pairs: pick a flat start index, then
        # find its episode by the cumulative count of valid starts.
        every_step = self.config.window_starts == "every_step"
        n_starts = lengths[eligible] - (0 if every_step else window - 1)  # (E',)
        cum = np.cumsum(n_starts)  # (E',)
        flat = rng.integers(0, cum[-1], size=batch_size)  # (B,)
        which = np.searchsorted(cum, flat, side="right")  # (B,)
        ep = eligible[which]  # (B,) positions among live episodes
        t0 = flat - (cum[which] - n_starts[which])  # (B,) window start step
        length = lengths[ep]  # (B,)
        if every_step:  # a window past the end starts at the last one that fits
            t0 = np.minimum(t0, length - window)
        row0 = starts[ep] + t0  # (B,) logical row of the window start

        obs_rows = row0[:, None] + np.arange(window + 1)  # (B, W+1)
        act_rows = obs_rows[:, :window]  # (B, W)
        # Future step: after the window when the episode goes on, else after t0.
        low = np.where(t0 + window < length, t0 + window + 1, t0 + 1)  # (B,)
        future_t = rng.integers(low, length + 1)  # (B,) in [low, T]
        future_rows = starts[ep] + future_t  # (B,)
        ep_rows = self._episodes.lo + ep  # (B,) logical episode indices

        keys = list(self._obs_spec or {})
        return {
            "obs": {k: self._rows.take(("obs", k), obs_rows) for k in keys},
            "actions": self._rows.take("actions", act_rows),
            "costs": self._rows.take("costs", act_rows),
            "planner_mask": self._rows.take("planner_mask", act_rows),
            "terminals": self._rows.take("terminal", act_rows),
            "goal_obs": {k: self._episodes.take(("goal", k), ep_rows) for k in keys},
            "future_obs": {k: self._rows.take(("obs", k), future_rows) for k in keys},
            "future_offset": (future_t - t0).astype(np.int64),
        }

    # -- persistence -------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the buffer to one ``.npz`` file, atomically.

        The data goes to a temporary file in the same folder, is flushed and
        fsynced, then renamed over ``path``: a crash mid-write leaves any earlier
        file at ``path`` intact.
        """
        path = Path(path)
        keys = list(self._obs_spec or {})
        arrays: dict[str, np.ndarray] = {"length": self.episode_lengths()}
        if self.num_episodes:
            for name in ("actions", "costs", "planner_mask", "terminal"):
                arrays[name] = self._rows.live(name)
        for i, k in enumerate(keys):
            arrays[f"obs_{i}"] = self._rows.live(("obs", k))
            arrays[f"goal_{i}"] = self._episodes.live(("goal", k))
        meta = {
            "format": _FORMAT,
            "version": _VERSION,
            "config": self.config.model_dump(),
            "obs_keys": keys,
        }
        arrays["meta"] = np.array(json.dumps(meta))

        atomic_write(path, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReplayBuffer:
        """Read a buffer written by :meth:`save`.

        Raises FileNotFoundError if ``path`` does not exist and ValueError if it
        is not a readable replay-buffer file.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"replay buffer file not found: {path}")
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            with data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != _FORMAT or meta.get("version") not in _READABLE_VERSIONS:
                    raise ValueError(
                        f"unsupported format {meta.get('format')!r} "
                        f"version {meta.get('version')!r}; expected {_FORMAT!r} version "
                        f"{' or '.join(map(str, _READABLE_VERSIONS))}"
                    )
                arrays = {name: data[name] for name in data.files if name != "meta"}
            return cls._from_arrays(ReplayBufferConfig(**meta["config"]), meta["obs_keys"], arrays)
        except (OSError, EOFError, KeyError, IndexError, ValueError, zipfile.BadZipFile) as e:
            # json.JSONDecodeError and pydantic's ValidationError are ValueErrors.
            reason = " ".join(str(e).split())
            if "pickle" in reason.lower():  # numpy's message would suggest allow_pickle: never here
                reason = "it holds pickled Python objects, which are not loaded (unpickling can run code)"
            raise ValueError(f"could not read replay buffer from {path}: {reason}") from e

    @classmethod
    def _from_arrays(
        cls, config: ReplayBufferConfig, keys: list[str], arrays: dict[str, np.ndarray]
    ) -> ReplayBuffer:
        """Rebuild a buffer from the arrays :meth:`save` wrote (rows contiguous from 0)."""
        buf = cls(config)
        lengths = arrays["length"].astype(np.int64)  # (E,)
        if lengths.size == 0:
            return buf
        if int((lengths + 1).sum()) != len(arrays["actions"]):
            raise ValueError("episode lengths do not match the stored rows")
        rows: dict[Any, np.ndarray] = {("obs", k): arrays[f"obs_{i}"] for i, k in enumerate(keys)}
        for name in ("actions", "costs", "planner_mask"):
            rows[name] = arrays[name]
        rows["terminal"] = arrays.get("terminal", np.zeros(len(arrays["actions"]), dtype=bool))
        buf._rows.append(rows)
        starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)  # (E,)
        goals = {("goal", k): arrays[f"goal_{i}"] for i, k in enumerate(keys)}
        buf._episodes.append({**goals, "start": starts, "length": lengths})
        buf._obs_spec = {k: (rows["obs", k].shape[1:], rows["obs", k].dtype) for k in keys}
        buf._action_dim = int(arrays["actions"].shape[1])
        buf._num_steps = int(lengths.sum())
        return buf

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(capacity={self.capacity}, steps={self._num_steps}, "
            f"episodes={self.num_episodes})"
        )


def to_torch(batch: Mapping[str, Any], device: torch.device | str) -> dict[str, Any]:
    """Convert a (nested) dict of numpy arrays from :meth:`ReplayBuffer.sample` to tensors.

    Floats become float32, uint8 stays uint8 (images are normalised by the
    encoder), bool stays bool, other integers become int64. Tensors are made on
    ``device``.
    """
    out: dict[str, Any] = {}
    for k, v in batch.items():
        if isinstance(v, Mapping):
            out[k] = to_torch(v, device)
            continue
        x = np.asarray(v)
        if np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float32, copy=False)
        elif x.dtype == np.uint8 or x.dtype == np.bool_:
            pass
        elif np.issubdtype(x.dtype, np.integer):
            x = x.astype(np.int64, copy=False)
        else:
            raise TypeError(f"cannot convert {k!r} of dtype {x.dtype} to a tensor")
        out[k] = torch.as_tensor(np.ascontiguousarray(x), device=device)
    return out
