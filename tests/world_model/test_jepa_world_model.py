"""Tests for world_model.JEPAWorldModel, the WorldModel base and the collapse diagnostics."""

import pytest
import torch

from jepa_agent.perception import MLPEncoder, MLPEncoderConfig
from jepa_agent.world_model import (
    JEPAWorldModel,
    JEPAWorldModelConfig,
    WorldModel,
    effective_rank,
    vicreg_terms,
)

OBS, D, A, Z, HID = 4, 8, 2, 3, 16


def make(z_dim: int = Z, seed: int = 0, **cfg) -> JEPAWorldModel:
    torch.manual_seed(seed)
    enc = MLPEncoder(MLPEncoderConfig(latent_dim=D, hidden_dim=HID), input_shapes={"observation": (OBS,)})
    return JEPAWorldModel(
        JEPAWorldModelConfig(hidden_dim=HID, latent_var_dim=z_dim, **cfg), encoder=enc, action_dim=A
    )


def window_batch(B: int = 16, T: int = 3) -> dict:
    return {"obs": {"observation": torch.randn(B, T + 1, OBS)}, "actions": torch.rand(B, T, A) * 2 - 1}


def seeded_loss(wm: JEPAWorldModel, batch: dict, seed: int = 1):
    """``wm.loss`` with the posterior's noise drawn from ``seed``: two models compare equal."""
    torch.manual_seed(seed)
    return wm.loss(batch, diagnostics=False)


@torch.no_grad()
def move_online_encoder(wm: JEPAWorldModel) -> None:
    """The online encoder ahead of its EMA target, as late in training."""
    for p in wm.encoder.parameters():
        p.add_(0.1 * torch.randn_like(p))


def reference_rollout(wm: WorldModel, s0, actions, z):
    s, out = s0, []
    for t in range(actions.shape[1]):
        s = wm.step(s, actions[:, t], None if z is None else z[:, t])
        out.append(s)
    return torch.stack(out, dim=1)


@pytest.mark.parametrize("with_z,mix", [(False, 0.0), (True, 0.0), (False, 0.5), (True, 1.0)])
def test_rollout_equals_step_loop(with_z, mix):
    """The batched rollout equals a plain loop over step(), with and without z, with the
    ensemble's mean mixed in or not."""
    wm = make(ensemble_heads=3, ensemble_mix=mix)
    s0, a = torch.randn(5, D), torch.randn(5, 6, A)
    z = torch.randn(5, 6, Z) if with_z else None
    fast = wm.rollout(s0, a, z)
    assert fast.shape == (5, 6, D)
    torch.testing.assert_close(fast, reference_rollout(wm, s0, a, z), atol=1e-6, rtol=0)


@pytest.mark.parametrize("with_z", [False, True])
def test_base_rollout_equals_fast_path(with_z):
    """WorldModel.rollout (the reference in the base class) equals JEPA's fast path."""
    wm = make()
    s0, a = torch.randn(4, D), torch.randn(4, 5, A)
    z = torch.randn(4, 5, Z) if with_z else None
    torch.testing.assert_close(WorldModel.rollout(wm, s0, a, z), wm.rollout(s0, a, z), atol=1e-6, rtol=0)


def test_z_changes_prediction():
    """A non-zero latent variable changes the prediction (z is not silently ignored)."""
    wm = make()
    s0, a = torch.randn(4, D), torch.randn(4, 5, A)
    assert not torch.allclose(wm.rollout(s0, a, torch.randn(4, 5, Z)), wm.rollout(s0, a))


@pytest.mark.parametrize(
    ("s0", "a", "z", "pattern"),
    [
        ((3, 5), (3, 4, A), None, r"s0 must be \(B, D\)=\(B, 8\), got \(3, 5\)"),
        ((3, D), (3, 4, 5), None, r"actions must be \(B, H, A\)=\(3, H, 2\), got \(3, 4, 5\)"),
        ((3, D), (2, 4, A), None, r"actions .*got \(2, 4, 2\)"),
        ((3, D), (3, 4, A), (3, 5, Z), r"z must be \(B, H, Z\)=\(3, 4, 3\), got \(3, 5, 3\)"),
        ((3, D), (3, 4), None, r"actions .*got \(3, 4\)"),
    ],
)
def test_rollout_shape_errors_quote_expected_and_got(s0, a, z, pattern):
    """Wrong rollout input shapes raise ValueError quoting the expected and received shapes."""
    wm = make()
    with pytest.raises(ValueError, match=pattern):
        wm.rollout(torch.zeros(s0), torch.zeros(a), None if z is None else torch.zeros(z))


def test_loss_scalar_and_diagnostics():
    """loss() returns a finite scalar and every documented diagnostic."""
    wm = make()
    T = 3
    loss, info = wm.loss(window_batch(T=T))
    assert loss.ndim == 0 and torch.isfinite(loss)
    expected = {f"pred_loss_t{t}" for t in range(1, T + 1)} | {
        "embed_std", "embed_rank", "kl", "inverse_loss", "var_loss", "cov_loss",
    }
    assert expected <= set(info)
    assert all(isinstance(v, float) and v == v for v in info.values())


def test_gradients_reach_online_modules_not_target():
    """Gradients reach encoder, predictor, posterior and inverse head, never the target encoder."""
    wm = make()
    loss, _ = wm.loss(window_batch())
    loss.backward()
    for name in ("encoder", "in_state", "in_action", "body", "posterior", "inverse"):
        grads = [p.grad for p in getattr(wm, name).parameters()]
        assert all(g is not None for g in grads), name
        assert any(g.abs().sum() > 0 for g in grads), name
    for p in wm.target_encoder.parameters():
        assert not p.requires_grad and p.grad is None


def test_update_target_is_ema():
    """update_target moves each target parameter toward the online one by (1 - tau)."""
    tau = 0.75
    wm = make(ema_tau=tau)
    with torch.no_grad():
        for p in wm.encoder.parameters():
            p.add_(torch.randn_like(p))
    online = [p.detach().clone() for p in wm.encoder.parameters()]
    before = [p.detach().clone() for p in wm.target_encoder.parameters()]
    wm.update_target()
    for t0, o, t1 in zip(before, online, wm.target_encoder.parameters(), strict=True):
        torch.testing.assert_close(t1, tau * t0 + (1 - tau) * o)
        assert not torch.equal(t1, t0)


def test_training_on_linear_system_learns_without_collapse():
    """Adam on a toy linear system cuts the prediction loss and keeps embeddings spread."""
    wm = make(z_dim=2)
    gen = torch.Generator().manual_seed(1)
    proj = torch.randn(2, OBS, generator=gen)

    def batch(B=32, T=2):
        x = torch.rand(B, 2, generator=gen) * 2 - 1
        a = torch.rand(B, T, A, generator=gen) * 2 - 1
        xs = [x]
        for t in range(T):
            x = x + 0.1 * a[:, t]  # x' = x + 0.1 a
            xs.append(x)
        return {"obs": {"observation": torch.stack(xs, 1) @ proj}, "actions": a}

    opt = torch.optim.Adam(wm.parameters(), lr=3e-3)
    first = None
    for _ in range(250):
        loss, info = wm.loss(batch())
        first = first if first is not None else info["pred_loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        wm.update_target()
    _, info = wm.loss(batch(B=256))
    assert info["pred_loss"] < 0.35 * first
    assert info["embed_std"] > 0.5


def test_effective_rank_known_answers():
    """effective_rank is ~1 for rank-1 data and ~D for an isotropic Gaussian."""
    gen = torch.Generator().manual_seed(0)
    rank1 = torch.randn(500, 1, generator=gen) * torch.randn(1, D, generator=gen)
    assert abs(float(effective_rank(rank1)) - 1.0) < 0.05
    iso = torch.randn(4000, D, generator=gen)
    assert float(effective_rank(iso)) > D - 0.15
    assert float(effective_rank(iso)) <= D + 1e-4


def test_vicreg_terms_known_answers():
    """Constant embeddings give var_loss 0.99 (1 - sqrt(1e-4)); whitened ones give ~0 for both."""
    var_loss, cov_loss = vicreg_terms(torch.full((64, D), 3.0))
    assert abs(float(var_loss) - 0.99) < 1e-5 and float(cov_loss) == 0.0
    x = torch.randn(256, D, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = x - x.mean(0)
    cov = x.T @ x / (x.shape[0] - 1)
    x = x @ torch.linalg.inv(torch.linalg.cholesky(cov)).T  # unit variance, zero covariance
    var_loss, cov_loss = vicreg_terms(x)
    assert float(var_loss) < 1e-6 and float(cov_loss) < 1e-10
    correlated = torch.randn(256, 1).repeat(1, D)
    assert float(vicreg_terms(correlated)[1]) > 0.5


def test_sample_latent_shape_and_determinism():
    """sample_latent gives (*batch, H, Z) and is repeatable with a seeded generator."""
    wm = make()
    s, a = torch.zeros(2, 5, 3, wm.latent_dim), torch.zeros(2, 5, 3, 4, wm.action_dim)
    z1 = wm.sample_latent(s, a, torch.Generator().manual_seed(7))
    z2 = wm.sample_latent(s, a, torch.Generator().manual_seed(7))
    z3 = wm.sample_latent(s, a, torch.Generator().manual_seed(8))
    assert z1.shape == (2, 5, 3, 4, Z)
    assert torch.equal(z1, z2) and not torch.equal(z1, z3)


def test_latent_var_dim_zero_ignores_z():
    """With latent_var_dim=0 z is ignored, sample_latent is empty and loss still works."""
    wm = make(z_dim=0)
    assert not hasattr(wm, "posterior")
    s0, a = torch.randn(3, D), torch.randn(3, 4, A)
    torch.testing.assert_close(wm.rollout(s0, a, torch.randn(3, 4, 5)), wm.rollout(s0, a))
    assert wm.sample_latent(torch.zeros(3, wm.latent_dim), torch.zeros(3, 4, wm.action_dim)).shape == (3, 4, 0)
    loss, info = wm.loss(window_batch())
    assert torch.isfinite(loss) and info["kl"] == 0.0


def test_refit_keeps_the_online_and_the_target_latents():
    """Both encoders take the new statistics, each keeping its own function (they differ once
    training has moved the online one)."""
    wm = make()
    wm.adapt({"observation": torch.randn(200, OBS)})
    with torch.no_grad():
        for p in wm.encoder.parameters():  # the online encoder has learned something since
            p.add_(0.1 * torch.randn_like(p))
    obs = {"observation": torch.cat([torch.randn(20, OBS), 4.0 + torch.randn(20, OBS)])}
    online, target = wm.encode(obs).detach(), wm.encode_target(obs)
    wm.refit({"observation": 4.0 + 0.5 * torch.randn(300, OBS)})
    torch.testing.assert_close(wm.encode(obs), online, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(wm.encode_target(obs), target, atol=1e-4, rtol=1e-4)
    assert torch.equal(wm.encoder.in_mean, wm.target_encoder.in_mean) and wm.encoder.in_mean.mean() > 3


def test_ensemble_mix_averages_the_predictor_and_the_heads_mean_at_every_step():
    """Known answer: with ``ensemble_mix`` w each step is ``(1 - w) predict + w mean(heads)``
    from the previous mixed state; w = 0 is the predictor alone; the loss trains the
    predictor's own rollout whatever w is; without heads the option is refused."""
    pure, mixed = make(ensemble_heads=4), make(ensemble_heads=4, ensemble_mix=0.25)
    s0, a = torch.randn(6, D), torch.randn(6, 3, A)
    with torch.no_grad():
        s, expected = s0, []
        for t in range(3):
            s = 0.75 * mixed.predict(s, a[:, t]) + 0.25 * mixed.ensemble(s, a[:, t]).mean(0)
            expected.append(s)
        torch.testing.assert_close(mixed.rollout(s0, a), torch.stack(expected, 1), atol=1e-6, rtol=0)
        torch.testing.assert_close(pure.step(s0, a[:, 0]), pure.predict(s0, a[:, 0]))
        assert not torch.allclose(mixed.step(s0, a[:, 0]), mixed.predict(s0, a[:, 0]))
    batch = window_batch()
    torch.testing.assert_close(seeded_loss(pure, batch)[0], seeded_loss(mixed, batch)[0])
    with pytest.raises(ValueError, match="ensemble_heads >= 2"):
        JEPAWorldModelConfig(ensemble_mix=0.5)


def test_plan_encoder_target_starts_plans_from_the_ema_target():
    """``plan_encoder="target"``: ``encode`` is the target encoder's embedding (no gradient),
    the online one by default; once the two encoders differ so do the start states; the
    loss does not depend on the option."""
    online, target = make(), make(plan_encoder="target")
    obs = {"observation": torch.randn(5, OBS)}
    move_online_encoder(online)
    target.load_state_dict(online.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(target.encode(obs), target.encode_target(obs))
        torch.testing.assert_close(online.encode(obs), online.encoder(obs))
        assert (online.encode(obs) - target.encode(obs)).norm(dim=-1).min() > 1e-3
    assert online.encode(obs).requires_grad and not target.encode(obs).requires_grad
    batch = window_batch()
    torch.testing.assert_close(seeded_loss(online, batch)[0], seeded_loss(target, batch)[0])
    with pytest.raises(ValueError, match="online"):
        JEPAWorldModelConfig(plan_encoder="ema")


def test_refit_loss_is_the_predictors_rollout_from_target_latents():
    """Known answer: ``refit_loss`` is the rho-weighted MSE of the predictor's rollout (z at
    the prior's mode) from the target embedding of o_0 against the target embeddings of
    o_1..o_T; its gradient reaches the predictor's weights and nothing else."""
    wm = make(rho=0.5)
    move_online_encoder(wm)  # online and target differ: the loss must use the target
    batch = window_batch(B=6, T=3)
    loss, info = wm.refit_loss(batch)
    with torch.no_grad():
        target = wm.target_encoder(batch["obs"]["observation"].reshape(-1, OBS)).reshape(6, 4, D)
        rolled = reference_rollout(wm, target[:, 0], batch["actions"], None)
        per_step = ((rolled - target[:, 1:]) ** 2).mean(dim=(0, 2))
        expected = (per_step * torch.tensor([1.0, 0.5, 0.25])).sum() / 1.75
    torch.testing.assert_close(loss, expected)
    assert info["refit_loss_t1"] == pytest.approx(float(per_step[0]), rel=1e-5)
    loss.backward()
    trained = {id(p) for p in wm.predictor_parameters()}
    for name, p in wm.named_parameters():
        assert (p.grad is not None and bool(p.grad.abs().sum() > 0)) == (id(p) in trained), name


def test_readout_reads_the_online_embeddings_and_trains_the_encoder_only():
    """Known answer: ``readout`` gets the online embeddings of every observation of the
    window, its loss is added to the plain loss, and its gradient reaches the online encoder
    and nothing else (not the predictor, not the target)."""
    wm = make()
    move_online_encoder(wm)
    batch = window_batch()
    B, T = batch["actions"].shape[:2]
    seen = {}

    def readout(online):
        seen["online"] = online
        seen["loss"] = online.pow(2).mean()
        return seen["loss"], {"readout_nmse": 0.5}

    base, _ = seeded_loss(wm, batch)
    torch.manual_seed(1)
    total, info = wm.loss(batch, diagnostics=False, readout=readout)
    with torch.no_grad():
        expected = wm.encoder(batch["obs"]["observation"].reshape(B * (T + 1), -1)).reshape(B, T + 1, -1)
    torch.testing.assert_close(seen["online"].detach(), expected)
    torch.testing.assert_close(total, base + seen["loss"])
    assert info["readout_nmse"] == 0.5
    wm.zero_grad()
    seen["loss"].backward()
    encoder = {id(p) for p in wm.encoder.parameters()}
    for name, p in wm.named_parameters():
        assert (p.grad is not None and bool(p.grad.abs().sum() > 0)) == (id(p) in encoder), name


def test_target_start_coef_adds_the_refit_loss_to_training():
    """Known answer: with ``target_start_coef`` c the training loss is the plain loss plus c
    times ``refit_loss`` on the same batch, reported as ``target_start_loss``."""
    plain, extra = make(), make(target_start_coef=2.0)
    move_online_encoder(plain)
    extra.load_state_dict(plain.state_dict())
    batch = window_batch()
    base, _ = seeded_loss(plain, batch)
    total, info = seeded_loss(extra, batch)
    refit, _ = extra.refit_loss(batch)
    torch.testing.assert_close(total, base + 2.0 * refit)
    assert info["target_start_loss"] == pytest.approx(refit.item(), rel=1e-5)
