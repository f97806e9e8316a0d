"""Tests for perception.MLPEncoder and flatten_observation."""

import pytest
import torch

from jepa_agent.perception import (
    Encoder,
    MLPEncoder,
    MLPEncoderConfig,
    default_keys,
    flatten_observation,
)

D, HID = 8, 16


def make(keys=("observation",), shapes=None, normalize=True) -> MLPEncoder:
    torch.manual_seed(0)
    cfg = MLPEncoderConfig(latent_dim=D, hidden_dim=HID, keys=keys, normalize_output=normalize)
    return MLPEncoder(cfg, input_shapes=shapes or {"observation": (5,)})


def test_output_shape_and_layernorm_bound():
    """Output is (B, D) and, with normalize_output, each row has mean ~0 and variance ~1."""
    enc = make()
    s = enc({"observation": 10 * torch.randn(7, 5)})
    assert isinstance(enc, Encoder) and s.shape == (7, D)
    torch.testing.assert_close(s.mean(-1), torch.zeros(7), atol=1e-5, rtol=0)
    torch.testing.assert_close(s.var(-1, unbiased=False), torch.ones(7), atol=1e-3, rtol=0)


def test_unnormalized_output_is_not_layernormed():
    """Without normalize_output the rows are not forced to zero mean / unit variance."""
    enc = make(normalize=False)
    s = enc({"observation": 10 * torch.randn(7, 5)})
    assert s.shape == (7, D)
    assert not torch.allclose(s.var(-1, unbiased=False), torch.ones(7), atol=1e-2)


def test_dict_flattened_in_keys_order():
    """Dict observations are concatenated in config.keys order, not the dict's order."""
    obs = {"b": torch.randn(3, 2), "a": torch.randn(3, 4), "ignored": torch.randn(3, 9)}
    flat = flatten_observation(obs, ("a", "b"))
    torch.testing.assert_close(flat, torch.cat([obs["a"], obs["b"]], dim=-1))
    enc = make(keys=("a", "b"), shapes={"b": (2,), "a": (4,)})
    assert enc.input_dim == 6
    manual = enc.net(torch.cat([obs["a"], obs["b"]], dim=-1))
    torch.testing.assert_close(enc(obs), manual)
    swapped = enc.net(torch.cat([obs["b"], obs["a"]], dim=-1))
    assert not torch.allclose(enc(obs), swapped)


def test_wrong_shape_quotes_expected_and_got():
    """A wrongly sized observation raises ValueError naming the expected and received shape."""
    enc = make()
    with pytest.raises(ValueError, match=r"\(B, 5\).*got \(4, 3\)"):
        enc({"observation": torch.randn(4, 3)})


def test_nan_input_rejected():
    """Non-finite observations raise ValueError instead of propagating NaN."""
    enc = make()
    x = torch.randn(2, 5)
    x[1, 3] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        enc({"observation": x})
    x[1, 3] = float("inf")
    with pytest.raises(ValueError):
        enc({"observation": x})


def test_unknown_key_rejected():
    """A dict observation lacking a configured key, or a config naming an absent key, raises."""
    enc = make()
    with pytest.raises(ValueError, match="observation"):
        enc({"pixels": torch.randn(2, 5)})
    with pytest.raises(ValueError, match="nope"):
        make(keys=("nope",), shapes={"observation": (5,)})


def test_unbatched_input_rejected():
    """A 1-D observation (no batch axis) raises ValueError quoting its shape."""
    enc = make()
    with pytest.raises(ValueError, match=r"batched.*got \(5,\)"):
        enc({"observation": torch.randn(5)})


def test_refit_moves_the_normalisation_and_keeps_every_latent():
    """Known answer: new statistics from far-away data, the same latents for old and new inputs."""
    enc = make(normalize=False)
    enc.adapt({"observation": torch.randn(500, 5)})  # the first data: near 0, unit spread
    far = {"observation": 3.0 + 0.2 * torch.randn(500, 5)}  # explored later: 15 of those std away
    probe = {"observation": torch.cat([torch.randn(50, 5), far["observation"][:50]])}
    before = enc(probe)
    enc.refit(far)
    torch.testing.assert_close(enc(probe), before, atol=1e-4, rtol=1e-4)
    x = far["observation"]
    torch.testing.assert_close(enc.in_mean, x.mean(0))
    torch.testing.assert_close(enc.in_std, x.std(0))
    normalised = (x - enc.in_mean) / enc.in_std
    assert normalised.abs().max() < 5  # what the first layer now sees of the new data


def test_refit_without_input_normalisation_changes_nothing():
    torch.manual_seed(0)
    enc = MLPEncoder(MLPEncoderConfig(latent_dim=D, hidden_dim=HID, normalize_input=False),
                     input_shapes={"observation": (5,)})
    weights = [p.clone() for p in enc.parameters()]
    enc.refit({"observation": 3.0 + torch.randn(100, 5)})
    assert all(torch.equal(a, b) for a, b in zip(weights, enc.parameters(), strict=True))
    assert torch.equal(enc.in_mean, torch.zeros(5)) and torch.equal(enc.in_std, torch.ones(5))


def test_default_keys_are_observation_else_every_non_goal_entry_sorted():
    """keys=None reads 'observation' where there is one, else every entry but the goal ones in name order."""
    assert default_keys({"observation": (3,), "achieved_goal": (2,), "desired_goal": (2,)}) == ("observation",)
    shapes = {"velocity": (2,), "desired_goal": (2,), "position": (3,), "time": (1,), "achieved_goal": (2,)}
    assert default_keys(shapes) == ("position", "time", "velocity")
    enc = MLPEncoder(MLPEncoderConfig(latent_dim=D, hidden_dim=HID), input_shapes=shapes)
    assert enc.keys == ("position", "time", "velocity") and enc.input_dim == 6
    with pytest.raises(ValueError, match="only goal entries"):
        default_keys({"achieved_goal": (2,), "desired_goal": (2,)})


def test_an_entry_that_is_not_1d_is_named_with_the_fix():
    """An image entry the MLP reads names encoder=conv; another shape names FlattenObservation; both name keys."""
    cfg = MLPEncoderConfig(latent_dim=D, hidden_dim=HID)
    with pytest.raises(ValueError, match=r"'camera' is an image \(3, 8, 8\).*encoder=conv.*keys=\[position\]"):
        MLPEncoder(cfg, input_shapes={"camera": (3, 8, 8), "position": (2,)})
    with pytest.raises(ValueError, match=r"'grid' has shape \(3, 4\).*keys=\[position\].*FlattenObservation"):
        MLPEncoder(cfg, input_shapes={"grid": (3, 4), "position": (2,)})
