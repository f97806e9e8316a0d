"""Tests for cost.MLPCritic and the TD(lambda) training of cost.Critic."""

import torch

from jepa_agent.cost import CriticConfig, MLPCritic

D = 4


def make(**cfg) -> MLPCritic:
    torch.manual_seed(0)
    return MLPCritic(CriticConfig(hidden_dim=16, **cfg), latent_dim=D)


def detuned(**cfg) -> MLPCritic:
    """A critic whose online weights differ from its target's, so tests see which one is used."""
    critic = make(**cfg)
    critic._target()
    with torch.no_grad():
        critic.net[-1].bias.add_(1.0)
    return critic


def test_value_shape_and_non_negative():
    """value() broadcasts s and g to (...) and is never negative (costs are >= 0)."""
    critic = make()
    v = critic.value(100 * torch.randn(2, 5, 3, D), torch.randn(2, 1, 1, D))
    assert v.shape == (2, 5, 3)
    assert (v >= 0).all()


def td_batch(B=3, T=4):
    gen = torch.Generator().manual_seed(0)
    return {
        "states": torch.randn(B, T + 1, D, generator=gen),
        "costs": torch.rand(B, T, generator=gen),
        "goals": torch.randn(B, D, generator=gen),
    }


def test_td_lambda_one_is_monte_carlo_plus_bootstrap():
    """lam=1: target_t = sum_k gamma^k c_{t+k} + gamma^(T-t) V_target(s_T)."""
    gamma = 0.8
    critic = detuned(gamma=gamma, lam=1.0)
    batch = td_batch()
    B, T = batch["costs"].shape
    g = batch["goals"]
    v_T = critic._target().value(batch["states"][:, T], g)  # (B,)
    expected = torch.zeros(B, T)
    for t in range(T):
        ret = sum(gamma ** (k - t) * batch["costs"][:, k] for k in range(t, T))
        expected[:, t] = ret + gamma ** (T - t) * v_T
    pred = critic.value(batch["states"][:, :-1], g[:, None])
    loss, info = critic.loss(batch)
    torch.testing.assert_close(loss, ((pred - expected) ** 2).mean())
    assert set(info) == {"critic_loss", "critic_value"}


def test_td_lambda_zero_is_one_step():
    """lam=0: target_t = c_t + gamma V_target(s_{t+1})."""
    gamma = 0.7
    critic = detuned(gamma=gamma, lam=0.0)
    batch = td_batch()
    g = batch["goals"][:, None]
    expected = batch["costs"] + gamma * critic._target().value(batch["states"][:, 1:], g)
    pred = critic.value(batch["states"][:, :-1], g)
    loss, _ = critic.loss(batch)
    torch.testing.assert_close(loss, ((pred - expected) ** 2).mean())


def test_constant_cost_value_converges_to_geometric_sum():
    """With cost c every step, training drives V toward c / (1 - gamma)."""
    gamma, c = 0.5, 1.0
    critic = make(gamma=gamma, lam=0.8, target_tau=0.8)
    opt = torch.optim.Adam(critic.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        batch = {
            "states": torch.randn(32, 4, D, generator=gen),
            "costs": torch.full((32, 3), c),
            "goals": torch.randn(32, D, generator=gen),
        }
        loss, _ = critic.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        critic.update_target()
    v = critic.value(torch.randn(256, D, generator=gen), torch.randn(256, D, generator=gen))
    assert abs(float(v.mean().detach()) - c / (1 - gamma)) < 0.15


def test_target_network_not_in_parameters():
    """The target copy is neither a submodule nor among parameters(), and has no grad."""
    critic = make()
    target = critic._target()
    own = {id(p) for p in critic.parameters()}
    assert all(id(p) not in own for p in target.parameters())
    assert len(list(critic.parameters())) == len(list(critic.net.parameters()))
    assert all(m is not target for m in critic.modules())
    assert not any(p.requires_grad for p in target.parameters())


def test_update_target_lerp():
    """update_target moves the target by (1 - tau) toward the online critic."""
    tau = 0.9
    critic = make(target_tau=tau)
    before = [p.clone() for p in critic._target().parameters()]
    with torch.no_grad():
        for p in critic.parameters():
            p.add_(1.0)
    critic.update_target()
    for b, p, t in zip(before, critic.parameters(), critic._target().parameters(), strict=True):
        torch.testing.assert_close(t, tau * b + (1 - tau) * p)


def test_no_bootstrap_past_termination():
    """A terminal transition's target is its cost alone (lam=1: the return stops there); earlier
    steps sum costs up to it; a batch without terminals bootstraps as before."""
    gamma = 0.8
    critic = detuned(gamma=gamma, lam=1.0)
    batch = td_batch(B=2, T=3)
    terminals = torch.tensor([[False, True, False], [False, False, False]])
    c = batch["costs"]
    g = batch["goals"][:, None]
    v_T = critic._target().value(batch["states"][:, 3], batch["goals"])  # (B,)
    expected = torch.stack([
        torch.stack([c[0, 0] + gamma * c[0, 1], c[0, 1], c[0, 2] + gamma * v_T[0]]),
        torch.stack([c[1, 0] + gamma * c[1, 1] + gamma**2 * c[1, 2] + gamma**3 * v_T[1],
                     c[1, 1] + gamma * c[1, 2] + gamma**2 * v_T[1], c[1, 2] + gamma * v_T[1]]),
    ])
    pred = critic.value(batch["states"][:, :-1], g)
    loss, _ = critic.loss({**batch, "terminals": terminals})
    torch.testing.assert_close(loss, ((pred - expected) ** 2).mean())


def test_signed_critic_can_be_negative():
    """nonnegative=False (reward tasks, where a reward makes the cost negative) drops the softplus."""
    critic = make(nonnegative=False)
    with torch.no_grad():
        critic.net[-1].bias.fill_(-5.0)
    assert (critic.value(torch.randn(8, D), torch.randn(8, D)) < 0).all()
