"""ConvEncoder and SpatialSoftmax: shapes, dtype handling, normalisation, config checks."""

from __future__ import annotations

import pytest
import torch

from jepa_agent.configurator import ENCODERS, AgentConfig
from jepa_agent.perception import ConvEncoder, ConvEncoderConfig, SpatialSoftmax
from jepa_agent.world_model import JEPAWorldModel, JEPAWorldModelConfig

SHAPES = {"pixels": (3, 64, 64), "achieved_goal": (2,)}


def images(b: int = 5, shape=(3, 64, 64), seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (b, *shape), generator=g, dtype=torch.uint8)


@pytest.mark.parametrize("head", ["flatten", "spatial_softmax"])
def test_uint8_images_to_float_latents(head):
    """(B, 3, 64, 64) uint8 -> (B, D) float32, finite, LayerNorm'd (zero mean, unit std per row)."""
    enc = ConvEncoder(ConvEncoderConfig(head=head, latent_dim=12), input_shapes=SHAPES)
    s = enc({"pixels": images()})
    assert s.shape == (5, 12) and s.dtype == torch.float32
    assert torch.isfinite(s).all()
    torch.testing.assert_close(s.mean(-1), torch.zeros(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(s.std(-1, unbiased=False), torch.ones(5), atol=1e-2, rtol=0)


def test_float_images_in_unit_range_match_uint8():
    """A float image in [0, 1] encodes exactly like the uint8 image it came from."""
    enc = ConvEncoder(ConvEncoderConfig(), input_shapes=SHAPES)
    x = images()
    torch.testing.assert_close(enc({"pixels": x.float() / 255}), enc({"pixels": x}))


def test_plain_tensor_and_frame_stacks():
    """A plain (B, C, H, W) tensor works (single-entry space), and so do 9-channel frame stacks."""
    enc = ConvEncoder(ConvEncoderConfig(), input_shapes={"": (9, 32, 48)})
    assert enc.key == "" and enc(images(2, (9, 32, 48))).shape == (2, 16)


def test_bad_inputs_rejected_with_both_shapes():
    """Wrong image size, a missing batch axis and integer non-uint8 dtypes fail clearly."""
    enc = ConvEncoder(ConvEncoderConfig(), input_shapes=SHAPES)
    with pytest.raises(ValueError, match=r"\(B, 3, 64, 64\).*got \(2, 3, 32, 32\)"):
        enc({"pixels": images(2, (3, 32, 32))})
    with pytest.raises(ValueError, match=r"got \(3, 64, 64\)"):
        enc({"pixels": images(1)[0]})
    with pytest.raises(ValueError, match="uint8.*float.*int32"):
        enc({"pixels": images(2).int()})


def test_adapt_standardises_each_channel():
    """adapt() fits per-channel mean/std, so standardised inputs of that data have mean ~0, std ~1."""
    enc = ConvEncoder(ConvEncoderConfig(), input_shapes=SHAPES)
    x = images(64)
    x[:, 1] //= 4  # a darker green channel
    enc.adapt({"pixels": x})
    z = (x.float() / 255 - enc.in_mean) / enc.in_std
    torch.testing.assert_close(z.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(z.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3, rtol=0)
    assert enc.in_mean[1] < enc.in_mean[0]


def test_config_is_checked():
    """Mismatched strides, a trunk that shrinks the image away, and unknown keys are refused."""
    with pytest.raises(ValueError, match="one entry per conv layer"):
        ConvEncoderConfig(channels=(8, 8), strides=(2,))
    with pytest.raises(ValueError, match="shrinks a 8x8 image"):
        ConvEncoder(ConvEncoderConfig(channels=(4,) * 5, kernel_size=4), input_shapes={"pixels": (3, 8, 8)})
    with pytest.raises(ValueError, match="pixels"):
        ConvEncoder(ConvEncoderConfig(), input_shapes={"observation": (8,), "goal": (2,)})
    with pytest.raises(ValueError, match="extra"):
        ConvEncoderConfig(chanels=(8,))


def test_spatial_softmax_finds_the_hot_spot():
    """SpatialSoftmax returns the (x, y) in [-1, 1] of each channel's peak (x right, y down)."""
    ss = SpatialSoftmax(5, 9)
    f = torch.full((1, 2, 5, 9), -50.0)
    f[0, 0, 0, 8] = 50.0  # top-right
    f[0, 1, 2, 4] = 50.0  # centre
    torch.testing.assert_close(ss(f), torch.tensor([[1.0, -1.0, 0.0, 0.0]]), atol=1e-4, rtol=0)


def test_registered_and_configurable_by_name():
    """'conv' resolves to ConvEncoder and its options are validated through AgentConfig."""
    assert ENCODERS.resolve("conv") is ConvEncoder
    cfg = AgentConfig.model_validate({"encoder": {"name": "conv", "options": {"channels": [8, 16]}}})
    assert cfg.encoder.resolve("encoder")[1].channels == (8, 16)
    with pytest.raises(ValueError, match="did you mean 'channels'"):
        AgentConfig.model_validate({"encoder": {"name": "conv", "options": {"channel": [8]}}})


def test_jepa_world_model_trains_the_conv_encoder_on_images():
    """The JEPA loss on image windows back-propagates into the conv trunk; adapt reaches the target."""
    enc = ConvEncoder(ConvEncoderConfig(channels=(8, 8, 8, 8)), input_shapes=SHAPES)
    wm = JEPAWorldModel(JEPAWorldModelConfig(hidden_dim=32), encoder=enc, action_dim=2)
    batch = {"obs": {"pixels": images(12).reshape(4, 3, 3, 64, 64)}, "actions": torch.rand(4, 2, 2)}
    wm.adapt({"pixels": images(8)})
    torch.testing.assert_close(wm.target_encoder.in_mean, enc.in_mean)
    loss, info = wm.loss(batch)
    loss.backward()
    assert enc.trunk[0].weight.grad is not None and enc.trunk[0].weight.grad.abs().sum() > 0
    assert info["embed_std"] > 0
    s = wm.encode({"pixels": images(3)})
    assert wm.rollout(s, torch.zeros(3, 5, 2)).shape == (3, 5, 16)
