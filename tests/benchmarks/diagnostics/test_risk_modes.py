"""The windy-ledge risk example: CVaR goes around the rare catastrophe, the mean does not."""

import pytest
import torch

from jepa_agent.actor import CEM, CEMConfig


def planner(risk: str) -> CEM:
    return CEM(CEMConfig(samples=128, iterations=3, latent_samples=64, risk=risk, cvar_alpha=1 / 32))


@pytest.mark.parametrize("seed", [0, 1])
def test_cvar_goes_around_the_ledge_that_the_mean_crosses(seed, risk_modes):
    """Closed loop, same gusts: the mean's route crosses the ledge (>= 3 steps on it), CVaR's never enters it and still arrives."""
    mean = risk_modes.run_episode(planner("mean"), seed)
    cvar = risk_modes.run_episode(planner("cvar"), seed)
    assert mean["ledge_steps"] >= 3
    assert cvar["ledge_steps"] == 0 and cvar["success"] == 1.0
    assert cvar["steps_to_goal"] > mean["steps_to_goal"] or mean["fell"] == 1.0


def test_gust_fires_only_on_the_ledge_with_large_noise(risk_modes):
    """A gust (z above the 97% quantile) throws the point over the cliff on the ledge and nowhere else."""
    model, a, z = risk_modes.WindyLedge(), torch.zeros(2, 2), torch.full((2, 1), 3.0)
    s = torch.tensor([[0.5, 0.0, 0.0], [0.1, 0.0, 0.0]])  # on the ledge, before it
    out = model.step(s, a, z)
    assert out[0, 2] == 1.0 and out[0, 1] < risk_modes.CLIFF_Y
    assert torch.equal(out[1], s[1])
    assert torch.equal(model.step(s, a, torch.zeros(2, 1)), s)
