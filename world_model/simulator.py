"""A batched simulator function (numpy in, numpy out) as a `WorldModel`.

Benchmarking a planner on the true dynamics must run the same planner code as on a
learned model. `SimulatorWorldModel` wraps any function
``fn(states (B, S), actions (B, H, A)) -> (B, H, S)`` -- such as ``envs.OracleDynamics``,
which this module does not import -- so every planner can use it unchanged::

    oracle = OracleDynamics.from_env(env)
    wm = SimulatorWorldModel(oracle, state_dim=oracle.state_dim, action_dim=oracle.action_dim)
    s0 = torch.as_tensor(oracle.current_state(env))[None]      # (1, S)
    goal = torch.as_tensor(oracle.goal_state(env))[None]       # (1, S)
    reach = ProbeGoalDistance(lambda s: s[..., oracle.feature_slice])
    cost = Cost([(reach, 1.0), (ActionEffort(), 1e-3)], gamma=1.0)

The simulator's state is the latent state (``latent_dim == state_dim``); there is no
latent variable (``z`` is ignored), nothing to train and no gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from jepa_agent.world_model.base import WorldModel, check_shape

SimulatorFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``fn(states (B, S) float64, actions (B, H, A) float64) -> states (B, H, S)``."""


class SimulatorWorldModel(WorldModel):
    """Adapts a batched numpy dynamics function to the `WorldModel` interface.

    Each :meth:`rollout` makes one host round-trip: inputs are copied to float64 numpy
    arrays once, ``fn`` runs the whole (B, H) batch, and its result is copied back to the
    input's device and dtype. For a CPU simulator this copy is unavoidable; it is one
    per call, not one per step. ``differentiable`` is False, so gradient planners refuse
    it; sampling planners (CEM, MPPI) work unchanged.

    Args:
        fn: the batched dynamics; ``fn(states, actions)[:, t]`` follows ``actions[:, t]``.
        state_dim: S, the simulator's state size (the latent dim D).
        action_dim: A.
        device: where `encode` puts numpy observations (rollouts follow their input).
        dtype: the dtype `encode` gives numpy observations. float64 by default: the
            simulator state is float64, and float32 rounding (harmless for planning)
            would break bit-exact replays.
    """

    latent_var_dim = 0
    differentiable = False

    def __init__(
        self,
        fn: SimulatorFn,
        *,
        state_dim: int,
        action_dim: int,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        if not callable(fn):
            raise ValueError(f"fn must be callable (states, actions) -> states, got {type(fn).__name__}")
        if state_dim < 1 or action_dim < 1:
            raise ValueError(f"state_dim and action_dim must be >= 1, got {state_dim} and {action_dim}")
        if not dtype.is_floating_point:
            raise ValueError(f"dtype must be a floating-point dtype, got {dtype}")
        self.fn = fn
        self.latent_dim = int(state_dim)
        self.action_dim = int(action_dim)
        self.device = torch.device(device)
        self.dtype = dtype

    def encode(self, obs: torch.Tensor | np.ndarray) -> torch.Tensor:
        """The simulator state is the latent: a tensor comes back as is, a numpy array is
        converted on ``device`` with ``dtype``.

        Shapes: obs (B, S) -> (B, S).
        """
        if not isinstance(obs, torch.Tensor):
            obs = torch.as_tensor(np.asarray(obs), device=self.device, dtype=self.dtype)
        check_shape("obs", obs, ("B", "S"), S=self.latent_dim)
        return obs

    def check_rollout_inputs(
        self, s0: torch.Tensor, actions: torch.Tensor, z: torch.Tensor | None
    ) -> None:
        check_shape("s0", s0, ("B", "S"), S=self.latent_dim)
        check_shape("actions", actions, ("B", "H", "A"), B=s0.shape[0], A=self.action_dim)

    def rollout(
        self, s0: torch.Tensor, actions: torch.Tensor, z: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Simulate every action sequence from its start state; ``z`` is ignored.

        Shapes: s0 (B, S), actions (B, H, A), z anything or None -> states (B, H, S),
        on ``s0``'s device with ``s0``'s dtype.
        """
        self.check_rollout_inputs(s0, actions, z)
        B, H = actions.shape[:2]
        states = np.asarray(self.fn(_to_numpy(s0), _to_numpy(actions)))  # (B, H, S)
        if states.shape != (B, H, self.latent_dim):
            raise ValueError(
                f"fn must return (B, H, S)=({B}, {H}, {self.latent_dim}), got {states.shape}"
            )
        out = torch.from_numpy(np.ascontiguousarray(states, dtype=np.float64))
        return out.to(device=s0.device, dtype=s0.dtype)

    def step(self, s: torch.Tensor, a: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """One simulated control step (a rollout of length 1); ``z`` is ignored.

        Shapes: s (B, S), a (B, A) -> (B, S).
        """
        check_shape("s", s, ("B", "S"), S=self.latent_dim)
        check_shape("a", a, ("B", "A"), B=s.shape[0], A=self.action_dim)
        return self.rollout(s, a.unsqueeze(1))[:, 0]

    def loss(
        self, batch: dict[str, Any], *, diagnostics: bool = True
    ) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError(
            "SimulatorWorldModel wraps a fixed simulator and has nothing to train; "
            "train a learned world model (e.g. JEPAWorldModel) instead"
        )

    def extra_repr(self) -> str:
        return f"fn={self.fn!r}, state_dim={self.latent_dim}, action_dim={self.action_dim}"


def _to_numpy(x: torch.Tensor) -> np.ndarray:
    """A float64, C-contiguous host copy of a tensor (gradients are not followed)."""
    return np.ascontiguousarray(x.detach().to(device="cpu", dtype=torch.float64).numpy())
