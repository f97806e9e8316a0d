"""benchmarks.diagnostics.temporal_ablation: random data, the world model trained, planning by the latent energy alone."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def small(common):
    """A tiny agent's overrides (random exploration stays the ablation's own)."""
    return {k: v for k, v in common.TINY.items() if k not in ("training.random_steps", "seed")}


def test_one_coefficient_is_trained_on_random_data_and_evaluated(temporal_ablation, small):
    """A tiny run: the record names the coefficient, the updates, the held-out episodes and
    the embedding's collapse diagnostics; success is a rate."""
    r = temporal_ablation.run(0.5, updates=3, episodes=2, seed=0, steps=400, sets=small)
    assert (r["temporal_coef"], r["updates"], r["episodes"]) == (0.5, 3, 2)
    assert 0.0 <= r["success_rate"] <= 1.0 and r["mean_final_distance"] > 0
    assert r["embed_std"] > 0 and r["embed_rank"] >= 1 and r["train_s"] > 0


def test_the_command_writes_a_row_per_coefficient(temporal_ablation, small, tmp_path):
    """``--coefs 0.1 1.0``: one row each, in order."""
    sets = [f"{k}={v}" for k, v in small.items()]
    temporal_ablation.main(["--coefs", "0.1", "1.0", "--updates", "2", "--episodes", "1", "--steps", "400",
                            "--threads", "1", "--json", str(tmp_path / "t.json"), "--set", *sets])
    assert [r["temporal_coef"] for r in json.loads((tmp_path / "t.json").read_text())] == [0.1, 1.0]
