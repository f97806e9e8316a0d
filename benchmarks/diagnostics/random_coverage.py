"""How much of an env's goal space random actions alone visit (the exploration baseline).

    python -m benchmarks.diagnostics.random_coverage --config configs/reach3d_far.yaml --steps 30000 --repeats 5 20

Uniform random actions, each held ``repeat`` steps (as training's random exploration does),
for ``--steps`` env steps in one env; coverage is ``agent.coverage.GoalCoverage`` (visited
cells, 10 per axis, of the cells the env's own goals fall in; 500 goals sampled).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common


def coverage(env: Any, steps: int, repeat: int, seed: int) -> dict[str, Any]:
    """Uniform random actions, each held ``repeat`` steps, for at least ``steps`` env steps
    (whole episodes, each reset with a seed drawn from ``seed``): the env steps taken, the
    fraction of the goal cells visited and how many cells the goals fall in."""
    from jepa_agent.agent.coverage import GoalCoverage

    cov = GoalCoverage.from_env(env, samples=500)
    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high
    taken = 0
    while taken < steps:
        obs, _ = env.reset(seed=int(rng.integers(1 << 31)))
        points, done, t = [obs["achieved_goal"]], False, 0
        while not done:
            if t % repeat == 0:
                action = rng.uniform(low, high)
            obs, _, terminated, truncated, _ = env.step(action)
            points.append(obs["achieved_goal"])
            t, taken, done = t + 1, taken + 1, terminated or truncated
        cov.add(np.array(points))
    return {"env_steps": taken, "coverage": cov.fraction, "support_cells": len(cov.support)}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    p = common.parser(__doc__, json_out="optional", seed=True)
    p.add_argument("--config", nargs="+", default=[str(common.ROOT / "configs" / "reach3d.yaml"),
                                                    str(common.ROOT / "configs" / "reach3d_far.yaml")])
    p.add_argument("--steps", type=int, default=30_000)
    p.add_argument("--repeats", type=int, nargs="+", default=[5, 20])
    args = p.parse_args(argv)
    common.setup()

    from jepa_agent.agent.environments import make_env
    from jepa_agent.configurator.loading import load_config

    results = []
    for path in args.config:
        env = make_env(load_config(path))
        for repeat in args.repeats:
            results.append({"config": path, "random_action_repeat": repeat,
                            **coverage(env, args.steps, repeat, args.seed)})
            r = results[-1]
            print(f"{Path(path).name:18s} repeat {repeat:3d}: coverage {r['coverage']:.3f} of {r['support_cells']} cells")
        env.close()
    if args.json:
        common.write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
