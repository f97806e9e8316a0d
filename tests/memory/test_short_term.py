"""Tests for memory.ShortTermMemory."""

import pytest
import torch
from pydantic import ValidationError

from jepa_agent.memory import ShortTermMemory, ShortTermMemoryConfig

B, D, A = 2, 5, 3


def make(capacity: int = 4, **kw) -> ShortTermMemory:
    return ShortTermMemory(
        ShortTermMemoryConfig(capacity=capacity), batch_size=B, latent_dim=D, action_dim=A, **kw
    )


def step(i: int, dtype=torch.float32):
    """A step whose every entry equals i, so order is visible in the values."""
    return (
        torch.full((B, D), float(i), dtype=dtype),
        torch.full((B, A), float(i), dtype=dtype),
        torch.full((B,), float(i), dtype=dtype),
    )


def test_recent_shapes():
    """recent() returns (n,B,D), (n,B,A), (n,B) tensors."""
    mem = make()
    for i in range(3):
        mem.write(*step(i))
    out = mem.recent()
    assert len(mem) == 3
    assert out["states"].shape == (3, B, D)
    assert out["actions"].shape == (3, B, A)
    assert out["costs"].shape == (3, B)
    assert mem.recent(2)["states"].shape == (2, B, D)


def test_ring_wraps_and_keeps_last_capacity_in_order():
    """After capacity+3 writes, recent() holds the last `capacity` steps, oldest first."""
    cap = 4
    mem = make(cap)
    for i in range(cap + 3):
        mem.write(*step(i))
    assert len(mem) == cap
    out = mem.recent()
    expected = torch.arange(3, cap + 3, dtype=torch.float32)
    assert torch.equal(out["states"][:, 0, 0], expected)
    assert torch.equal(out["actions"][:, 1, 2], expected)
    assert torch.equal(out["costs"][:, 0], expected)
    assert torch.equal(mem.recent(2)["costs"][:, 0], expected[-2:])


def test_recent_more_than_held_returns_held():
    """recent(n) with n > len returns the len steps held."""
    mem = make(8)
    mem.write(*step(0))
    mem.write(*step(1))
    assert torch.equal(mem.recent(5)["costs"][:, 0], torch.tensor([0.0, 1.0]))
    assert mem.recent(0)["states"].shape == (0, B, D)


def test_missing_action_and_cost_are_nan():
    """A step written without action or cost stores NaN there."""
    mem = make()
    mem.write(torch.zeros(B, D))
    out = mem.recent()
    assert torch.isnan(out["actions"]).all() and torch.isnan(out["costs"]).all()
    assert torch.equal(out["states"], torch.zeros(1, B, D))


def test_missing_entries_overwrite_stale_values_after_wrap():
    """A NaN-marked step in a reused slot does not show the old step's action."""
    mem = make(2)
    mem.write(*step(1))
    mem.write(*step(2))
    mem.write(torch.zeros(B, D))  # overwrites slot of step 1
    assert torch.isnan(mem.recent(1)["actions"]).all()


def test_clear_forgets_steps_and_plan():
    """clear() empties the ring and the plan."""
    mem = make()
    mem.write(*step(1))
    mem.set_plan(torch.zeros(B, 6, A), torch.zeros(B, 6, D))
    mem.clear()
    assert len(mem) == 0
    assert mem.last_plan is None
    assert mem.recent()["states"].shape == (0, B, D)
    mem.write(*step(7))
    assert torch.equal(mem.recent()["costs"][:, 0], torch.tensor([7.0]))


def test_write_does_not_reallocate_and_copies_input():
    """Writes go into the preallocated buffers, and later input edits do not leak in."""
    mem = make(3)
    ptr = mem._states.data_ptr()
    s, a, c = step(1)
    for _ in range(5):
        mem.write(s, a, c)
    assert mem._states.data_ptr() == ptr
    s.fill_(99.0)
    assert (mem.recent()["states"] == 1.0).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((torch.zeros(B, D - 1),), f"state must be (B, D)=({B}, {D}), got ({B}, {D - 1})"),
        (
            (torch.zeros(B, D), torch.zeros(B, A + 1)),
            f"action must be (B, A)=({B}, {A}), got ({B}, {A + 1})",
        ),
        ((torch.zeros(B, D), None, torch.zeros(B, 1)), f"cost must be (B,)=({B},), got ({B}, 1)"),
    ],
)
def test_write_shape_errors_quote_expected_and_got(args, message):
    """Wrong shapes in write() raise ValueError quoting expected and got shapes."""
    mem = make()
    with pytest.raises(ValueError) as err:
        mem.write(*args)
    assert str(err.value) == message
    assert len(mem) == 0


def test_plan_round_trip_detached_and_checked():
    """set_plan stores the plan detached; last_plan returns it; bad shapes raise."""
    mem = make()
    assert mem.last_plan is None
    actions = torch.randn(B, 6, A, requires_grad=True)
    states = torch.randn(B, 6, D, requires_grad=True) * 2
    mem.set_plan(actions, states)
    got_a, got_s = mem.last_plan
    assert torch.equal(got_a, actions) and torch.equal(got_s, states)
    assert not got_a.requires_grad and not got_s.requires_grad
    with pytest.raises(
        ValueError, match=r"states must be \(B, H, D\)=\(2, 6, 5\), got \(2, 5, 5\)"
    ):
        mem.set_plan(torch.zeros(B, 6, A), torch.zeros(B, 5, D))
    with pytest.raises(ValueError, match=r"actions must be \(B, H, A\)"):
        mem.set_plan(torch.zeros(B, A), torch.zeros(B, 6, D))


def test_device_and_dtype():
    """Buffers and outputs live on the requested device with the requested dtype; inputs are cast."""
    mem = make(device="cpu", dtype=torch.float64)
    mem.write(*step(3, dtype=torch.float32))
    out = mem.recent()
    for v in out.values():
        assert v.device == torch.device("cpu")
        assert v.dtype == torch.float64


def test_config_is_frozen_and_strict():
    """The config rejects unknown fields, non-positive capacity and mutation."""
    with pytest.raises(ValidationError):
        ShortTermMemoryConfig(capacty=3)
    with pytest.raises(ValidationError):
        ShortTermMemoryConfig(capacity=0)
    cfg = ShortTermMemoryConfig()
    with pytest.raises(ValidationError):
        cfg.capacity = 5


def test_clear_rows_forgets_only_those_envs():
    """clear(rows) NaNs the chosen envs' steps and plan; the other envs' history is kept."""
    mem = ShortTermMemory(ShortTermMemoryConfig(capacity=4), batch_size=3, latent_dim=2, action_dim=1)
    for t in range(3):
        mem.write(torch.full((3, 2), float(t)), torch.full((3, 1), float(t)), torch.full((3,), float(t)))
    mem.set_plan(torch.zeros(3, 5, 1), torch.ones(3, 5, 2))
    mem.clear(torch.tensor([False, True, False]))
    got = mem.recent()
    assert len(mem) == 3
    assert torch.isnan(got["states"][:, 1]).all() and torch.isnan(got["costs"][:, 1]).all()
    assert torch.equal(got["states"][:, 0, 0], torch.tensor([0.0, 1.0, 2.0]))
    actions, states = mem.last_plan
    assert torch.isnan(states[1]).all() and torch.equal(states[2], torch.ones(5, 2))
    with pytest.raises(ValueError, match=r"\(B,\)"):
        mem.clear(torch.tensor([True, False]))


def test_subgoals_are_kept_and_cleared_per_env():
    """set_subgoals keeps a hierarchical plan's coarse latents; clear(rows) drops those envs' only."""
    mem = make()
    assert mem.last_subgoals is None
    sub = torch.randn(B, 3, D, requires_grad=True)
    mem.set_subgoals(sub)
    assert torch.equal(mem.last_subgoals, sub) and not mem.last_subgoals.requires_grad
    mem.clear(torch.tensor([True, False]))
    assert mem.last_subgoals[0].isnan().all() and torch.equal(mem.last_subgoals[1], sub[1])
    with pytest.raises(ValueError, match=r"subgoals must be \(B, M, D\)"):
        mem.set_subgoals(torch.zeros(B, 3, D + 1))
    mem.clear()
    assert mem.last_subgoals is None
