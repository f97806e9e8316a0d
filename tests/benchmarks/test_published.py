"""benchmarks/published_100k.csv: published agents' per-seed returns, each row with its source."""

import csv

import numpy as np
import pytest

from benchmarks import common


def test_every_row_names_its_source_and_env_version():
    with common.PUBLISHED.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(r["source"] and r["published_env"].endswith(("-v4", "-v5")) for r in rows)
    assert all(np.isfinite(float(r["return"])) and int(r["env_steps"]) > 0 for r in rows)
    keys = [(r["env"], r["agent"], r["env_steps"], r["seed"]) for r in rows]
    assert len(keys) == len(set(keys))  # one row per seed


@pytest.mark.parametrize(("env", "mean"), [("Hopper-v5", 2249.4), ("Walker2d-v5", 3127.2),
                                           ("HalfCheetah-v5", 7872.5), ("Ant-v5", 2800.7)])
def test_mrq_at_100k_has_ten_seeds_and_its_published_mean(env, mean):
    """MR.Q's means at 100k as its results file gives them (10 seeds, Gym v4)."""
    runs = common.published(env)["MR.Q"]
    assert len(runs) == 10 and np.mean(runs) == pytest.approx(mean, abs=0.05)
    assert common.published("Reacher-v5") == {} and common.published(env, steps=5) == {}
