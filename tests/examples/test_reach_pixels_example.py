"""End-to-end runs of examples/reach_pixels.py in a subprocess: a tiny one for CI, a reduced
training budget (slow) that must clearly beat a random policy."""

from __future__ import annotations

import imageio.v2 as imageio
import pytest

EVAL_KEYS = {
    "success_rate", "success_threshold", "mean_final_distance", "episodes", "env_steps",
    "train_wall_s", "act_ms_median", "embed_std", "embed_rank", "random_success_rate",
    "random_mean_final_distance", "obs_type", "image_shape", "example_wall_s", "goal_strip", "video",
}


@pytest.fixture()
def run_pixels(run_example):
    return lambda out, *args, timeout: run_example("reach_pixels.py", out, *args, timeout=timeout, keys=EVAL_KEYS)


def test_reach_pixels_tiny_budget_runs_end_to_end(tmp_path, run_pixels):
    """A tiny run trains from 32x32 pixels, evaluates on goal images and writes eval.json, the
    checkpoint, the (current | goal) strip and a video of one episode."""
    r = run_pixels(
        tmp_path, "--steps", "300", "--episodes", "2", "--num-envs", "2", "--threads", "1",
        "--image-size", "32", "--strip-episodes", "1", "--video-episodes", "1",
        "--set", "training.random_steps=200", "--set", "training.pretrain_updates=5",
        "--set", "training.batch_size=8", "--set", "training.window=2",
        "--set", "encoder.options.channels=[8,8,8]",
        "--set", "task.planner.options.samples=32", "--set", "task.planner.options.iterations=1",
        "--set", "training.exploration.planner.options.samples=16",
        timeout=300,
    )
    assert r["obs_type"] == "pixels" and r["image_shape"] == [3, 32, 32]
    assert r["env_steps"] == 300 and r["episodes"] == 2
    assert 0.0 <= r["success_rate"] <= 1.0 and r["embed_std"] > 0 and r["embed_rank"] >= 1
    for name in ("checkpoint.safetensors", "learning_curve.png", "config.yaml"):
        assert (tmp_path / name).is_file(), name
    strip = imageio.imread(r["goal_strip"])
    assert strip.ndim == 3 and strip.shape[1] == 3 * strip.shape[0]  # one row: start | end | goal
    frames = imageio.mimread(r["video"], memtest=False)
    assert len(frames) == 51 and frames[0].shape == (240, 720, 3)  # reset + 50 steps


@pytest.mark.slow
def test_reach_pixels_reduced_budget_beats_random(tmp_path, run_pixels):
    """10k env steps from 64x64 pixels reach goal images far better than a random policy."""
    r = run_pixels(
        tmp_path, "--steps", "10000", "--episodes", "20", "--video-episodes", "0",
        "--set", "training.random_steps=5000", "--set", "training.pretrain_updates=1000",
        timeout=3600,
    )
    assert r["mean_final_distance"] < 0.5 * r["random_mean_final_distance"], r
    assert r["success_rate"] >= r["random_success_rate"] + 0.4, r
    assert r["embed_std"] > 0.5 and r["embed_rank"] > 4.0, r
