"""Reach from camera images to a picture of the goal: plan in representation space.

    python examples/reach_pixels.py                            # Reach2D, 64x64 pixels, defaults
    python examples/reach_pixels.py --steps 4000 --episodes 10 --out runs/pixels_quick

The agent sees only a 64x64 uint8 image of the arm (``obs_type="pixels"``; the goal marker is
not drawn) and, for the goal, the env's **goal image**: the goal configuration rendered the
same way. A conv encoder embeds both; the JEPA world model predicts the latents of the images
that follow an action sequence, and the planner minimises the distance between the predicted
latent and the goal image's latent (the goal energy of V-JEPA 2-AC and DINO-WM).

This is examples/reach.py with ``configs/reach_pixels.yaml`` and one torch thread (every flag
of reach.py works, ``--config``, ``--threads`` and ``--set`` included), plus ``--image-size``,
``--frame-stack``, ``--strip-episodes`` and ``--video-episodes``. Writes to ``--out`` (default
``runs/reach_pixels``) what reach.py writes, with the same ``eval.json`` keys and a few more
(``obs_type``, ``image_shape``, ``example_wall_s``, ``goal_strip``, ``video``), and:

- ``goal_strip.png``: held-out episodes, one row each: first frame | last frame | goal image;
- ``episode.mp4`` (``.gif`` without ffmpeg): a held-out episode, the agent's camera beside its
  goal image and a 240x240 view with the goal marker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# Headless rendering: EGL unless the caller chose (MUJOCO_GL=osmesa is the software fallback).
# MuJoCo reads this once, on first import, so it is set before anything imports mujoco.
os.environ.setdefault("MUJOCO_GL", "egl")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import reach  # noqa: E402  (examples/reach.py: the main job this example configures)

from jepa_agent.agent import Agent  # noqa: E402
from jepa_agent.agent.app.run import EVAL_SEED, make_env  # noqa: E402
from jepa_agent.agent.app.video import VideoWriter  # noqa: E402

CONFIG = ROOT / "configs" / "reach_pixels.yaml"
"""The pixel agent: a conv encoder and a replay batch sized for images (see the file)."""
DEFAULT_STEPS = 20_000
"""Env steps of the default run (Reach2D)."""


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Every other flag is examples/reach.py's (--env --steps --seed --device --episodes "
        "--config --num-envs --threads --set).",
    )
    p.add_argument("--out", default="runs/reach_pixels", help="output folder")
    p.add_argument("--image-size", type=int, default=None, help="pixel observations are S x S (config: 64)")
    p.add_argument("--frame-stack", type=int, default=None, help="frames stacked along channels (config: 1)")
    p.add_argument("--strip-episodes", type=int, default=4, help="held-out episodes in goal_strip.png")
    p.add_argument("--video-episodes", type=int, default=1, help="held-out episodes in the video (0: none)")
    return p.parse_known_args(argv)


def run_episode(agent: Agent, env: gym.Env, seed: int, on_frame=None) -> dict:
    """One episode toward the env's goal image; ``on_frame(obs, goal_obs)`` sees every state.
    Returns the first observation, the last one and the goal observation."""
    obs, info = env.reset(seed=seed)
    goal = info["goal_observation"]
    agent.reset(goal=goal)
    first, done = obs, False
    while True:
        if on_frame is not None:
            on_frame(obs, goal)
        if done:
            return {"first": first, "last": obs, "goal": goal}
        obs, _, terminated, truncated, _ = env.step(agent.act(obs))
        done = terminated or truncated


def goal_strip(agent: Agent, env: gym.Env, seeds: list[int], path: Path) -> None:
    """One row per episode: first frame | last frame | goal image, upscaled, as PNG."""
    import imageio.v2 as imageio

    rows = []
    for seed in seeds:
        ep = run_episode(agent, env, seed)
        rows.append(np.concatenate([_rgb(ep["first"]), _rgb(ep["last"]), _rgb(ep["goal"])], axis=1))
    strip = np.concatenate(rows, axis=0)  # (rows * S, 3 * S, 3)
    scale = max(1, 192 // rows[0].shape[0])  # about 192 px per frame, nearest-neighbour
    imageio.imwrite(path, strip.repeat(scale, axis=0).repeat(scale, axis=1))


def record_video(agent: Agent, config, seeds: list[int], path: Path) -> Path:
    """Held-out episodes as one video: agent's camera | goal image | view with the goal marker."""
    env = make_env(config, render=True)  # render(): 240x240, the goal marker drawn
    writer = VideoWriter(path, fps=25)

    def frame(obs: dict, goal: dict) -> None:
        view = env.render()
        size = view.shape[0]
        writer.append(np.concatenate([_upscale(_rgb(obs), size), _upscale(_rgb(goal), size), view], axis=1))

    try:
        for seed in seeds:
            run_episode(agent, env, seed, on_frame=frame)
    finally:
        writer.close()
        env.close()
    return writer.path


def _rgb(obs: dict) -> np.ndarray:
    """The newest frame of an observation's (C, H, W) pixels, as (H, W, 3)."""
    return np.ascontiguousarray(obs["pixels"][-3:].transpose(1, 2, 0))


def _upscale(img: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize of (H, W, 3) to (size, size, 3)."""
    rows = np.arange(size) * img.shape[0] // size
    cols = np.arange(size) * img.shape[1] // size
    return img[rows][:, cols]


def main(argv: list[str] | None = None) -> None:
    start = time.perf_counter()
    args, rest = parse_args(argv)
    out = Path(args.out)
    rest = list(rest)
    given = {token.split("=", 1)[0] for token in rest}
    if "--config" not in given:
        rest = ["--config", str(CONFIG), *rest]
    if "--steps" not in given:
        rest += ["--steps", str(DEFAULT_STEPS)]
    for option, value in (("image_size", args.image_size), ("frame_stack", args.frame_stack)):
        if value is not None:
            rest += ["--set", f"task.env_kwargs.{option}={value}"]
    reach.main([*rest, "--out", str(out)])  # train, evaluate on held-out goal images, eval.json

    agent = Agent.load(out / "checkpoint.safetensors")
    config = agent.config
    summary = json.loads((out / "eval.json").read_text())
    seed0 = EVAL_SEED + summary["seed"]
    env = make_env(config)
    goal_strip(agent, env, [seed0 + i for i in range(args.strip_episodes)], out / "goal_strip.png")
    env.close()
    video = None
    if args.video_episodes > 0:
        video = record_video(agent, config, [seed0 + i for i in range(args.video_episodes)], out / "episode.mp4")
    summary.update(
        obs_type=config.task.env_kwargs.get("obs_type", "state"),
        image_shape=list(agent.input_shapes.get("pixels", ())),
        encoder=config.encoder.name,
        example_wall_s=time.perf_counter() - start,
        goal_strip=str(out / "goal_strip.png"),
        video=None if video is None else str(video),
    )
    (out / "eval.json").write_text(json.dumps(summary, indent=2))
    written = ", ".join(str(p) for p in (out / "goal_strip.png", video) if p is not None)
    print(f"wrote {written}; whole example {summary['example_wall_s']:.0f} s")


if __name__ == "__main__":
    main()
