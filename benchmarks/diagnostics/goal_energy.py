"""Which goal energy plans better on a goal env without a goal observation?

    python -m benchmarks.diagnostics.goal_energy runs/final_maze_ours/ours_seed0.pt --episodes 50 --json runs/goal_energy.json

A goal env such as ``PointMaze_UMaze-v3`` gives its goal as ``desired_goal``, a position,
and no observation of being there. The goal energy can then be measured in two places:

- **latent** (``task.cost.goal_space: latent``): ``||s_t - E_g(g)||``, the distance in latent space from each
  predicted state to the goal encoder's latent of the desired goal
  (``perception/goal.py``, trained to map an achieved goal to the latent of being there);
- **probe** (``task.cost.goal_space``'s ``auto`` choice for these envs): ``||P(s_t) -
  P(E_g(g))||``, the distance in the env's own units between the probe's readouts
  (``cost/probe.py``, trained to read the achieved goal out of a latent) of each predicted
  state and of the goal latent. ``P(E_g(g))`` is the desired goal read back; its error
  against ``g`` (the round trip) is reported.

Both are evaluated on the same checkpoint and the same held-out episodes, each with and
without the critic beyond the horizon. The critic learnt the value of the cost it was
trained with (the latent energy, unless the checkpoint was trained with the probe), so the
variants without it compare the two energies alone. The probe's weight makes its mean
over random pairs of visited states equal the latent energy's (``--probe-weight`` to set it):
the two then trade off against the effort, smoothness and critic terms alike.

Prints a table and writes ``--json``: per variant the success rate at the final step and at
any step, the mean return and final distance, and ms per action; and the scale match and
round-trip errors. The ms per action are for all ``--num-envs`` envs' batched plan.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch

from benchmarks import common
from benchmarks.common import spearman
from jepa_agent.configurator.loading import apply_overrides

VARIANTS = {  # name -> cost overrides (None: the probe weight); without "+critic": critic_weight 0
    "latent+critic": {"cost.goal_space": "latent", "cost.goal_weight": 1.0, "cost.probe_weight": 0.0},
    "probe+critic": {"cost.goal_space": "probe", "cost.goal_weight": None, "cost.probe_weight": 0.0},
    "latent": {"cost.goal_space": "latent", "cost.goal_weight": 1.0, "cost.probe_weight": 0.0, "cost.critic_weight": 0.0},
    "probe": {"cost.goal_space": "probe", "cost.goal_weight": None, "cost.probe_weight": 0.0, "cost.critic_weight": 0.0},
}


def visited_observations(agent: Any, env: Any, steps: int, seed: int) -> dict[str, np.ndarray]:
    """Observations of random-action episodes (states the agent can be in)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, np.ndarray]] = []
    obs, _ = env.reset(seed=seed)
    for t in range(steps):
        rows.append(agent._adapt(obs))
        obs, _, terminated, truncated, _ = env.step(rng.uniform(env.action_space.low, env.action_space.high))
        if terminated or truncated:
            obs, _ = env.reset(seed=seed + t + 1)
    return {k: np.stack([r[k] for r in rows]) for k in rows[0]}


@torch.no_grad()
def scale_match(agent: Any, obs: dict[str, np.ndarray], seed: int) -> dict[str, float]:
    """Mean latent and probe energies from visited states to the goal of another visited
    state, their ratio (the probe weight that equates them), and the readout errors."""
    if agent.probe is None or agent.goal_encoder is None:
        raise SystemExit("benchmarks.diagnostics.goal_energy needs a checkpoint with a probe and a goal encoder "
                         f"(probe: {agent.probe is not None}, goal encoder: {agent.goal_encoder is not None})")
    tensors = agent._tensors(obs)
    states = agent.world_model.encode_target(tensors)
    achieved = tensors["achieved_goal"].float()
    perm = torch.as_tensor(np.random.default_rng(seed).permutation(len(achieved)), device=achieved.device)
    goal_latent = agent.goal_encoder(achieved[perm])
    read = agent.probe(states)  # (N, G)
    latent = (states - goal_latent).norm(dim=-1)
    probe = (read - agent.probe(goal_latent)).norm(dim=-1)
    return {
        "pairs": len(achieved),
        "latent_energy_mean": float(latent.mean()),
        "probe_energy_mean": float(probe.mean()),
        "probe_weight_matched": float(latent.mean() / probe.mean().clamp_min(1e-8)),
        "energy_rank_correlation": spearman(latent.cpu().numpy(), probe.cpu().numpy()),
        "probe_rmse": float((read - achieved).pow(2).sum(-1).mean().sqrt()),
        "round_trip_rmse": float((agent.probe(agent.goal_encoder(achieved)) - achieved).pow(2).sum(-1).mean().sqrt()),
    }


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__, json_out="optional", threads=1)
    p.add_argument("checkpoint", help="a checkpoint of a goal env without a goal observation")
    p.add_argument("--episodes", type=int, default=50, help="held-out episodes per variant (default 50)")
    p.add_argument("--seed", type=int, default=0, help="episode i resets with 1_000_000 + seed + i")
    p.add_argument("--probe-weight", type=float, default=None, help="default: matched to the latent energy's scale")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated subset of: {', '.join(VARIANTS)}")
    p.add_argument("--num-envs", type=int, default=10, help="envs evaluated at once, one batched plan per step (default 10)")
    args = p.parse_args(argv)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    common.setup(args.threads)

    from rich.console import Console
    from rich.table import Table

    from jepa_agent.agent.agent import Agent
    from jepa_agent.agent.app.run import EVAL_SEED, make_env

    agent = Agent.load(args.checkpoint)
    envs = [make_env(agent.config) for _ in range(max(1, args.num_envs))]
    env = envs[0]
    if agent.goal_kind != "desired_goal":
        raise SystemExit(f"benchmarks.diagnostics.goal_energy compares energies on goal envs given by desired_goal; "
                         f"{agent.config.task.env} is a {agent.goal_kind!r} task")
    scale = scale_match(agent, visited_observations(agent, env, 3000, args.seed), args.seed)
    weight = args.probe_weight if args.probe_weight is not None else scale["probe_weight_matched"]
    results: dict[str, Any] = {"checkpoint": args.checkpoint, "env": agent.config.task.env, "env_steps": agent.env_steps,
                               "episodes": args.episodes, "probe_weight": weight, "scale": scale, "variants": {}}
    console = Console()
    console.print(f"{agent.config.task.env}, {agent.env_steps} env steps: probe weight {weight:.3g}; "
                  f"probe rmse {scale['probe_rmse']:.3f}, round trip rmse {scale['round_trip_rmse']:.3f}, "
                  f"rank correlation of the energies {scale['energy_rank_correlation']:.2f}")
    for name in names:
        overrides = {k: (weight if v is None else v) for k, v in VARIANTS[name].items()}
        agent.reset(apply_overrides(agent.config, overrides).task)
        r = agent.evaluate(envs if len(envs) > 1 else env, args.episodes, seed=EVAL_SEED + args.seed)
        results["variants"][name] = {
            "overrides": overrides,
            **{k: float(r[k]) for k in ("success_rate_final", "success_rate_any", "mean_return",
                                        "mean_final_distance", "act_ms_median")},
        }
        console.print(f"  {name}: success {r['success_rate_final']:.2f} (any step {r['success_rate_any']:.2f}), "
                      f"return {r['mean_return']:.1f}")
    table = Table(title=f"goal energy on {agent.config.task.env}, {args.episodes} episodes")
    for col in ("variant", "success (final)", "success (any)", "return", "final distance", "act ms"):
        table.add_column(col)
    for name, v in results["variants"].items():
        table.add_row(name, f"{v['success_rate_final']:.2f}", f"{v['success_rate_any']:.2f}", f"{v['mean_return']:.1f}",
                      f"{v['mean_final_distance']:.3f}", f"{v['act_ms_median']:.1f}")
    console.print(table)
    if args.json:
        common.write_json(args.json, results, device=str(agent.device))
        console.print(f"wrote {args.json}")
    for e in envs:
        e.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
