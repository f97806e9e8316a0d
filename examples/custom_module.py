"""Plug in your own modules: a planner and an encoder written outside the library.

    python examples/custom_module.py                          # Reach2D, writes runs/custom_module
    python examples/custom_module.py --steps 4000 --episodes 10 --out runs/custom_quick
    jepa-agent train --config configs/custom_module.yaml      # the same, from the repository root

``Annealed`` subclasses the sampling-planner ABC (one method, ``refit``) and ``TanhEncoder``
subclasses ``perception.Encoder`` (``encode``, and ``adapt`` for its input normalisation).
``configs/custom_module.yaml`` names them by import path (``examples.custom_module:Annealed``);
the configurator imports them, checks that they subclass the ABCs and validates their options
before anything runs. No library file is edited and nothing is registered.

This script is ``jepa-agent train --config configs/custom_module.yaml`` and takes the same
flags (``--steps --episodes --out --num-envs --threads --video --log`` and any
``--key=value`` override); it writes the same run folder.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from torch import nn

from jepa_agent.actor import SamplingPlanner, SamplingPlannerConfig
from jepa_agent.perception import Encoder, Observation

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "custom_module.yaml"


# --------------------------------------------------------------------------- your planner
# --8<-- [start:planner]
class AnnealedConfig(SamplingPlannerConfig):
    shrink: float = 0.5          # std multiplier per iteration

class Annealed(SamplingPlanner):
    config_class = AnnealedConfig

    def refit(self, samples, costs, mean, std):          # (B,N,H,A), (B,N), (B,H,A), (B,H,A)
        best = costs.argmin(dim=1)                       # (B,)
        new_mean = samples[torch.arange(len(best)), best]
        return new_mean, std * self.config.shrink
# --8<-- [end:planner]


# --------------------------------------------------------------------------- your encoder
# --8<-- [start:encoder]
class TanhEncoderConfig(BaseModel):
    """Options of :class:`TanhEncoder` (validated before anything is built)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latent_dim: PositiveInt = 16
    """D: size of the latent state."""
    hidden_dim: PositiveInt = 128
    """Width of the two hidden layers."""
    key: str = "observation"
    """Entry of the dict observation that is encoded."""
    normalize_output: bool = True
    """LayerNorm the latent (the JEPA world model reads this flag and normalises its
    predictions the same way, so predictions and targets live on the same sphere)."""
    min_std: float = Field(1e-2, gt=0.0)
    """Floor of the input standardisation's std (features that barely vary)."""


class TanhEncoder(Encoder):
    """Standardised input -> Linear-Tanh-Linear-Tanh-Linear -> (LayerNorm) latent.

    The configurator calls ``TanhEncoder(config, input_shapes={key: shape}, device=...)``.
    Shapes: obs {key: (B, F)} -> s (B, D).
    """

    def __init__(
        self, config: TanhEncoderConfig, *, input_shapes: Mapping[str, Sequence[int]], device: torch.device | str = "cpu"
    ) -> None:
        super().__init__()
        if config.key not in input_shapes or len(input_shapes[config.key]) != 1:
            raise ValueError(f"TanhEncoder needs a 1-D observation entry {config.key!r}, got {dict(input_shapes)}")
        self.config = config
        self.latent_dim = config.latent_dim
        n, h = int(input_shapes[config.key][0]), config.hidden_dim
        self.net = nn.Sequential(
            nn.Linear(n, h, device=device), nn.Tanh(),
            nn.Linear(h, h, device=device), nn.Tanh(),
            nn.Linear(h, config.latent_dim, device=device),
        )
        self.register_buffer("in_mean", torch.zeros(n, device=device))
        self.register_buffer("in_std", torch.ones(n, device=device))

    @torch.no_grad()
    def adapt(self, obs: Observation) -> None:
        x = obs[self.config.key].float()  # (B, F): the first collected data
        self.in_mean.copy_(x.mean(0))
        self.in_std.copy_(x.std(0).clamp_min(self.config.min_std))

    def encode(self, obs: Observation) -> torch.Tensor:
        x = (obs[self.config.key].float() - self.in_mean) / self.in_std  # (B, F)
        s = self.net(x)  # (B, D)
        return F.layer_norm(s, (self.latent_dim,)) if self.config.normalize_output else s
# --8<-- [end:encoder]


# --------------------------------------------------------------------------- the run
def main(argv: Sequence[str] | None = None) -> int:
    """Train and evaluate with configs/custom_module.yaml; ``argv`` as for ``jepa-agent train``."""
    # The config names these classes as `examples.custom_module:...`, importable from the
    # repository root (the CLI adds the current folder; this script may run from anywhere).
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from jepa_agent.agent.app.cli import main as cli_main

    args = list(sys.argv[1:] if argv is None else argv)
    defaults = ["--config", str(CONFIG)] + ([] if "--out" in args else ["--out", "runs/custom_module"])
    return cli_main(["train", *defaults, *args])


if __name__ == "__main__":
    sys.exit(main())
