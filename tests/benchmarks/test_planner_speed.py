"""The speed benchmark's fast rollout computes exactly what looping its step does."""

import torch

from jepa_agent.world_model import WorldModel


def test_preallocated_rollout_equals_step_loop(planner_speed):
    """MLPDynamics.rollout (one preallocated time-major buffer, in-place ops) matches WorldModel.rollout's loop of step."""
    torch.manual_seed(0)
    model = planner_speed.MLPDynamics(torch.device("cpu")).requires_grad_(False)
    s0, actions = torch.randn(7, planner_speed.D), torch.randn(7, 5, planner_speed.A)
    fast = model.rollout(s0, actions)
    assert fast.shape == (7, 5, planner_speed.D)
    torch.testing.assert_close(fast, WorldModel.rollout(model, s0, actions), rtol=1e-5, atol=1e-5)
