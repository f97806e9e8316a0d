"""The latent ensemble: shapes, heads that differ, disagreement that falls where data is."""

from __future__ import annotations

import pytest
import torch

from jepa_agent.world_model import LatentEnsemble


def test_shapes_and_refusals():
    """E heads give (E, ..., D); disagreement is (...); one head is refused."""
    ens = LatentEnsemble(3, latent_dim=4, action_dim=2, hidden_dim=8)
    s, a = torch.randn(5, 7, 4), torch.randn(5, 7, 2)
    assert ens(s, a).shape == (3, 5, 7, 4)
    assert ens.disagreement(s, a).shape == (5, 7)
    with pytest.raises(ValueError, match="at least 2 heads"):
        LatentEnsemble(1, 4, 2, 8)


def test_disagreement_falls_where_the_heads_are_trained_and_not_elsewhere():
    """Trained on s' = s + 0.1 a for s near 0, the heads agree there and disagree far away."""
    torch.manual_seed(0)
    ens = LatentEnsemble(5, latent_dim=2, action_dim=2, hidden_dim=32)
    opt = torch.optim.Adam(ens.parameters(), lr=3e-3)
    for _ in range(800):
        s, a = 0.3 * torch.randn(256, 2), torch.rand(256, 2) * 2 - 1
        loss = ens.loss(s, a, s + 0.1 * a)
        opt.zero_grad()
        loss.backward()
        opt.step()
    a = torch.rand(512, 2) * 2 - 1
    near = ens.disagreement(0.3 * torch.randn(512, 2), a).mean()
    far = ens.disagreement(torch.full((512, 2), 4.0) + torch.randn(512, 2), a).mean()
    assert loss.item() < 1e-3
    assert far > 20 * near


def test_the_heads_learn_without_moving_the_latents():
    """The ensemble's loss sends no gradient into its inputs (it reads the latent space)."""
    ens = LatentEnsemble(2, latent_dim=3, action_dim=1, hidden_dim=8)
    s = torch.randn(4, 3, requires_grad=True)
    ens.loss(s, torch.randn(4, 1), torch.randn(4, 3)).backward()
    assert s.grad is None
