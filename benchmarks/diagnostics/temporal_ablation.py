"""Ablation of the temporal-smoothness weight of the JEPA world model on Reach2D.

    python benchmarks/temporal_ablation.py --coefs 0.1 1.0 --json runs/temporal_ablation.json

For each ``temporal_coef``: collect 12k steps of random exploration, train the world model,
critic and probe for ``--updates`` updates on that data only, then plan to 20 held-out goals
with CEM and the latent goal energy alone (critic weight 0). This isolates what the latent
geometry does for planning: no planner-collected data, no critic.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gymnasium as gym
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig


def run(coef: float, updates: int, episodes: int, seed: int) -> dict:
    cfg = AgentConfig().with_overrides(
        {"device": "cpu", "seed": seed, "training.random_steps": 10**9, "world_model.options": {"temporal_coef": coef},
         "task.cost.critic_weight": 0.0}
    )
    make = lambda: gym.make("jepa_agent/Reach2D-v0")  # noqa: E731
    env = make()
    agent = Agent.from_config(cfg, env)
    agent.train([make() for _ in range(8)], 12_000)  # random exploration only
    agent.adapt()
    t0 = time.perf_counter()
    for _ in range(updates):
        agent.update()
    train_s = time.perf_counter() - t0
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--coefs", type=float, nargs="+", default=[0.1, 1.0])
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    torch.set_num_threads(2)
    torch.set_flush_denormal(True)
    rows = []
    for coef in args.coefs:
        rows.append(run(coef, args.updates, args.episodes, args.seed))
        print(json.dumps(rows[-1]))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
