"""How far a trained world model's predictions are off, in the env's own units, against how far the agent moves.

    python benchmarks/model_error.py runs/hierarchy/pointmaze_medium/checkpoint.pt \\
        --config configs/pointmaze_medium_hier.yaml --json runs/model_error.json

From ``--starts`` states of the config's env (a reset, then up to 40 random actions), one
action held for ``--horizon`` agent steps (each ``task.action_repeat`` env steps, as the
agent acts): the probe's readout of the world model's predicted latents against the
``achieved_goal`` the env reaches. Prints and writes the readout error at the start (the
probe alone), the rollout error at each step (median and 90th percentile), and the median
distance the agent really moved and was predicted to move. A planner whose horizon moves
the agent less than the model's error decides on noise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MUJOCO_GL", "egl")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--config", required=True, help="the task's config (its env and action repeat)")
    p.add_argument("--starts", type=int, default=150)
    p.add_argument("--horizon", type=int, default=10, help="agent steps per rollout (the planner's horizon)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write the numbers here")
    args = p.parse_args()

    import torch

    from agent import Agent
    from agent.configs import load_config
    from agent.environments import make_env
    from agent.vector import wrap_env

    torch.set_num_threads(1)
    config = load_config(args.config)
    agent = Agent.load(args.checkpoint)
    if agent.probe is None:
        raise SystemExit(f"{args.checkpoint}: the agent has no probe to read its latents out with")
    repeat = agent.config.task.action_repeat
    env = wrap_env(make_env(config), repeat)
    rng = np.random.default_rng(args.seed)
    low, high = env.action_space.low, env.action_space.high
    start_err, errors, moved, predicted = [], [], [], []
    for i in range(args.starts):
        obs, _ = env.reset(seed=args.seed + i)
        for _ in range(int(rng.integers(0, 40))):
            obs, *_ = env.step(rng.uniform(low, high).astype(np.float32))
        actions = np.tile(rng.uniform(low, high), (args.horizon, 1)).astype(np.float32)  # (H, A)
        start, reached = obs, []
        for a in actions:
            obs, *_ = env.step(a)
            reached.append(np.asarray(obs[agent.probe.key], dtype=np.float64))
        with torch.no_grad():
            s = agent.world_model.encode(agent._tensors(agent._to_batch(start)[0]))  # (1, D)
            states = agent.world_model.rollout(s, torch.as_tensor(actions)[None])[0]  # (H, D)
            xy, xy0 = agent.probe(states).numpy(), agent.probe(s)[0].numpy()
        at_start = np.asarray(start[agent.probe.key], dtype=np.float64)
        start_err.append(float(np.linalg.norm(xy0 - at_start)))
        errors.append(np.linalg.norm(xy - np.array(reached), axis=-1))
        moved.append(float(np.linalg.norm(reached[-1] - at_start)))
        predicted.append(float(np.linalg.norm(xy[-1] - xy0)))
    env.close()
    err = np.array(errors)  # (starts, H)
    result = {
        "checkpoint": args.checkpoint, "action_repeat": repeat, "horizon": args.horizon, "starts": args.starts,
        "readout_error_median": float(np.median(start_err)),
        "rollout_error_median": np.median(err, 0).round(4).tolist(),
        "rollout_error_p90": np.percentile(err, 90, 0).round(4).tolist(),
        "moved_median": float(np.median(moved)), "predicted_moved_median": float(np.median(predicted)),
    }
    print(f"{args.checkpoint} (action repeat {repeat}, {args.horizon} actions, {args.starts} starts)")
    print(f"  readout error at the start: {result['readout_error_median']:.3f} (median)")
    print(f"  rollout error by step (median): {result['rollout_error_median']}")
    print(f"  moved in {args.horizon} actions: {result['moved_median']:.3f} (median); "
          f"predicted {result['predicted_moved_median']:.3f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
