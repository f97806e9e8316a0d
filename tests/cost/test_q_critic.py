"""Tests for cost.QCritic: ensemble TD targets, its greedy actor, and the value it reports."""

import pytest
import torch

from jepa_agent.cost import QCritic, QCriticConfig

D, A = 3, 2


def make(**cfg) -> QCritic:
    torch.manual_seed(0)
    cfg = {"hidden_dim": 32, "nonnegative": False, **cfg}
    return QCritic(QCriticConfig(**cfg), latent_dim=D, action_low=-torch.ones(A), action_high=torch.ones(A))


def batch(B=16, T=3, gen=None, terminal=False):
    gen = gen or torch.Generator().manual_seed(0)
    out = {
        "states": torch.randn(B, T + 1, D, generator=gen),
        "actions": torch.rand(B, T, A, generator=gen) * 2 - 1,
        "costs": torch.rand(B, T, generator=gen),
        "goals": torch.zeros(B, D),
    }
    if terminal:
        out["terminals"] = torch.ones(B, T, dtype=torch.bool)
    return out


def test_shapes_and_bounds():
    """value broadcasts to (...), q_values has a leading ensemble axis, the actor stays in bounds."""
    critic = make(ensemble=3)
    s = 50 * torch.randn(4, 5, D)
    assert critic.value(s, torch.zeros(D)).shape == (4, 5)
    assert critic.q_values(s, torch.zeros(4, 5, A), torch.zeros(4, 5, D)).shape == (3, 4, 5)
    a = critic.greedy(s, torch.zeros(4, 5, D))
    assert a.shape == (4, 5, A) and (a.abs() <= 1).all()


def test_value_is_ensemble_mean_at_greedy_action():
    """value(s, g) = mean_e Q_e(s, mu(s, g), g)."""
    critic = make()
    s, g = torch.randn(6, D), torch.randn(6, D)
    expected = critic.q_values(s, critic.greedy(s, g), g).mean(0)
    torch.testing.assert_close(critic.value(s, g), expected)


def test_terminal_targets_are_the_costs():
    """Past a termination nothing is bootstrapped: the Q loss is the regression onto the costs."""
    critic = make()
    b = batch(terminal=True)
    pred = critic.q_values(b["states"][:, :-1], b["actions"], torch.zeros(16, 3, D))  # (E, B, T)
    expected = (pred - b["costs"]).pow(2).mean(dim=(1, 2)).sum()
    _, info = critic.loss(b)
    assert info["critic_loss"] == pytest.approx(float(expected.detach()) / 2, rel=1e-5)


def test_target_is_pessimistic_over_the_ensemble():
    """One-step targets bootstrap from the largest cost of the target ensemble."""
    critic = make(lam=0.0, target_noise=0.0, gamma=0.5)
    with torch.no_grad():
        critic._target().qs[-1].bias[1].add_(1.0)  # member 1 predicts a higher cost everywhere
    b = batch()
    target = critic._target()
    nxt, g = b["states"][:, 1:], torch.zeros(16, 3, D)
    q_next = target.q_values(nxt, target.greedy(nxt, g), g)  # (E, B, T)
    assert (q_next[1] > q_next[0]).all()
    y = b["costs"] + 0.5 * q_next[1]
    pred = critic.q_values(b["states"][:, :-1], b["actions"], g)
    _, info = critic.loss(b)
    assert info["critic_loss"] == pytest.approx(float((pred - y).pow(2).mean(dim=(1, 2)).sum().detach()) / 2, rel=1e-5)


def test_actor_loss_gives_the_ensemble_no_gradient():
    """The Q networks' gradient is that of the TD regression alone (the actor's term is frozen for them)."""
    critic = make()
    b = batch(terminal=True)
    loss, _ = critic.loss(b)
    loss.backward()
    full = [p.grad.clone() for p in critic.qs.parameters()]
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in critic.actor.parameters())
    critic.zero_grad()
    pred = critic.q_values(b["states"][:, :-1], b["actions"], torch.zeros(16, 3, D))
    (pred - b["costs"]).pow(2).mean(dim=(1, 2)).sum().backward()
    for got, want in zip(full, [p.grad for p in critic.qs.parameters()], strict=True):
        torch.testing.assert_close(got, want)


def test_needs_actions():
    """A batch without the replayed actions is refused with the key named."""
    b = batch()
    del b["actions"]
    with pytest.raises(ValueError, match="actions"):
        make().loss(b)


def test_actor_learns_the_best_action_of_a_bandit():
    """One-step task with cost (a - a*)^2: the ensemble fits it and the actor moves to a*."""
    critic = make(target_tau=0.5)
    gen = torch.Generator().manual_seed(1)
    best = torch.tensor([0.5, -0.3])
    fit_bandit(critic, best, 600, gen)
    s = torch.randn(32, D, generator=gen)
    a = critic.greedy(s, torch.zeros(32, D))
    assert (a - best).abs().max() < 0.1
    # and the reported value is the cost of that action, near 0
    assert critic.value(s, torch.zeros(32, D)).abs().mean() * (1 - critic.gamma) < 0.02


def fit_bandit(critic: QCritic, best: torch.Tensor, updates: int, gen: torch.Generator,
               replay_actions=None) -> None:
    """``updates`` steps on one-step batches of cost (a - best)^2; ``replay_actions(b)``, if
    given, sets the batch's actions (and mask) before its costs are computed."""
    opt = torch.optim.Adam(critic.parameters(), lr=3e-3)
    for _ in range(updates):
        b = batch(B=64, T=1, gen=gen, terminal=True)
        if replay_actions is not None:
            replay_actions(b)
        b["costs"] = (b["actions"] - best).pow(2).sum(-1)  # (B, 1)
        loss, _ = critic.loss(b)
        opt.zero_grad()
        loss.backward()
        opt.step()
        critic.update_target()


def _bandit_actor(bc_weight: float, taken: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The greedy action after 250 updates on the bandit of cost (a - best)^2, the replay's
    actions all ``taken`` (random actions where ``mask`` is False)."""
    critic = make(target_tau=0.5, bc_weight=bc_weight)
    gen = torch.Generator().manual_seed(1)

    def replay_actions(b: dict) -> None:
        if mask is not None:  # the planner's steps take `taken`, the others stay random
            b["actions"] = torch.where(mask[:, :, None], taken, b["actions"])
            b["mask"] = mask
        else:
            b["actions"] = taken + 0.3 * torch.randn(b["actions"].shape, generator=gen)

    # outside the data: the best action (0.5, -0.3) is 0.9 from `taken`
    fit_bandit(critic, torch.tensor([0.5, -0.3]), 250, gen, replay_actions)
    return critic.greedy(torch.randn(32, D, generator=gen), torch.zeros(32, D))


def test_bc_weight_keeps_the_actor_near_the_taken_actions():
    """TD3+BC: with no weight the actor leaves the replay's actions for where the ensemble
    extrapolates (the data only covers actions near `taken`: it ends at a bound); with a
    large one it stays by the actions the planner's steps took (the mask), though the other
    half of the replay's actions are spread around the bandit's best."""
    taken = torch.tensor([-0.5, 0.5])
    assert (_bandit_actor(0.0, taken) - taken).abs().max() > 0.9
    mask = torch.zeros(64, 1, dtype=torch.bool)
    mask[:32] = True  # half the steps took `taken`, half random actions around 0
    assert (_bandit_actor(50.0, taken, mask) - taken).abs().max() < 0.15


def test_ensemble_layers_equal_separate_linears():
    """The batched ensemble MLP equals running each member's layers one by one."""
    from jepa_agent.cost.nets import ensemble_mlp

    torch.manual_seed(0)
    net = ensemble_mlp(3, 5, 8, 2, 2)
    x = torch.randn(7, 5)
    got = net(x.expand(3, 7, 5))  # (E, N, out)
    for e in range(3):
        h = x
        for i, layer in enumerate(net):
            h = torch.nn.functional.silu(h) if i % 2 else h @ layer.weight[e] + layer.bias[e]
        torch.testing.assert_close(got[e], h)


def test_normed_ensemble_equals_each_member_with_its_own_layer_norm():
    """``norm``: each member's hidden layers are Linear, LayerNorm (its own scale and shift),
    SiLU; the batched ensemble equals the members run one by one with ``nn.LayerNorm``."""
    from jepa_agent.cost.nets import EnsembleLayerNorm, EnsembleLinear, ensemble_mlp

    torch.manual_seed(0)
    net = ensemble_mlp(3, 5, 8, 2, 2, norm=True)
    assert [type(m) for m in net] == [EnsembleLinear, EnsembleLayerNorm, torch.nn.SiLU] * 2 + [EnsembleLinear]
    for m in net:
        if isinstance(m, EnsembleLayerNorm):  # members' own, non-trivial affine
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    x = torch.randn(7, 5)
    got = net(x.expand(3, 7, 5))  # (E, N, out)
    for e in range(3):
        h = x
        for layer in net:
            if isinstance(layer, EnsembleLinear):
                h = h @ layer.weight[e] + layer.bias[e]
            elif isinstance(layer, EnsembleLayerNorm):
                ln = torch.nn.LayerNorm(8)
                ln.weight.data, ln.bias.data = layer.weight[e, 0], layer.bias[e, 0]
                h = ln(h)
            else:
                h = layer(h)
        torch.testing.assert_close(got[e], h)


def test_critic_norm_puts_layer_norms_in_values_and_actor():
    """``CriticConfig.norm``: a LayerNorm per hidden layer in the Q ensemble and the actor; off, none."""
    from jepa_agent.cost import QCritic, QCriticConfig
    from jepa_agent.cost.nets import EnsembleLayerNorm

    def count(norm):
        c = QCritic(QCriticConfig(norm=norm, layers=3), latent_dim=4, action_low=-torch.ones(2), action_high=torch.ones(2))
        return (sum(isinstance(m, EnsembleLayerNorm) for m in c.qs.modules()),
                sum(isinstance(m, torch.nn.LayerNorm) for m in c.actor.modules()))

    assert count(True) == (3, 3) and count(False) == (0, 0)
