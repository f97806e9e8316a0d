"""The coarse level of the hierarchical world model: shapes, bounds, and that it learns K-step jumps."""

import pytest
import torch

from jepa_agent.world_model import CoarseWorldModel, CoarseWorldModelConfig


def model(**options) -> CoarseWorldModel:
    torch.manual_seed(0)
    cfg = CoarseWorldModelConfig(**{"k": 4, "macro_dim": 2, "hidden_dim": 64, "train_steps": 2, **options})
    return CoarseWorldModel(cfg, latent_dim=3, primitive_dim=2, normalize=False)


def test_shapes_and_macro_actions_in_the_unit_box():
    co = model()
    assert co.action_dim == 2 and co.primitive_dim == 2 and co.k == 4
    m = co.encode_actions(10 * torch.randn(5, 8, 2))  # two chunks of K=4
    assert m.shape == (5, 2, 2) and m.abs().max() <= 1
    assert co.rollout(torch.zeros(5, 3), m).shape == (5, 2, 3)
    with pytest.raises(ValueError, match="whole chunks of k=4"):
        co.encode_actions(torch.zeros(5, 6, 2))
    with pytest.raises(ValueError, match=r"\(B, J, D\)"):
        co.loss({"s0": torch.zeros(5, 3), "targets": torch.zeros(5, 2), "actions": torch.zeros(5, 8, 2)})


def test_it_learns_a_k_step_jump_from_the_chunk():
    """s_{t+K} = s_t + 0.1 * (sum of the chunk's actions, and their x in the third feature):
    the action encoder must keep what the sum needs; the error falls below 5% of the target's."""
    co = model(latent_var_dim=0)
    opt = torch.optim.Adam(co.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(1)

    def batch():
        s0 = torch.randn(256, 3, generator=gen)
        actions = torch.rand(256, 8, 2, generator=gen) * 2 - 1
        sums = actions.reshape(256, 2, 4, 2).sum(2)  # (B, J, 2)
        step = 0.1 * torch.cat([sums, sums[..., :1]], -1)  # (B, J, 3)
        return {"s0": s0, "targets": s0[:, None] + step.cumsum(1), "actions": actions}

    first = None
    for _ in range(600):
        loss, info = co.loss(batch())
        first = first or info["coarse_pred_loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    b = batch()
    _, info = co.loss(b)
    scale = (b["targets"] - b["s0"][:, None]).pow(2).mean().item()
    assert info["coarse_pred_loss"] < 0.05 * scale < first


def test_the_latent_variable_is_bounded_by_its_kl():
    """With a latent variable the loss reports a finite KL and sampled rollouts differ from the mode."""
    co = model(latent_var_dim=2)
    _, info = co.loss({"s0": torch.randn(8, 3), "targets": torch.randn(8, 2, 3), "actions": torch.rand(8, 8, 2)})
    assert info["coarse_kl"] >= 0
    m = torch.rand(4, 2, 2)
    z = co.sample_latent(torch.zeros(4, 3), m, torch.Generator().manual_seed(0))
    assert z.shape == (4, 2, 2)
    assert not torch.allclose(co.rollout(torch.zeros(4, 3), m, z), co.rollout(torch.zeros(4, 3), m))
