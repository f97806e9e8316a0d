"""benchmarks.bad_inputs: every generated bad input gets one clear error line."""

from __future__ import annotations

import json


def test_every_bad_input_gets_one_clear_line(bad_inputs, tmp_path):
    """Over 200 seeded bad inputs of every category: each raises a clear error naming what was wrong."""
    result = bad_inputs.run(0, tmp_path)
    assert result["bad_inputs_tried"] >= 200
    assert result["bad_input_failures"] == []
    assert result["bad_inputs_clear_error"] == result["bad_inputs_tried"]
    assert {"config_unknown_key", "obs_shape", "env_id_near_miss", "checkpoint_truncated", "cli"} <= set(
        result["bad_inputs_by_category"])


def test_the_command_writes_its_results(bad_inputs, tmp_path):
    """``--cases 12``: about a dozen spread over the categories, all clear, written with provenance."""
    assert bad_inputs.main_(["--cases", "12", "--json", str(tmp_path / "out.json")]) == 0
    out = json.loads((tmp_path / "out.json").read_text())
    assert 12 <= out["bad_inputs_tried"] <= 24 and out["bad_inputs_clear_error"] == out["bad_inputs_tried"]
    assert len(out["bad_inputs_by_category"]) >= 4 and "torch" in out["provenance"]
