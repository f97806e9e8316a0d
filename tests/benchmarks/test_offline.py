"""benchmarks.offline: a random dataset written with ``jepa-agent collect``, pretrained on with no env step."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


def test_a_cell_is_the_two_commands_a_user_runs(offline):
    """Known answer: collect the task's steps as a Minari dataset with the held actions, then pretrain on it."""
    collect, pretrain = offline.cell("reach3d", 5, 1, 100, 3, Path("/out"))
    assert collect.startswith(f"{sys.executable} -m jepa_agent collect --config configs/reach3d.yaml --steps 30000")
    assert "--training.exploration.random_repeat=5 --seed 1" in collect
    assert "--dataset-id jepa_agent/reach3d-random5-s1-v0" in collect
    assert "--dataset /out/datasets/jepa_agent/reach3d-random5-s1-v0" in pretrain
    assert "--steps 100 --episodes 3 --seed 1 --out /out/reach3d_r5_s1" in pretrain
    assert "--steps 200 " in offline.cell("reach2d", 20, 0, 1, 1, Path("/out"), steps=200)[0]


def test_a_tiny_cell_end_to_end(offline, tmp_path):
    """400 random steps of Reach2D, 3 updates, 2 held-out goals: a record with the dataset's
    steps, the updates and a success rate."""
    pytest.importorskip("minari")
    records = offline.main(["--out", str(tmp_path), "--tasks", "reach2d", "--steps", "400", "--updates", "3",
                            "--episodes", "2", "--parallel", "1"])
    (r,) = records
    assert (r["task"], r["dataset_steps"], r["updates"], r["episodes"]) == ("reach2d", 400, 3, 2)
    assert 0 <= r["success_rate"] <= 1
    assert json.loads((tmp_path / "results.json").read_text()) == records
