"""MLP encoder for state-vector observations (plain vectors or Gymnasium dict observations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from torch import nn

from jepa_agent.perception.base import Encoder, Observation


class MLPEncoderConfig(BaseModel):
    """Configuration of :class:`MLPEncoder`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latent_dim: PositiveInt = 16
    """D: size of the latent state. Small latents embed a low-dimensional state space smoothly, so latent distances stay meaningful far from the goal."""
    hidden_dim: PositiveInt = 128
    """Width of the hidden layers."""
    layers: int = Field(2, ge=1, le=8)
    """Number of hidden layers."""
    keys: tuple[str, ...] | None = None
    """Dict-observation keys that are encoded, concatenated in this order. None
    (:func:`default_keys`): the ``observation`` entry where there is one (a plain Box
    observation, a Gymnasium-Robotics dict observation), else every entry but the goal ones,
    sorted by name. The goal keys (``desired_goal``, ``achieved_goal``) are left out on
    purpose: the goal enters as the latent of a goal observation, encoded by this same
    encoder, or through the goal encoder."""
    normalize_input: bool = True
    """Standardise each input feature with statistics fitted on early data (:meth:`adapt`),
    and (MLP encoder) again, the weights absorbing the change, each ``training.refit_every``
    env steps (:meth:`refit`): joint velocities in rad/s and positions in metres differ by 20x in scale,
    and an unnormalised MLP would all but ignore the small ones."""
    normalize_output: bool = True
    """LayerNorm without learned scale on the output: bounds the latent scale (the job
    TD-MPC2's SimNorm does), so latent distances mean the same thing throughout training."""


GOAL_KEYS = ("achieved_goal", "desired_goal")
"""Goal entries of a dict observation: not encoded by default."""


def default_keys(input_shapes: Mapping[str, Sequence[int]]) -> tuple[str, ...]:
    """The entries encoded when ``keys`` is None: ``("observation",)`` where there is one,
    else every entry but the goal ones, sorted by name (the order does not depend on the
    env's dict order, so a saved model reads its inputs in the same order when loaded)."""
    if "observation" in input_shapes:
        return ("observation",)
    keys = tuple(sorted(k for k in input_shapes if k not in GOAL_KEYS))
    if not keys:
        raise ValueError(
            f"the observation has only goal entries {sorted(input_shapes)}; name the entries to encode "
            "with encoder.options.keys=[...]"
        )
    return keys


def flatten_observation(obs: Observation, keys: Sequence[str]) -> torch.Tensor:
    """Concatenate the ``keys`` of a dict observation along the last axis (plain tensors pass).

    Shapes: {key: (B, F_key)} -> (B, sum F_key).
    """
    if not isinstance(obs, Mapping):
        return obs
    missing = [k for k in keys if k not in obs]
    if missing:
        raise ValueError(f"observation must have keys {list(keys)}, got {sorted(obs)}")
    return torch.cat([obs[k] for k in keys], dim=-1)


def mlp_layers(
    inp: int, hidden: int, out: int, layers: int, device: torch.device | str = "cpu"
) -> list[nn.Module]:
    """``layers`` hidden (Linear, SiLU) pairs then an output Linear, as a list to extend."""
    mods: list[nn.Module] = []
    width = inp
    for _ in range(layers):
        mods += [nn.Linear(width, hidden, device=device), nn.SiLU()]
        width = hidden
    mods.append(nn.Linear(width, out, device=device))
    return mods


def flat_dim(input_shapes: Mapping[str, Sequence[int]], keys: Sequence[str]) -> int:
    """Size of the flattened observation: the sum over ``keys`` of each key's 1-D size. An
    entry that is not 1-D is refused, naming it and the fix."""
    missing = [k for k in keys if k not in input_shapes]
    if missing:
        raise ValueError(
            f"observation keys {list(keys)} expected, got {sorted(input_shapes)}: {missing} not among them"
        )
    for k in keys:
        shape = tuple(input_shapes[k])
        if len(shape) == 1:
            continue
        vectors = [j for j in sorted(input_shapes) if len(input_shapes[j]) == 1 and j not in GOAL_KEYS]
        leave_out = f"leave it out with encoder.options.keys=[{', '.join(vectors)}]"
        if len(shape) == 3:
            raise ValueError(
                f"observation entry {k!r} is an image {shape}: the MLP encoder reads 1-D entries; encode images "
                f"with encoder=conv (encoder=conv_state for an image with state entries), or {leave_out}"
            )
        raise ValueError(
            f"observation entry {k!r} has shape {shape}: the MLP encoder reads 1-D entries; {leave_out} or "
            "wrap the env (gymnasium.wrappers.FlattenObservation)"
        )
    return sum(int(input_shapes[k][0]) for k in keys)


class MLPEncoder(Encoder):
    """Encodes state vectors with an MLP (SiLU hidden layers, LayerNorm'd output).

    Dict observations are flattened by concatenating the encoded keys in order (by default
    :func:`default_keys`), so for the reach envs the input is the ``observation`` vector
    documented on each env. A scalar entry is shape ``(B, 1)`` (the agent adds the axis).
    Non-finite inputs raise ``ValueError`` rather than silently propagating NaN into a plan.
    """

    def __init__(
        self,
        config: MLPEncoderConfig,
        *,
        input_shapes: Mapping[str, Sequence[int]],
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.config = config
        self.keys = tuple(config.keys) if config.keys is not None else default_keys(input_shapes)
        self.input_dim = input_dim = flat_dim(input_shapes, self.keys)
        self.latent_dim = config.latent_dim
        layers = mlp_layers(input_dim, config.hidden_dim, config.latent_dim, config.layers, device)
        if config.normalize_output:
            layers.append(nn.LayerNorm(config.latent_dim, elementwise_affine=False, device=device))
        self.net = nn.Sequential(*layers)
        self.register_buffer("in_mean", torch.zeros(input_dim, device=device))
        self.register_buffer("in_std", torch.ones(input_dim, device=device))

    @torch.no_grad()
    def adapt(self, obs: Observation) -> None:
        if not self.config.normalize_input:
            return
        x = flatten_observation(obs, self.keys).float()  # (B, F)
        self.in_mean.copy_(x.mean(0))
        # Features that barely vary (a joint at a limit) are left at unit scale.
        self.in_std.copy_(x.std(0).clamp_min(1e-2))

    @torch.no_grad()
    def refit(self, obs: Observation) -> None:
        """New input statistics from ``obs``; the first layer is rescaled so that every input
        maps to the same latent as before: with ``x' = (x - m') / s'``, the weights ``W s'/s`` and
        bias ``b + W (m' - m) / s`` give ``W (x - m) / s + b`` exactly (up to rounding)."""
        if not self.config.normalize_input:
            return
        x = flatten_observation(obs, self.keys).to(self.in_mean.dtype)  # (B, F)
        mean, std = x.mean(0), x.std(0).clamp_min(1e-2)
        first = self.net[0]
        first.bias.add_(first.weight @ ((mean - self.in_mean) / self.in_std))
        first.weight.mul_(std / self.in_std)
        self.in_mean.copy_(mean)
        self.in_std.copy_(std)

    def encode(self, obs: Observation) -> torch.Tensor:
        x = flatten_observation(obs, self.keys)
        if x.shape[-1] != self.input_dim:
            raise ValueError(
                f"observation must be (B, {self.input_dim}) after flattening keys "
                f"{list(self.keys)}, got {tuple(x.shape)}"
            )
        if x.ndim == 1:
            raise ValueError(f"observation must be batched (B, {self.input_dim}), got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("observation contains NaN or inf; the encoder expects finite values")
        x = (x.to(self.in_mean.dtype) - self.in_mean) / self.in_std
        return self.net(x)
