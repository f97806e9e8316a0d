"""benchmarks.throughput: env steps per second while acting with B vector envs."""

from __future__ import annotations

import json


def test_acting_throughput_per_env_count(throughput, tmp_path):
    """A short measurement on 1 and 2 envs (acting only): a positive rate for each, the speedups
    absent where their counts were not measured, and the file written with its provenance."""
    result = throughput.main(["--json", str(tmp_path / "t.json"), "--envs", "1", "2", "--seconds", "0.3",
                              "--budget", "collect", "--no-updates"])
    assert set(result["env_steps_per_s"]) == {"1", "2"} and all(v > 0 for v in result["env_steps_per_s"].values())
    assert result["speedup_16_vs_1"] is None and result["updates_per_s"] == {} and result["budget"] == "collect"
    saved = json.loads((tmp_path / "t.json").read_text())
    assert saved["env_steps_per_s"] == result["env_steps_per_s"] and saved["provenance"]["torch_threads"] == 1
