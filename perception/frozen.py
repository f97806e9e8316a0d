"""A fixed perception module made from any torch module (e.g. pretrained features)."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from jepa_agent.perception.base import Encoder, Observation
from jepa_agent.perception.conv import image_batch, to_unit_range
from jepa_agent.perception.mlp import flatten_observation


class FrozenEncoderConfig(BaseModel):
    """Configuration of :class:`FrozenEncoder`: where the module comes from and what it eats.

    The module is given in code (``FrozenEncoder(config, module=net, ...)``), or built here:
    ``factory`` alone (a callable returning a module, e.g. a pretrained-model constructor),
    ``factory`` + ``path`` (its weights from a local ``state_dict`` file: ``.safetensors``, or
    a ``torch.save`` file read with ``weights_only=True``), or ``path`` alone (a whole module:
    a ``torch.export`` archive ``*.pt2`` or a ``torch.save(module)`` file). A whole module is
    code as well as weights, and opening one runs what its file says: that needs
    ``trust_code: true``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    factory: str | None = None
    """``"package.module:callable"`` returning an ``nn.Module``."""
    factory_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of ``factory``."""
    path: str | None = None
    """Local file: with ``factory``, a ``state_dict`` (``.safetensors``, or a ``torch.save``
    file loaded with ``weights_only=True``); alone, a ``torch.export.save`` archive (``.pt2``;
    export it in eval mode with a dynamic batch axis) or a pickled module, either of which
    needs ``trust_code``."""
    trust_code: bool = False
    """Open a whole-module file (``path`` alone): unpickling it, or torch.export's loader,
    runs code the file names. Set it only for files you made or trust. A checkpoint's own
    config never sets it for you: :meth:`Agent.load` asks its caller (``trust_code=True``)."""
    key: str | None = None
    """Dict-observation key fed to the module; None: ``pixels`` if present, else the
    ``observation`` entry, else the single entry."""
    image_mean: tuple[float, ...] | None = None
    """For image inputs: per-channel mean subtracted after uint8 is scaled to [0, 1] (e.g.
    ImageNet's (0.485, 0.456, 0.406)); None with ``image_std`` None: images are only scaled."""
    image_std: tuple[float, ...] | None = None
    """Per-channel std that divides, with ``image_mean``."""
    normalize_output: bool = False
    """LayerNorm (no learned scale) on the features: one scale for every dimension, so the
    latent goal energy is not ruled by a few large features. The world model's predictions
    share it."""

    @model_validator(mode="after")
    def _check(self) -> FrozenEncoderConfig:
        if (self.image_mean is None) != (self.image_std is None):
            raise ValueError("image_mean and image_std go together: give both or neither")
        if self.image_std is not None and min(self.image_std) <= 0:
            raise ValueError(f"image_std must be positive, got {self.image_std}")
        if self.factory is not None and ":" not in self.factory:
            raise ValueError(f"factory must be 'package.module:callable', got {self.factory!r}")
        return self


def load_module(config: FrozenEncoderConfig) -> nn.Module:
    """Build or load the module a :class:`FrozenEncoderConfig` describes."""
    if config.factory is not None:
        module_name, _, attr = config.factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"cannot import the frozen encoder's factory {config.factory!r}: {err}") from err
        net = factory(**config.factory_kwargs)
        if not isinstance(net, nn.Module):
            raise ValueError(f"factory {config.factory!r} must return an nn.Module, got {type(net).__name__}")
        if config.path is not None:
            net.load_state_dict(_state_dict(_existing(config.path)))
        return net
    if config.path is None:
        raise ValueError(
            "FrozenEncoder needs a module: pass module= in code, or set factory and/or path in its config"
        )
    path = _existing(config.path)
    if not config.trust_code:
        raise ValueError(
            f"{path} is a whole module (code as well as weights) and opening it runs what the file says: set "
            "the frozen encoder's trust_code: true if you trust the file, or give factory and a state_dict path"
        )
    if path.suffix == ".pt2":
        return torch.export.load(path).module()
    net = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(net, nn.Module):
        raise ValueError(
            f"{path} holds a {type(net).__name__}, not a module; save the module itself, or give "
            f"factory and save its state_dict"
        )
    return net


def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Weights from a safetensors file or a ``torch.save`` file of tensors (read with
    ``weights_only=True``: nothing in it is called); anything else is one line naming it."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(path)
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        named = []
        with contextlib.suppress(Exception):  # reads the pickle's opcodes; runs nothing
            named = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        what = f"it names {', '.join(named[:3])}, not opened" if named else " ".join(str(err).split())[:200]
        raise ValueError(f"could not read the frozen encoder's weights from {path}: not a state_dict of "
                         f"tensors ({what})") from None


def _existing(path: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"frozen encoder file not found: {p}")
    return p


class FrozenEncoder(Encoder):
    """Any torch module as a fixed perception module: no parameter is trained.

    The module's output is flattened to the latent ``(B, D)``; ``D`` is found by one forward
    pass on a zero observation of the declared shape. uint8 images are scaled to [0, 1] (and
    standardised when ``image_mean``/``image_std`` are set) before the module sees them. The
    module is kept in eval mode (fixed dropout and batch-norm statistics) whatever mode
    the agent puts the encoder in.

    Shapes: obs {key: (B, ...)} or (B, ...) -> s (B, D).
    """

    def __init__(
        self,
        config: FrozenEncoderConfig,
        *,
        input_shapes: Mapping[str, Sequence[int]],
        device: torch.device | str = "cpu",
        module: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.key = _input_key(input_shapes, config.key)
        self.input_shape = tuple(int(n) for n in input_shapes[self.key])
        net = module if module is not None else load_module(config)
        self.module = _eval_mode(net.to(device)).requires_grad_(False)
        if config.image_mean is not None:
            n = len(config.image_mean)
            if len(self.input_shape) != 3 or len(config.image_std or ()) != n or self.input_shape[0] != n:
                raise ValueError(
                    f"image_mean/image_std need one entry per channel of a (C, H, W) input, got "
                    f"{n} and {len(config.image_std or ())} for input {self.input_shape}"
                )
            mean = torch.tensor(config.image_mean, device=device).reshape(n, 1, 1)
            std = torch.tensor(config.image_std, device=device).reshape(n, 1, 1)
        else:
            mean, std = torch.zeros((), device=device), torch.ones((), device=device)
        self.register_buffer("in_mean", mean)
        self.register_buffer("in_std", std)
        with torch.no_grad():
            dtype = torch.uint8 if len(self.input_shape) == 3 else torch.float32
            probe = torch.zeros((1, *self.input_shape), dtype=dtype, device=device)
            self.latent_dim = int(self._features(probe).shape[-1])

    def train(self, mode: bool = True) -> FrozenEncoder:
        # Frozen means frozen: the module stays in eval mode (no dropout, no batch-norm
        # statistics updates) whatever the world model's mode.
        self.training = mode
        return self

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4:  # images
            x = (to_unit_range(x, self.in_mean.dtype) - self.in_mean) / self.in_std
        else:
            x = x.to(self.in_mean.dtype)
        out = self.module(x)
        if not isinstance(out, torch.Tensor):
            raise ValueError(f"the frozen module must return a tensor, got {type(out).__name__}")
        out = out.reshape(out.shape[0], -1)  # (B, D)
        if self.config.normalize_output:
            out = F.layer_norm(out, out.shape[-1:])
        return out

    def encode(self, obs: Observation) -> torch.Tensor:
        if len(self.input_shape) == 3:
            x = image_batch(obs, self.key, self.input_shape)
        else:
            x = flatten_observation(obs, [self.key])
            if tuple(x.shape[1:]) != self.input_shape or x.ndim != len(self.input_shape) + 1:
                raise ValueError(
                    f"observation {self.key!r} must be (B, {', '.join(map(str, self.input_shape))}), "
                    f"got {tuple(x.shape)}"
                )
        with torch.no_grad():
            return self._features(x)


def _eval_mode(net: nn.Module) -> nn.Module:
    """``net.eval()``; a ``torch.export`` module keeps the mode it was exported in."""
    try:
        net.eval()
    except NotImplementedError:
        pass
    return net


def _input_key(input_shapes: Mapping[str, Sequence[int]], key: str | None) -> str:
    if key is None:
        for candidate in ("pixels", "observation"):
            if candidate in input_shapes:
                key = candidate
                break
        else:
            if len(input_shapes) != 1:
                raise ValueError(f"set key: which of {sorted(input_shapes)} does the frozen module read?")
            key = next(iter(input_shapes))
    if key not in input_shapes:
        raise ValueError(f"observation key {key!r} expected, got {sorted(input_shapes)}")
    return key
