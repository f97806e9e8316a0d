"""benchmarks.diagnostics.random_coverage: how much of the goal space random actions visit."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym

from jepa_agent import envs  # noqa: F401  (registers the reach envs)

ROOT = Path(__file__).resolve().parents[3]


def test_coverage_of_random_actions_is_seeded_and_grows_with_steps(random_coverage):
    """Whole episodes until the steps are reached; the same seed visits the same cells; more steps never fewer."""
    env = gym.make("jepa_agent/Reach2D-v0")
    short = random_coverage.coverage(env, 120, repeat=5, seed=0)
    assert short["env_steps"] == 150 and 0 < short["coverage"] <= 1 and short["support_cells"] > 0
    assert random_coverage.coverage(env, 120, repeat=5, seed=0) == short
    assert random_coverage.coverage(env, 600, repeat=5, seed=0)["coverage"] >= short["coverage"]


def test_the_command_writes_a_record_per_config_and_repeat(random_coverage, tmp_path):
    """One record per (config, repeat), in order, with its coverage."""
    random_coverage.main(["--config", str(ROOT / "configs" / "reach2d.yaml"), "--steps", "100",
                          "--repeats", "1", "20", "--json", str(tmp_path / "cov.json")])
    records = json.loads((tmp_path / "cov.json").read_text())
    assert [r["random_action_repeat"] for r in records] == [1, 20]
    assert all(r["env_steps"] == 100 and 0 < r["coverage"] <= 1 for r in records)
