"""Tests for cost.DistanceCritic: a learned temporal distance between latent states."""

import pytest
import torch

from jepa_agent.cost import DistanceCritic, DistanceCriticConfig

L = 12  # positions on a line


def embed(i: torch.Tensor) -> torch.Tensor:
    """Position i on a line as a 2-D latent (a point on an arc: not linear in i)."""
    a = i.float() * 0.25
    return torch.stack([torch.cos(a), torch.sin(a)], dim=-1)  # (..., 2)


def chain_batch(B: int, T: int, gen: torch.Generator, *, right_only: bool = True) -> dict:
    """Windows of walks on the line that step right (and, unless right_only, also left)."""
    start = torch.randint(0, L - T, (B,), generator=gen)  # (B,)
    pos = start[:, None] + torch.arange(T + 1)  # (B, T+1)
    offsets = torch.randint(T, L - 1, (B,), generator=gen).clamp(max=L - 1 - start) if right_only else None
    goals = embed(start + offsets) if offsets is not None else embed(torch.randint(0, L, (B,), generator=gen))
    return {"states": embed(pos), "goals": goals, "goal_offsets": offsets, "costs": torch.zeros(B, T)}


@pytest.fixture(scope="module")
def critic() -> DistanceCritic:
    return trained()


def trained(updates: int = 1000, **cfg) -> DistanceCritic:
    torch.manual_seed(0)
    critic = DistanceCritic(DistanceCriticConfig(hidden_dim=64, layers=2, gamma=0.9, target_tau=0.9, **cfg), latent_dim=2)
    opt = torch.optim.Adam(critic.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(1)
    for _ in range(updates):
        loss, _ = critic.loss(chain_batch(128, 4, gen))
        opt.zero_grad()
        loss.backward()
        opt.step()
        critic.update_target()
    return critic


def test_value_bounds_and_shape():
    """value() broadcasts to (...) and stays in [0, 1 / (1 - gamma)]."""
    critic = DistanceCritic(DistanceCriticConfig(hidden_dim=8, layers=1, gamma=0.95), latent_dim=3)
    v = critic.value(100 * torch.randn(2, 5, 3), torch.randn(5, 3))
    assert v.shape == (2, 5)
    assert (v >= 0).all() and (v <= 1 / (1 - 0.95) + 1e-4).all()


def test_learns_steps_along_a_line(critic):
    """Trained on walks that step right, the value grows with the number of steps to the goal,
    and ``steps`` reads it back in steps."""
    s = embed(torch.tensor(1))
    with torch.no_grad():
        steps = torch.stack([critic.steps(s, embed(torch.tensor(1 + k))) for k in range(7)])  # (7,)
    assert steps[0] < 1.2, steps
    assert (steps[2:] > steps[1:-1]).all(), steps
    assert steps[3] == pytest.approx(3.0, abs=1.0)
    assert steps[6] == pytest.approx(6.0, abs=1.5)


def test_goals_the_data_never_reaches_from_a_state_are_far(critic):
    """Walks only step right: a goal to the left is farther than one as many steps to the right."""
    s = embed(torch.tensor(6))
    with torch.no_grad():
        right, left = critic.steps(s, embed(torch.tensor(9))), critic.steps(s, embed(torch.tensor(3)))
    assert left > right + 10.0


def test_terminated_transitions_do_not_count():
    """A transition that terminated its episode adds nothing to the loss (its next state is
    not bootstrapped from), except where the goal is that state itself."""
    critic = DistanceCritic(DistanceCriticConfig(hidden_dim=8, layers=1), latent_dim=2)
    gen = torch.Generator().manual_seed(0)
    batch = chain_batch(4, 3, gen)
    all_terminal = {**batch, "terminals": torch.ones(4, 3, dtype=torch.bool)}
    torch.manual_seed(0)
    loss_t, _ = critic.loss(all_terminal)
    torch.manual_seed(0)
    loss, _ = critic.loss(batch)
    assert torch.isfinite(loss_t) and loss_t != loss


def test_a_hindsight_goal_inside_the_window_caps_only_the_steps_before_it():
    """A window that ends its episode may take its hindsight goal from inside the window
    (offset k < T): the steps before it are at most k - t away, the step at it 0, and the
    steps after it have passed it, which says nothing about their distance (bootstrapped,
    not 0)."""
    critic = DistanceCritic(DistanceCriticConfig(hidden_dim=8, layers=1, gamma=0.9), latent_dim=2)
    T = 5
    pos = torch.arange(T + 1)[None].repeat(3, 1)  # (3, T+1)
    batch = {"states": embed(pos), "goals": embed(torch.full((3,), 2)), "goal_offsets": torch.full((3,), 2),
             "costs": torch.zeros(3, T)}
    _, target, mask = critic.td_targets(batch)
    env_goal = target[0]  # (3, T): the batch's own goal, the state at index 2
    assert torch.allclose(env_goal[:, 2], torch.zeros(3))
    assert (env_goal[:, 1] <= 1.0 + 1e-6).all() and (env_goal[:, 0] <= 1.0 + 0.9 + 1e-6).all()
    assert (env_goal[:, 3:] >= 1.0).all()  # passed: one step's cost plus the bootstrapped value
    assert mask[0].all()
