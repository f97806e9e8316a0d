"""The world model's interface: predict the next latent state from a latent state and an action."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn


def check_shape(name: str, x: torch.Tensor, expected: tuple[str | int, ...], **dims: int) -> None:
    """Raise ``ValueError`` unless ``x`` has the symbolic shape ``expected``.

    ``expected`` names each axis, e.g. ``("B", "H", "A")``; ``dims`` gives the sizes that are
    fixed (``A=2``). Axes not in ``dims`` may take any size but must agree with each other.

    >>> check_shape("actions", torch.zeros(4, 2), ("B", "H", "A"), A=2)
    Traceback (most recent call last):
    ValueError: actions must be (B, H, A)=(B, H, 2), got (4, 2)
    """
    sizes = dict(dims)
    ok = x.ndim == len(expected)
    if ok:
        for axis, n in zip(expected, x.shape, strict=True):
            if isinstance(axis, int):
                ok = ok and n == axis
            elif axis in sizes:
                ok = ok and n == sizes[axis]
            else:
                sizes[axis] = n
    if not ok:
        names = ", ".join(str(a) for a in expected)
        want = ", ".join(str(dims.get(a, a)) if isinstance(a, str) else str(a) for a in expected)
        raise ValueError(f"{name} must be ({names})=({want}), got {tuple(x.shape)}")


class WorldModel(nn.Module, ABC):
    """Predicts latent states: ``s_{t+1} = step(s_t, a_t, z_t)``.

    ``z`` is the latent variable for what the context cannot determine. Planners pass it as
    *standard-normal prior noise* ``(..., Z)``; each model maps that noise to its own latent
    variable, so a planner can sample or optimise ``z`` without knowing the model's prior.
    ``z=None`` means the prior's mode. Models with ``latent_var_dim == 0`` ignore ``z``.

    Subclasses implement :meth:`step`; :meth:`rollout` loops it and may be overridden by a
    faster batched version that must give the same result (tests compare them).
    """

    latent_dim: int
    action_dim: int
    latent_var_dim: int = 0
    differentiable: bool = True
    """False for models (a simulator) that gradient planners cannot differentiate through."""

    @abstractmethod
    def step(self, s: torch.Tensor, a: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """One latent transition.

        Shapes: s (B, D), a (B, A), z (B, Z) or None -> (B, D).
        """

    def rollout(
        self, s0: torch.Tensor, actions: torch.Tensor, z: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Predict the latent states after each action of a sequence.

        Shapes: s0 (B, D), actions (B, H, A), z (B, H, Z) or None -> states (B, H, D),
        where ``states[:, t]`` follows ``actions[:, t]``.
        """
        self.check_rollout_inputs(s0, actions, z)
        s = s0
        states = []
        for t in range(actions.shape[1]):
            s = self.step(s, actions[:, t], None if z is None else z[:, t])
            states.append(s)
        return torch.stack(states, dim=1)  # (B, H, D)

    def sample_latent(
        self, s: torch.Tensor, actions: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Sample the prior's noise for the latent variable of a rollout from ``s``.

        The base prior is N(0, I) whatever the context; a model with a conditional prior
        maps this noise through it inside :meth:`step`. Any leading batch axes are allowed.

        Shapes: s (..., D), actions (..., H, A) -> z (..., H, Z); Z may be 0.
        """
        shape = (*actions.shape[:-1], self.latent_var_dim)
        return torch.randn(shape, generator=generator, device=actions.device, dtype=actions.dtype)

    def loss(
        self, batch: dict[str, Any], *, diagnostics: bool = True, head: Any = None, readout: Any = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Training loss on a batch of (B, T) windows and a dict of diagnostics
        (``diagnostics=False`` skips the expensive ones). ``head(predicted (B, T, D)) ->
        (loss, info)``, if given, is trained on the model's own rollout of the window and
        its loss added (the agent passes the learned task cost here). ``readout(online (B,
        T+1, D)) -> (loss, info)``, if given, reads the online embeddings of the window's
        observations and its loss is added, its gradient reaching the encoder (the agent
        passes its probe here, ``training.probe_encoder_weight``); the agent passes it only
        when that weight is set."""
        raise NotImplementedError(f"{type(self).__name__} is not trainable")

    def disagreement(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Epistemic uncertainty of one step (an ensemble's disagreement), for the epistemic
        cost term. Shapes: (..., D), (..., A) -> (...). Models without one refuse."""
        raise ValueError(f"{type(self).__name__} has no ensemble to measure its uncertainty with")

    def adapt(self, obs: Any) -> None:
        """Fit data-dependent, non-learned parts (e.g. input normalisation) once, on early data."""

    def refit(self, obs: Any) -> None:
        """Fit them again to newer data without changing what the model computes (the
        encoders' :meth:`~perception.base.Encoder.refit`); a no-op by default."""

    def check_rollout_inputs(
        self, s0: torch.Tensor, actions: torch.Tensor, z: torch.Tensor | None
    ) -> None:
        check_shape("s0", s0, ("B", "D"), D=self.latent_dim)
        check_shape("actions", actions, ("B", "H", "A"), B=s0.shape[0], A=self.action_dim)
        if z is not None and self.latent_var_dim > 0:
            B, H = actions.shape[:2]
            check_shape("z", z, ("B", "H", "Z"), B=B, H=H, Z=self.latent_var_dim)
