"""benchmarks.gpu_check: the reach loop on CUDA, or one line saying there is none."""

from __future__ import annotations

import json

import pytest
import torch


def test_without_cuda_it_says_so_and_exits_0(gpu_check, tmp_path, capsys):
    """No CUDA device: one line naming it, exit 0, no results file."""
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is here: test_on_cuda_it_measures_the_loop runs instead")
    assert gpu_check.main(["--json", str(tmp_path / "g.json")]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no CUDA device" in out and not (tmp_path / "g.json").exists()


def test_on_cuda_it_measures_the_loop(script, tmp_path):
    """On a CUDA device, a short run: updates per second, latency for 1 and 64 envs, peak memory."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    done = script("gpu_check", "--steps", "800", "--updates", "5", "--json", tmp_path / "g.json", timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads((tmp_path / "g.json").read_text())
    assert out["updates_per_s"] > 0 and out["act_ms_median_1_envs"] > 0 and out["act_ms_median_64_envs"] > 0
    assert out["peak_gpu_memory_mb"] > 0 and out["provenance"]["device"].startswith("cuda")
