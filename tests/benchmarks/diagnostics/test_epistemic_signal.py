"""benchmarks.diagnostics.epistemic_signal: each uncertainty measure against the distance to the data."""

from __future__ import annotations

import json

import numpy as np


def test_both_measures_are_ranked_against_the_distance_to_the_data(epistemic_signal, tmp_path):
    """A tiny run (400 random steps, 3 updates, 16 states): every state's distance to the data
    is measured (the farthest quarter farther than the nearest), both measures get a rank
    correlation in [-1, 1] and a positive mean, and the file holds it all."""
    result = epistemic_signal.main(["--json", str(tmp_path / "s.json"), "--steps", "400", "--updates", "3",
                                    "--states", "16", "--samples", "2"])
    assert result["states"] == 16 and result["random_steps"] == 400
    d = result["distance_to_data_m"]
    assert 0 <= d["near_quarter_mean"] <= d["median"] <= d["far_quarter_mean"]
    for name in ("ensemble_disagreement", "latent_sample_spread"):
        r = result[name]
        assert -1 <= r["spearman_with_distance"] <= 1 and np.isfinite(r["far_over_near"]), name
    assert result["ensemble_disagreement"]["mean"] > 0
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["ensemble_disagreement"] == result["ensemble_disagreement"] and "provenance" in saved
