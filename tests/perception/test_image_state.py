"""ImageStateEncoder: fuses a camera image with the proprioceptive state vector."""

from __future__ import annotations

import pytest
import torch

from jepa_agent.configurator import ENCODERS
from jepa_agent.perception import ConvEncoderConfig, ImageStateEncoder, ImageStateEncoderConfig

SHAPES = {"pixels": (3, 32, 32), "observation": (8,), "achieved_goal": (2,), "desired_goal": (2,)}


def obs(b: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "pixels": torch.randint(0, 256, (b, 3, 32, 32), generator=g, dtype=torch.uint8),
        "observation": torch.randn(b, 8, generator=g),
        "achieved_goal": torch.randn(b, 2, generator=g),
        "desired_goal": torch.randn(b, 2, generator=g),
    }


def encoder(**kwargs) -> ImageStateEncoder:
    cfg = ImageStateEncoderConfig(image=ConvEncoderConfig(channels=(8, 8), latent_dim=8), **kwargs)
    return ImageStateEncoder(cfg, input_shapes=SHAPES)


def test_shapes_and_both_inputs_matter():
    """(B, 3, H, W) uint8 + (B, 8) -> (B, D); changing either the image or the state changes s."""
    enc = encoder(latent_dim=10)
    o = obs()
    s = enc(o)
    assert s.shape == (4, 10) and s.dtype == torch.float32
    other_image = {**o, "pixels": obs(seed=1)["pixels"]}
    other_state = {**o, "observation": obs(seed=1)["observation"]}
    assert not torch.allclose(enc(other_image), s)
    assert not torch.allclose(enc(other_state), s)
    # The goal entries are not read.
    torch.testing.assert_close(enc({**o, "desired_goal": o["desired_goal"] + 1}), s)


def test_adapt_fits_both_branches():
    """adapt() standardises the state branch's inputs and the image branch's channels."""
    enc = encoder()
    o = obs(256)
    enc.adapt(o)
    torch.testing.assert_close(enc.state.in_mean, o["observation"].mean(0))
    torch.testing.assert_close(enc.image.in_mean.flatten(), o["pixels"].float().mean(dim=(0, 2, 3)) / 255)


def test_needs_a_dict_with_both_entries():
    """A plain tensor, or a dict without the state entry, is refused with the keys it needs."""
    enc = encoder()
    with pytest.raises(ValueError, match="dict observation"):
        enc(obs()["pixels"])
    with pytest.raises(ValueError, match="observation"):
        enc({"pixels": obs()["pixels"]})


def test_state_branch_without_observation_reads_the_other_entries_sorted():
    """Without an 'observation' entry the state branch reads every entry but the image and the
    goal ones, in name order; with only goal entries besides the image it is refused."""
    shapes = {"pixels": (3, 32, 32), "y": (2,), "x": (1,), "desired_goal": (2,)}
    assert ImageStateEncoder(ImageStateEncoderConfig(), input_shapes=shapes).state.keys == ("x", "y")
    with pytest.raises(ValueError, match="only goal entries"):
        ImageStateEncoder(ImageStateEncoderConfig(), input_shapes={"pixels": (3, 32, 32), "desired_goal": (2,)})


def test_registered_as_conv_state():
    """'conv_state' resolves to ImageStateEncoder."""
    assert ENCODERS.resolve("conv_state") is ImageStateEncoder
