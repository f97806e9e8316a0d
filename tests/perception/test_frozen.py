"""FrozenEncoder: any torch module as a fixed perception module (code, factory or local file)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from jepa_agent.configurator import ENCODERS
from jepa_agent.perception import FrozenEncoder, FrozenEncoderConfig
from jepa_agent.world_model import JEPAWorldModel, JEPAWorldModelConfig

SHAPES = {"pixels": (3, 16, 16), "achieved_goal": (2,)}


def features() -> nn.Module:
    """A small 'pretrained' feature extractor: (B, 3, 16, 16) -> (B, 4, 2, 2) with dropout."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 4, 4), nn.Dropout(0.5), nn.AvgPool2d(2))


def images(b: int = 3) -> torch.Tensor:
    return torch.randint(0, 256, (b, 3, 16, 16), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)


def test_wraps_a_module_given_in_code():
    """The module's flattened output is the latent; D comes from a dry run; nothing is trainable."""
    net = features()
    enc = FrozenEncoder(FrozenEncoderConfig(), input_shapes=SHAPES, module=net)
    assert enc.latent_dim == 16
    x = images()
    s = enc({"pixels": x})
    assert s.shape == (3, 16) and not s.requires_grad
    torch.testing.assert_close(s, net.eval()(x.float() / 255).flatten(1))
    assert not any(p.requires_grad for p in enc.parameters())


def test_stays_in_eval_mode_and_standardises_images():
    """train() leaves the module in eval mode (dropout off), and image_mean/std standardise uint8."""
    cfg = FrozenEncoderConfig(image_mean=(0.5, 0.5, 0.5), image_std=(0.25, 0.25, 0.25))
    net = features()
    enc = FrozenEncoder(cfg, input_shapes=SHAPES, module=net).train()
    assert not enc.module.training
    x = images()
    torch.testing.assert_close(enc({"pixels": x}), enc({"pixels": x}))
    torch.testing.assert_close(enc({"pixels": x}), net((x.float() / 255 - 0.5) / 0.25).flatten(1))


def test_world_model_training_leaves_it_unchanged():
    """A JEPA loss step trains the predictor but not the frozen encoder."""
    enc = FrozenEncoder(FrozenEncoderConfig(normalize_output=True), input_shapes=SHAPES, module=features())
    wm = JEPAWorldModel(JEPAWorldModelConfig(hidden_dim=16), encoder=enc, action_dim=2)
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    opt = torch.optim.Adam([p for p in wm.parameters() if p.requires_grad], lr=1e-2)
    loss, _ = wm.loss({"obs": {"pixels": images(6).reshape(2, 3, 3, 16, 16)}, "actions": torch.rand(2, 2, 2)})
    loss.backward()
    opt.step()
    for k, v in enc.state_dict().items():
        torch.testing.assert_close(v, before[k])
    assert wm.in_state.weight.grad is not None


def test_loads_from_local_files(tmp_path):
    """A pickled module and a torch.export archive (with trust_code), and factory + state_dict
    (torch.save or safetensors) all load and agree; a whole module without trust_code is refused."""
    net = features().eval()
    x = {"pixels": images()}
    expected = FrozenEncoder(FrozenEncoderConfig(), input_shapes=SHAPES, module=net)(x)
    torch.save(net, tmp_path / "module.pt")
    batch = torch.export.Dim("B")
    exported = torch.export.export(net, (images(2).float(),), dynamic_shapes=({0: batch},))
    torch.export.save(exported, tmp_path / "exported.pt2")
    torch.save(net.state_dict(), tmp_path / "weights.pt")
    save_file(net.state_dict(), tmp_path / "weights.safetensors")
    configs = [
        FrozenEncoderConfig(path=str(tmp_path / "module.pt"), trust_code=True),
        FrozenEncoderConfig(path=str(tmp_path / "exported.pt2"), trust_code=True),
        FrozenEncoderConfig(factory=f"{__name__}:features", path=str(tmp_path / "weights.pt")),
        FrozenEncoderConfig(factory=f"{__name__}:features", path=str(tmp_path / "weights.safetensors")),
    ]
    for cfg in configs:
        torch.testing.assert_close(FrozenEncoder(cfg, input_shapes=SHAPES)(x), expected)
    for name in ("module.pt", "exported.pt2"):
        with pytest.raises(ValueError, match=f"{name} is a whole module .* trust_code: true") as err:
            FrozenEncoder(FrozenEncoderConfig(path=str(tmp_path / name)), input_shapes=SHAPES)
        assert "\n" not in str(err.value)


def test_state_vectors_and_clear_errors(tmp_path):
    """A state-vector key works; missing module, files and unpaired mean/std fail clearly."""
    enc = FrozenEncoder(FrozenEncoderConfig(key="achieved_goal"), input_shapes=SHAPES, module=nn.Linear(2, 5))
    assert enc({"achieved_goal": torch.zeros(4, 2)}).shape == (4, 5)
    with pytest.raises(ValueError, match="needs a module"):
        FrozenEncoder(FrozenEncoderConfig(), input_shapes=SHAPES)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        FrozenEncoder(FrozenEncoderConfig(path=str(tmp_path / "missing.pt")), input_shapes=SHAPES)
    with pytest.raises(ValueError, match="image_mean and image_std go together"):
        FrozenEncoderConfig(image_mean=(0.5,))
    with pytest.raises(ValueError, match="factory"):
        FrozenEncoder(FrozenEncoderConfig(factory="torch.nn:NoSuchThing"), input_shapes=SHAPES)


def test_registered_as_frozen():
    """'frozen' resolves to FrozenEncoder."""
    assert ENCODERS.resolve("frozen") is FrozenEncoder
