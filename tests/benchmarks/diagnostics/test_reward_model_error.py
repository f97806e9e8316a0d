"""benchmarks.diagnostics.reward_model_error: the learned task cost along imagined rollouts against Reacher's reward."""

from __future__ import annotations

import numpy as np

SMALL = ["encoder.hidden_dim=32", "world_model.hidden_dim=32", "critic.hidden_dim=32", "task_cost.hidden_dim=32",
         "training.batch_size=16"]


def test_error_and_spread_per_rollout_step_from_a_cached_replay(reward_model_error, tmp_path):
    """A tiny run: the error of the reward's distance part and that part's own spread at each of
    the 12 rollout steps; a second run reuses the cached replay, and the spread (the env's
    alone, on the same held-out episodes) is the same."""
    replay = tmp_path / "r.npz"
    argv = ["--steps", "400", "--updates", "3", "--episodes", "1", "--replay", str(replay)]
    for item in SMALL:
        argv += ["--set", item]
    first = reward_model_error.main(argv)
    assert len(first["error"]) == len(first["spread"]) == 12
    assert np.all(np.isfinite(first["error"])) and np.all(np.asarray(first["spread"]) > 0)
    written = replay.stat().st_mtime_ns
    second = reward_model_error.main(argv)
    assert replay.stat().st_mtime_ns == written and second["spread"] == first["spread"]
