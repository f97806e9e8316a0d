"""benchmarks.diagnostics.maze_distance: each goal energy ranked against the maze's shortest paths."""

from __future__ import annotations

import json

from benchmarks.common import ROOT


def test_every_energy_is_ranked_over_all_and_detour_pairs(maze_distance, maze_checkpoint, tmp_path):
    """On the U-maze: every ordered pair of free cells, the detour pairs among them, and the
    straight-line distance ranks the pairs with the shortest path (a positive rho)."""
    result = maze_distance.main([str(maze_checkpoint), "--config", str(ROOT / "configs" / "pointmaze.yaml"),
                                 "--json", str(tmp_path / "m.json")])
    C = result["cells"]
    assert C >= 5 and result["pairs"] == C * (C - 1) and 0 < result["detour_pairs"] < result["pairs"]
    assert set(result["spearman"]) == {"latent", "critic", "euclid"}
    assert result["spearman"]["euclid"]["all"] > 0.5
    assert all(-1 <= rho[k] <= 1 for rho in result["spearman"].values() for k in ("all", "detour"))
    assert json.loads((tmp_path / "m.json").read_text())["spearman"] == result["spearman"]
