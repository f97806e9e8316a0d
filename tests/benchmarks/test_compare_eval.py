"""benchmarks.compare_eval: equal results pass whatever the timings; any other change is named."""

import json
import math

from benchmarks import compare_eval as compare

EVAL = {"success_rate": 1.0, "mean_final_distance": 0.0027, "embed_rank": math.nan, "train_wall_s": 208.0,
        "provenance": {"git_commit": "a"}, "records": [{"seed": 1, "success": 1.0, "return": -2.5}]}


def test_timings_and_provenance_may_differ(tmp_path):
    """Two results that differ only in wall time and provenance are the same (NaN == NaN)."""
    other = {**EVAL, "train_wall_s": 250.0, "provenance": {"git_commit": "b"}}
    assert compare.differences(EVAL, other) == []
    (tmp_path / "a.json").write_text(json.dumps(EVAL))
    (tmp_path / "b.json").write_text(json.dumps(other))
    assert compare.main([str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0


def test_a_changed_record_or_score_is_named(tmp_path):
    """A different return in one episode, a missing key or a float's last bit: each is listed."""
    changed = {**EVAL, "records": [{"seed": 1, "success": 1.0, "return": -2.5000000000000004}]}
    assert compare.differences(EVAL, changed) == ["records[0].return: -2.5 != -2.5000000000000004"]
    assert compare.differences(EVAL, {k: v for k, v in EVAL.items() if k != "success_rate"}) == [
        "success_rate: only in the first"]
    (tmp_path / "a.json").write_text(json.dumps(EVAL))
    (tmp_path / "b.json").write_text(json.dumps(changed))
    assert compare.main([str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 1
