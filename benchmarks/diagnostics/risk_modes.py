"""When does each risk mode help? A measured example on a task with a rare catastrophe.

    python -m benchmarks.diagnostics.risk_modes --json runs/risk_modes.json

**The task ("windy ledge").** A point at (0, 0) must reach (1, 0) within 40 steps,
moving at most 0.1 per step (the action's norm is capped). The straight route crosses a
ledge, x in [0.3, 0.7] and y < 0.3, where a gust strikes with probability 5% per step and
throws the point 0.5 down, over the cliff (y < -0.2): the episode is lost and the point
stays there. The straight route meets a gust about once in 5 crossings; the route above
the ledge is safe and takes about 6 more steps.

The world model is the task's exact stochastic dynamics, with the gust as its latent
variable: z ~ N(0, 1) per step, a gust when z > 1.64 (so P = 5%): a two-mode future that
the context (state, action) cannot decide. Every planner is CEM (128 samples x 3
iterations, horizon 15) with K = 64 latent samples per candidate (common random numbers);
only ``risk`` changes:

- ``mean`` minimises the expected cost. A fall costs about three detours, but it happens
  in only one crossing of five, so in expectation the straight route wins: ``mean`` takes
  it and loses the episodes a gust strikes.
- ``cvar`` (alpha 1/32: the mean of the worst 2 of 64 samples) scores each route by its
  bad outcomes, sees the fall, and goes around: slower, and no falls.
- ``optimistic`` (the best sample) ignores every gust; it plans as if the world were
  always kind -- the mode for exploration, or for a latent that only ever helps, never
  for safety.

Prints a table and writes ``--json`` with, per mode: success rate, fall rate, mean steps
to the goal for the successful episodes, mean and worst-10% episode cost, and ms per action.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from benchmarks import common
from jepa_agent.actor import CEM, CEMConfig, PlanProblem
from jepa_agent.world_model import WorldModel

GOAL = (1.0, 0.0)
SPEED = 0.1  # max distance per step
LEDGE_X, LEDGE_Y = (0.3, 0.7), 0.3  # the windy stretch: x in LEDGE_X and y < LEDGE_Y
GUST_P, GUST = 0.05, 0.5
CLIFF_Y = -0.2
FALL_COST = 0.5  # per step spent below the cliff, on top of the distance a fall leaves
Z_GUST = float(torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(1.0 - GUST_P)))


def on_ledge(s: torch.Tensor) -> torch.Tensor:
    """Whether states are on the windy stretch. Shapes: (..., 3) -> (...,) bool."""
    x, y = s[..., 0], s[..., 1]
    return (x >= LEDGE_X[0]) & (x <= LEDGE_X[1]) & (y < LEDGE_Y)


class WindyLedge(WorldModel):
    """Exact stochastic dynamics of the task; z (standard normal) is the gust noise.

    State (x, y, fallen). ``s' = s + 0.1 a / max(1, |a|)`` unless fallen; on the ledge a
    gust (z > Z_GUST) subtracts 0.5 from y; below the cliff the state is absorbing.
    """

    latent_dim, action_dim, latent_var_dim = 3, 2, 1

    def step(self, s: torch.Tensor, a: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        x, y, fallen = s.unbind(-1)
        move = SPEED * a / a.norm(dim=-1, keepdim=True).clamp_min(1.0)  # (B, 2)
        gust = torch.zeros_like(y) if z is None else GUST * (on_ledge(s) & (z[..., 0] > Z_GUST)).to(y.dtype)
        alive = 1.0 - fallen
        nx = x + alive * move[..., 0]
        ny = y + alive * (move[..., 1] - gust)
        nfallen = torch.maximum(fallen, (ny < CLIFF_Y).to(y.dtype))
        return torch.stack([nx, ny, nfallen], dim=-1)


def cost(states: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
    """Distance to the goal every step, plus FALL_COST per step spent fallen.

    Shapes: states (..., H, 3), goal (..., 3) broadcast -> (...,).
    """
    dist = (states[..., :2] - goal[..., None, :2]).norm(dim=-1)  # (..., H)
    return (dist + FALL_COST * states[..., 2]).sum(-1)


def run_episode(planner: CEM, seed: int, horizon: int = 15, steps: int = 40) -> dict[str, float]:
    """One closed-loop episode; the gusts are the world's own draws from ``seed``."""
    model = WindyLedge()
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    s = torch.zeros(1, 3)
    goal = torch.tensor([[*GOAL, 0.0]])
    warm, total, times, reached, ledge_steps = None, 0.0, [], None, 0
    for t in range(steps):
        problem = PlanProblem(
            s0=s, goal=goal, horizon=horizon, action_low=-torch.ones(2), action_high=torch.ones(2),
            world_model=model, cost=cost, generator=gen, warm_start=warm,
        )
        t0 = time.perf_counter()
        result = planner.plan(problem)
        times.append((time.perf_counter() - t0) * 1e3)
        a = result.actions[:, 0]  # (1, A)
        warm = torch.cat([result.actions[:, 1:], result.actions[:, -1:]], dim=1)  # shifted plan
        ledge_steps += int(on_ledge(s)[0])
        z = torch.tensor([[rng.standard_normal()]], dtype=torch.float32)  # the world's own draw
        s = model.step(s, a, z)
        step_cost = float(cost(s[:, None], a[:, None], goal)[0])
        total += step_cost
        if float((s[0, :2] - goal[0, :2]).norm()) < 0.05:  # reached: it would stay, at ~0 cost
            reached = t + 1
            break
        if s[0, 2] > 0.5:  # fell: absorbing, every remaining step costs the same
            total += step_cost * (steps - t - 1)
            break
    fell = bool(s[0, 2] > 0.5)
    return {
        "success": float(reached is not None and not fell),
        "fell": float(fell),
        "steps_to_goal": float(reached) if reached is not None and not fell else math.nan,
        "cost": total,
        "ledge_steps": float(ledge_steps),
        "act_ms": float(np.median(times)),
    }


def main(argv: list[str] | None = None) -> dict:
    p = common.parser(__doc__, full=True, json_out="optional", threads=1)
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--horizon", type=int, default=15)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--latent-samples", type=int, default=64)
    p.add_argument("--cvar-alpha", type=float, default=0.03125)
    args = p.parse_args(argv)
    common.setup(args.threads)

    from rich.console import Console
    from rich.table import Table

    results = {}
    for risk in ("mean", "cvar", "optimistic"):
        planner = CEM(CEMConfig(
            samples=128, iterations=3, latent_samples=args.latent_samples, risk=risk, cvar_alpha=args.cvar_alpha,
        ))
        eps = [run_episode(planner, seed, args.horizon, args.steps) for seed in range(args.episodes)]
        costs = np.sort([e["cost"] for e in eps])[::-1]
        worst = costs[: max(1, len(costs) // 10)]
        results[risk] = {
            "success_rate": float(np.mean([e["success"] for e in eps])),
            "fall_rate": float(np.mean([e["fell"] for e in eps])),
            "steps_to_goal": float(np.nanmean([e["steps_to_goal"] for e in eps])),
            "ledge_steps": float(np.mean([e["ledge_steps"] for e in eps])),
            "mean_cost": float(np.mean(costs)),
            "worst10_cost": float(np.mean(worst)),
            "act_ms_median": float(np.median([e["act_ms"] for e in eps])),
            "episodes": args.episodes,
        }
    table = Table(title=f"windy ledge: {args.episodes} episodes, CEM 128x3, K={args.latent_samples}")
    for col in ("risk", "success", "falls", "steps on ledge", "steps to goal", "mean cost", "worst-10% cost", "act ms"):
        table.add_column(col, justify="left" if col == "risk" else "right")
    for risk, r in results.items():
        table.add_row(
            risk, f"{r['success_rate']:.2f}", f"{r['fall_rate']:.2f}", f"{r['ledge_steps']:.1f}", f"{r['steps_to_goal']:.1f}",
            f"{r['mean_cost']:.1f}", f"{r['worst10_cost']:.1f}", f"{r['act_ms_median']:.1f}",
        )
    Console().print(table)
    if args.json:
        common.write_json(args.json, {"config": vars(args), "results": results})
    return results


if __name__ == "__main__":
    main()
