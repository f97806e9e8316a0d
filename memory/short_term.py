"""Short-term memory: this episode's latent trajectory and the last imagined plan.

The agent writes one step per control tick and reads the recent past back (for a
recurrent predictor, a smoothness cost, or logging) and the last plan (to warm
start the next one). Everything lives on the agent's device in buffers that are
allocated once, so a write is a few in-place copies: no allocation and no
host<->device synchronisation inside the control loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, PositiveInt
from torch import Tensor

__all__ = ["ShortTermMemory", "ShortTermMemoryConfig"]


class ShortTermMemoryConfig(BaseModel):
    """Configuration of :class:`ShortTermMemory`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capacity: PositiveInt = 64
    """Steps kept; older steps are overwritten (a ring). Sized to cover what the
    agent reads back (a few planning horizons), not the whole episode: the replay
    buffer keeps the episode."""


def _check_shape(name: str, x: object, expected: tuple[int, ...], labels: str) -> Tensor:
    """Return ``x`` if it is a tensor of shape ``expected``; raise ValueError otherwise."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if tuple(x.shape) != expected:
        raise ValueError(f"{name} must be {labels}={expected}, got {tuple(x.shape)}")
    return x


class ShortTermMemory:
    """Fixed-capacity ring of latent states, actions and costs, plus the last plan.

    Shapes: states (C, B, D), actions (C, B, A), costs (C, B) with C = capacity;
    plan actions (B, H, A) and plan states (B, H, D).

    Steps written without an action or a cost (the first observation of an
    episode, say) hold NaN there, so a reader cannot mistake them for zeros.

    Args:
        config: capacity.
        batch_size: B, the number of parallel environments.
        latent_dim: D, the latent state size.
        action_dim: A, the action size.
        device: where the buffers live (the agent's device).
        dtype: floating dtype of the buffers; written tensors are cast to it.
    """

    def __init__(
        self,
        config: ShortTermMemoryConfig,
        *,
        batch_size: int,
        latent_dim: int,
        action_dim: int,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        for name, value in (
            ("batch_size", batch_size),
            ("latent_dim", latent_dim),
            ("action_dim", action_dim),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not dtype.is_floating_point:
            raise ValueError(
                f"dtype must be a floating dtype (NaN marks missing entries), got {dtype}"
            )
        self.config = config
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.action_dim = action_dim
        self.device = torch.device(device)
        self.dtype = dtype
        c, b = config.capacity, batch_size
        kw = {"device": self.device, "dtype": dtype}
        self._states = torch.full((c, b, latent_dim), float("nan"), **kw)  # (C, B, D)
        self._actions = torch.full((c, b, action_dim), float("nan"), **kw)  # (C, B, A)
        self._costs = torch.full((c, b), float("nan"), **kw)  # (C, B)
        # Host-side bookkeeping: plain ints, so reading them never syncs the device.
        self._head = 0  # slot of the next write
        self._count = 0  # valid steps, <= capacity
        self._plan: tuple[Tensor, Tensor] | None = None
        self._subgoals: Tensor | None = None  # (B, M, D) a hierarchical plan's coarse latents

    @property
    def capacity(self) -> int:
        """C, the number of steps kept."""
        return self.config.capacity

    def __len__(self) -> int:
        """Number of valid steps held, at most ``capacity``."""
        return self._count

    def write(
        self, state: Tensor, action: Tensor | None = None, cost: Tensor | None = None
    ) -> None:
        """Append one step, overwriting the oldest when full.

        Shapes: state (B, D), action (B, A) or None, cost (B,) or None.
        Inputs are copied (and cast to the memory's dtype and device), never kept.
        """
        b = self.batch_size
        state = _check_shape("state", state, (b, self.latent_dim), "(B, D)")
        if action is not None:
            action = _check_shape("action", action, (b, self.action_dim), "(B, A)")
        if cost is not None:
            cost = _check_shape("cost", cost, (b,), "(B,)")
        i = self._head
        with torch.no_grad():
            self._states[i].copy_(state)
            if action is None:
                self._actions[i].fill_(float("nan"))
            else:
                self._actions[i].copy_(action)
            if cost is None:
                self._costs[i].fill_(float("nan"))
            else:
                self._costs[i].copy_(cost)
        self._head = (i + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)

    def recent(self, n: int | None = None) -> dict[str, Tensor]:
        """The last ``n`` steps (all valid ones if None), oldest first.

        Asking for more steps than are held returns the ``len(self)`` held.

        Shapes: returns {"states": (n, B, D), "actions": (n, B, A), "costs": (n, B)},
        fresh tensors on the memory's device.
        """
        if n is None:
            n = self._count
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative int or None, got {n!r}")
        n = min(n, self._count)
        first = (self._head - n) % self.capacity
        idx = (torch.arange(n, device=self.device) + first) % self.capacity  # (n,)
        return {
            "states": self._states.index_select(0, idx),  # (n, B, D)
            "actions": self._actions.index_select(0, idx),  # (n, B, A)
            "costs": self._costs.index_select(0, idx),  # (n, B)
        }

    def set_plan(self, actions: Tensor, states: Tensor) -> None:
        """Keep the last imagined plan (detached, not copied).

        Shapes: actions (B, H, A), states (B, H, D): the planned actions and the
        latent states the world model predicted for them.
        """
        if not isinstance(actions, Tensor) or actions.ndim != 3:
            got = tuple(actions.shape) if isinstance(actions, Tensor) else type(actions).__name__
            raise ValueError(
                f"actions must be (B, H, A)=({self.batch_size}, H, {self.action_dim}), got {got}"
            )
        h = actions.shape[1]
        _check_shape("actions", actions, (self.batch_size, h, self.action_dim), "(B, H, A)")
        _check_shape("states", states, (self.batch_size, h, self.latent_dim), "(B, H, D)")
        self._plan = (actions.detach(), states.detach())

    @property
    def last_plan(self) -> tuple[Tensor, Tensor] | None:
        """(actions (B, H, A), states (B, H, D)) of the last plan, or None."""
        return self._plan

    def set_subgoals(self, states: Tensor) -> None:
        """Keep the coarse level's imagined latents (a hierarchical plan's subgoals; detached).

        Shapes: states (B, M, D), M coarse steps.
        """
        m = states.shape[1] if isinstance(states, Tensor) and states.ndim == 3 else 0
        _check_shape("subgoals", states, (self.batch_size, m, self.latent_dim), "(B, M, D)")
        self._subgoals = states.detach()

    @property
    def last_subgoals(self) -> Tensor | None:
        """The imagined coarse latents (B, M, D) of the last hierarchical plan, or None."""
        return self._subgoals

    def state(self) -> dict[str, Any]:
        """The buffers, the ring's counters and the last plan (tensors and ints): saved with a
        resumable checkpoint, so a resumed episode reads back what it wrote."""
        return {"states": self._states, "actions": self._actions, "costs": self._costs,
                "head": self._head, "count": self._count, "plan": self._plan, "subgoals": self._subgoals}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`'s result (on this memory's device and dtype).

        Raises:
            ValueError: buffers of another capacity, batch size or dimensions.
        """
        c, b = self.capacity, self.batch_size
        for name, dim in (("states", self.latent_dim), ("actions", self.action_dim), ("costs", None)):
            shape = (c, b) if dim is None else (c, b, dim)
            _check_shape(f"the saved memory's {name}", state[name], shape, "(C, B)" if dim is None else "(C, B, ·)")
        kw = {"device": self.device, "dtype": self.dtype}
        self._states = state["states"].to(**kw)
        self._actions = state["actions"].to(**kw)
        self._costs = state["costs"].to(**kw)
        self._head, self._count = int(state["head"]), int(state["count"])
        plan = state["plan"]
        # the plan is kept as the planner made it (set_plan does not cast it)
        self._plan = None if plan is None else (plan[0].to(self.device), plan[1].to(self.device))
        self._subgoals = None if state["subgoals"] is None else state["subgoals"].to(self.device)

    def clear(self, rows: Tensor | None = None) -> None:
        """Forget every step and the plan (start of an episode); keeps the buffers.

        With ``rows`` (B,) bool, forget only those envs' columns (a new episode there while
        the others go on): their steps read NaN and their part of the plan is dropped (NaN);
        the ring's length is the other envs'.
        """
        if rows is not None:
            rows = _check_shape("rows", rows, (self.batch_size,), "(B,)").to(self.device, torch.bool)
            with torch.no_grad():
                self._states[:, rows] = float("nan")
                self._actions[:, rows] = float("nan")
                self._costs[:, rows] = float("nan")
                if self._plan is not None:
                    mask = rows[:, None, None]
                    self._plan = tuple(torch.where(mask, float("nan"), p) for p in self._plan)  # type: ignore[assignment]
                if self.last_subgoals is not None:
                    self._subgoals = torch.where(rows[:, None, None], float("nan"), self._subgoals)
            return
        with torch.no_grad():
            self._states.fill_(float("nan"))
            self._actions.fill_(float("nan"))
            self._costs.fill_(float("nan"))
        self._head = 0
        self._count = 0
        self._plan = None
        self._subgoals = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(capacity={self.capacity}, len={self._count}, "
            f"B={self.batch_size}, D={self.latent_dim}, A={self.action_dim}, "
            f"device={self.device}, dtype={self.dtype})"
        )
