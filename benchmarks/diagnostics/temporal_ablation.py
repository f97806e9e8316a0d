"""Ablation of the temporal-smoothness weight of the JEPA world model on Reach2D.

    python -m benchmarks.diagnostics.temporal_ablation --coefs 0.1 1.0 --json runs/temporal_ablation.json

For each ``temporal_coef``: collect 12k steps of random exploration, train the world model,
critic and probe for ``--updates`` updates on that data only, then plan to 20 held-out goals
with CEM and the latent goal energy alone (critic weight 0). This isolates what the latent
geometry does for planning: no planner-collected data, no critic.
"""

from __future__ import annotations

import json

import gymnasium as gym

from benchmarks import common
from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig


def run(coef: float, updates: int, episodes: int, seed: int, *, steps: int = 12_000,
        sets: dict | None = None) -> dict:
    """One ``temporal_coef``: ``steps`` random env steps, ``updates`` updates on them, then
    ``episodes`` held-out goals planned for by the latent goal energy alone. ``sets``: more
    config overrides (a smaller agent)."""
    cfg = AgentConfig().with_overrides(
        {"device": "cpu", "seed": seed, "training.random_steps": 10**9, "world_model.options": {"temporal_coef": coef},
         "task.cost.critic_weight": 0.0, **(sets or {})}
    )
    make = lambda: gym.make("jepa_agent/Reach2D-v0")  # noqa: E731
    env = make()
    agent = Agent.from_config(cfg, env)
    agent.train([make() for _ in range(8)], steps)  # random exploration only
    _, train_s = common.train_on(agent, updates, adapt=True)
    result = agent.evaluate(env, episodes, seed=2_000_000 + seed)
    return {
        "temporal_coef": coef,
        "success_rate": result["success_rate"],
        "mean_final_distance": result["mean_final_distance"],
        "episodes": episodes,
        "updates": updates,
        "train_s": train_s,
        **agent.diagnostics(),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    p = common.parser(__doc__, full=True, json_out="optional", seed=True, threads=2, sets=True)
    p.add_argument("--coefs", type=float, nargs="+", default=[0.1, 1.0])
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--steps", type=int, default=12_000, help="random env steps the world model learns from")
    args = p.parse_args(argv)
    common.setup(args.threads, flush_denormal=True)
    rows = []
    for coef in args.coefs:
        rows.append(run(coef, args.updates, args.episodes, args.seed, steps=args.steps, sets=common.overrides(args.set)))
        print(json.dumps(rows[-1]))
    if args.json:
        common.write_json(args.json, rows)
    return rows


if __name__ == "__main__":
    main()
