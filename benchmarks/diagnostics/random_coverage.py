"""How much of an env's goal space random actions alone visit (the exploration baseline).

    python benchmarks/random_coverage.py --config configs/reach3d_far.yaml --steps 30000 --repeats 5 20

Uniform random actions, each held ``repeat`` steps (as training's random exploration does),
for ``--steps`` env steps in one env; coverage is ``agent.coverage.GoalCoverage`` (visited
cells, 10 per axis, of the cells the env's own goals fall in; 500 goals sampled).
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
    p.add_argument("--config", nargs="+", default=[str(ROOT / "configs" / "reach3d.yaml"),
                                                    str(ROOT / "configs" / "reach3d_far.yaml")])
    p.add_argument("--steps", type=int, default=30_000)
    p.add_argument("--repeats", type=int, nargs="+", default=[5, 20])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()

    from jepa_agent.agent.coverage import GoalCoverage
    from jepa_agent.agent.environments import make_env
    from jepa_agent.configurator.loading import load_config

    results = []
    for path in args.config:
        env = make_env(load_config(path))
        for repeat in args.repeats:
            cov = GoalCoverage.from_env(env, samples=500)
            rng = np.random.default_rng(args.seed)
            low, high = env.action_space.low, env.action_space.high
            steps = 0
            while steps < args.steps:
                obs, _ = env.reset(seed=int(rng.integers(1 << 31)))
                points, done, t = [obs["achieved_goal"]], False, 0
                while not done:
                    if t % repeat == 0:
                        action = rng.uniform(low, high)
                    obs, _, terminated, truncated, _ = env.step(action)
                    points.append(obs["achieved_goal"])
                    t, steps, done = t + 1, steps + 1, terminated or truncated
                cov.add(np.array(points))
            results.append({"config": path, "random_action_repeat": repeat, "env_steps": steps,
                            "coverage": cov.fraction, "support_cells": len(cov.support)})
            print(f"{Path(path).name:18s} repeat {repeat:3d}: coverage {cov.fraction:.3f} of {len(cov.support)} cells")
        env.close()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
