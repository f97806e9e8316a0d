"""benchmarks/suites.py: the suite's summary from its envs' results folders."""

import json

import numpy as np
import pytest

from benchmarks import common, suites
from benchmarks.stats import iqm


def write(folder, env, method, finals, early=0.0):
    """results.json of ``env`` with two evaluations per seed: ``early`` at 50k, the final one at 100k."""
    path = folder / suites.folder_name(env) / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(path.read_text()) if path.is_file() else []
    rows = [{"method": method, "env": env, "seed": s, "env_steps": n, "mean_return": r, "std_return": 0.0,
             "success_rate": None, "wall_s": 1.0}
            for s, final in enumerate(finals) for n, r in ((50_000, early), (100_000, final))]
    path.write_text(json.dumps(old + rows))


def test_summary_takes_each_seeds_final_evaluation(tmp_path):
    write(tmp_path, "Hopper-v5", "ours", [3000.0, 2500.0, 2600.0, 2400.0], early=9999.0)
    write(tmp_path, "Hopper-v5", "sac", [900.0, 1000.0, 1100.0, 1200.0])
    s = suites.write_summary(tmp_path)
    hopper = s["envs"]["Hopper-v5"]
    assert hopper["methods"]["ours"]["iqm"] == pytest.approx(2550.0)  # the middle two of four
    assert hopper["methods"]["ours"]["seed_ids"] == [0, 1, 2, 3] and hopper["target"] == 2250.0
    lo, hi = hopper["methods"]["sac"]["ci95"]
    assert 900.0 <= lo <= 1050.0 <= hi <= 1200.0
    assert hopper["ours_vs_sac"] == "ahead"
    mrq = common.published("Hopper-v5")["MR.Q"]
    assert hopper["published"]["MR.Q"]["iqm"] == pytest.approx(iqm(mrq)) and hopper["published"]["MR.Q"]["seeds"] == 10
    assert set(hopper["published"]) >= {"MR.Q", "SimbaV2", "SAC"}
    text = (tmp_path / "suite.md").read_text()
    assert "| Hopper-v5 | 100000 | 2250 | 2550.0 [" in text and "| ahead |" in text
    assert json.loads((tmp_path / "suite.json").read_text())["envs"]["Hopper-v5"]["methods"]["ours"]["iqm"] == 2550.0


def test_overlapping_intervals_and_the_normalised_overall_score(tmp_path):
    write(tmp_path, "Hopper-v5", "ours", [2250.0, 2250.0, 2250.0])
    write(tmp_path, "Reacher-v5", "ours", [-7.5, -7.5, -7.5])
    write(tmp_path, "Reacher-v5", "sac", [-8.0, -7.0, -7.5])
    s = suites.summarize(tmp_path)
    assert s["envs"]["Reacher-v5"]["ours_vs_sac"] == "overlapping"
    assert s["envs"]["Reacher-v5"]["published"] == {}  # none recorded at 30k or for Reacher
    # Hopper at its target scores 1, Reacher at twice its cost 0.5: the pooled IQM of 1,1,1,.5,.5,.5
    overall = s["overall"]["ours"]
    assert overall["envs"] == 2 and overall["iqm_of_target"] == pytest.approx(0.75)
    assert overall["ci95"] == pytest.approx([0.75, 0.75])  # stratified: no spread within an env
    assert suites.normalised(-3.75, "Reacher-v5") == 1.0 and suites.normalised(4500.0, "Hopper-v5") == 2.0


def test_no_results_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="<env>/results.json from a --suite run"):
        suites.summarize(tmp_path)


def test_every_suite_env_has_a_target_and_the_published_csv_covers_the_locomotion_envs():
    for env, steps in suites.SUITES["mujoco"].items():
        assert env in suites.TARGETS
        if steps == 100_000:
            assert {"MR.Q", "SimbaV2", "CrossQ", "SAC"} <= set(common.published(env))
    assert np.mean(common.published("Hopper-v5")["SAC"]) == pytest.approx(1103.4, abs=0.05)
