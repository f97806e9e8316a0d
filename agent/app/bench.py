"""Like-for-like planner benchmark: planners x envs x model x budget x seeds.

The same planner code runs on the true simulator (``model="oracle"``: envs' batched
MuJoCo rollouts behind :class:`world_model.SimulatorWorldModel`) and on a learned model
(``model=<checkpoint path>``: the agent's JEPA world model, cost and critic). Every record
is measured closed-loop on the env with the planner's own budget.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from jepa_agent.actor import Actor, ActorConfig
from jepa_agent.agent.app.console import _console, prepare_process
from jepa_agent.agent.provenance import provenance
from jepa_agent.configurator import ModuleSpec, TaskSpec
from jepa_agent.configurator.builtins import PLANNERS
from jepa_agent.configurator.registry import config_class_of, validate_options


@dataclass
class BenchRecord:
    """One (planner, env, model, budget) cell, aggregated over seeds and episodes."""

    planner: str
    env: str
    model: str
    budget: dict[str, Any]
    success_rate: float
    mean_return: float
    mean_final_distance: float
    act_ms_median: float
    episodes: int
    iterations_mean: float = float("nan")
    seeds: list[int] = field(default_factory=list)


def _budget_label(budget: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(budget.items())) or "default"


def _planner_options(name: str, budget: dict[str, Any]) -> dict[str, Any]:
    """Keep the budget keys the planner's config knows (horizon and deadline belong to the actor)."""
    fields = config_class_of(PLANNERS.resolve(name)).model_fields
    return {k: v for k, v in budget.items() if k in fields}


def _actor_options(budget: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"policy_proposals": False}
    if "horizon" in budget:
        out["horizon"] = budget["horizon"]
    if "deadline_s" in budget:
        out["deadline_s"] = budget["deadline_s"]
    return out


def run_oracle(
    env_id: str, planner: str, budget: dict[str, Any], seed: int, episodes: int, *, nthread: int = 2
) -> list[dict[str, Any]]:
    """Episodes with the true dynamics as the model and the achieved-goal distance as cost:
    an :class:`actor.Actor` (no agent) in the library's one episode loop
    (``agent.loops.evaluate``, through a ``PolicyController``), timing every decision and
    counting planner iterations in its per-step hook."""
    from jepa_agent import envs  # noqa: F401  (registers the reach envs)
    from jepa_agent.agent.loops import PolicyController, evaluate
    from jepa_agent.cost import ActionEffort, Cost, ProbeGoalDistance
    from jepa_agent.envs import OracleDynamics
    from jepa_agent.world_model import SimulatorWorldModel

    env = gym.make(env_id)
    oracle = OracleDynamics.from_env(env, nthread=nthread)
    # float32 planning state: rounding the physics state costs nothing a planner can notice
    model = SimulatorWorldModel(oracle, state_dim=oracle.state_dim, action_dim=oracle.action_dim, dtype=torch.float32)
    feat = oracle.feature_slice
    cost = Cost([(ProbeGoalDistance(lambda s: s[..., feat]), 1.0), (ActionEffort(), 0.01)], gamma=1.0)
    cls = PLANNERS.resolve(planner)
    plan_cfg = validate_options(config_class_of(cls), _planner_options(planner, budget), f"planner '{planner}'")
    low = torch.as_tensor(env.action_space.low, dtype=torch.float32)
    high = torch.as_tensor(env.action_space.high, dtype=torch.float32)
    actor = Actor(
        ActorConfig(**_actor_options(budget)), planner=cls(plan_cfg), world_model=model, cost=cost,
        action_low=low, action_high=high,
    )
    generator = torch.Generator().manual_seed(seed)
    goal: list[torch.Tensor] = []

    def on_reset(_rows: Any) -> None:  # a new episode: no warm start, its goal's physics state
        actor.reset()
        goal[:] = [torch.as_tensor(oracle.goal_state(env), dtype=torch.float32)[None]]

    def policy(_obs: Any) -> np.ndarray:  # the planner reads the simulator's state, not the observation
        s = torch.as_tensor(oracle.current_state(env), dtype=torch.float32)[None]  # (1, S)
        return actor.act(s, goal[0], generator=generator).numpy()  # (1, A)

    steps, on_step = _decision_log(lambda _agent: actor.last_result)
    result = evaluate(PolicyController(policy, on_reset=on_reset), env, episodes, seed=seed * 1000, on_step=on_step)
    env.close()
    return _episodes(result, steps)


def run_learned(
    env_id: str, planner: str, budget: dict[str, Any], seed: int, episodes: int, *, checkpoint: str
) -> list[dict[str, Any]]:
    """Episodes with a trained agent's world model, cost and critic, and the given planner:
    the library's one episode loop (``agent.loops.evaluate``), timing every decision and
    counting planner iterations in its per-step hook."""
    from jepa_agent import envs  # noqa: F401
    from jepa_agent.agent.agent import Agent
    from jepa_agent.agent.loops import evaluate

    agent = Agent.load(checkpoint, device="cpu")
    task = agent.task.model_copy(
        update={
            "planner": ModuleSpec(name=planner, options=_planner_options(planner, budget)),
            "actor": agent.task.actor.model_copy(update=_actor_options(budget) | {"policy_proposals": True}),
        }
    )
    task = TaskSpec.model_validate(task.model_dump())
    agent.generator.manual_seed(seed)
    env = gym.make(env_id)
    steps, on_step = _decision_log(lambda agent: agent.actor.last_result)
    result = evaluate(agent, env, episodes, seed=seed * 1000, task=task, on_step=on_step)
    env.close()
    return _episodes(result, steps)


def _decision_log(
    last_result: Callable[[Any], Any],
) -> tuple[dict[int, dict[str, list[float]]], Callable[[Any, Any], None]]:
    """A per-step hook for ``evaluate`` (one env) keeping each episode's act times and the
    planner's iterations (``last_result(agent)``: the plan just made), and what it keeps."""
    steps: dict[int, dict[str, list[float]]] = {}

    def on_step(agent: Any, view: Any) -> None:
        ep = steps.setdefault(view.episodes[0], {"act_ms": [], "iterations": []})
        ep["act_ms"].append(view.act_ms)
        result = last_result(agent)
        ep["iterations"].append(result.iterations if result is not None else 0)

    return steps, on_step


def _episodes(result: dict[str, Any], steps: dict[int, dict[str, list[float]]]) -> list[dict[str, Any]]:
    """One record per episode of ``evaluate``'s result, with its decisions' times and iterations."""
    return [{"success": r["success_final"], "final_distance": r["final_distance"], "return": r["return"],
             "act_ms": steps[i]["act_ms"], "iterations": float(np.mean(steps[i]["iterations"]))}
            for i, r in enumerate(result["records"])]


def benchmark(
    planners: Sequence[str],
    env_ids: Sequence[str],
    models: Sequence[str],
    budgets: Sequence[dict[str, Any]],
    seeds: Sequence[int],
    episodes: int,
    *,
    on_record: Callable[[BenchRecord], None] | None = None,
) -> list[BenchRecord]:
    """Run the grid; one :class:`BenchRecord` per (planner, env, model, budget)."""
    records = []
    for env_id in env_ids:
        for model in models:
            for planner in planners:
                for budget in budgets:
                    eps: list[dict[str, Any]] = []
                    for seed in seeds:
                        if model == "oracle":
                            eps += run_oracle(env_id, planner, budget, seed, episodes)
                        else:
                            eps += run_learned(env_id, planner, budget, seed, episodes, checkpoint=model)
                    rec = BenchRecord(
                        planner=planner, env=env_id, model=model, budget=dict(budget),
                        success_rate=float(np.mean([e["success"] for e in eps])),
                        mean_return=float(np.mean([e["return"] for e in eps])),
                        mean_final_distance=float(np.mean([e["final_distance"] for e in eps])),
                        act_ms_median=float(np.median(np.concatenate([e["act_ms"] for e in eps]))),
                        episodes=len(eps),
                        iterations_mean=float(np.mean([e["iterations"] for e in eps])),
                        seeds=list(seeds),
                    )
                    records.append(rec)
                    if on_record is not None:
                        on_record(rec)
    return records


def write_results(records: Sequence[BenchRecord], out: Path) -> None:
    """results.json, results.csv, pareto.png (success vs ms per action) and provenance.json
    (what code and software measured them; the benchmark runs on the CPU) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [asdict(r) for r in records]
    (out / "results.json").write_text(json.dumps(rows, indent=2))
    (out / "provenance.json").write_text(json.dumps(provenance("cpu"), indent=2))
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["planner"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "budget": _budget_label(row["budget"]), "seeds": " ".join(map(str, row["seeds"]))})
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, planner in enumerate(sorted({r.planner for r in records})):
        for model in sorted({r.model for r in records}):
            pts = sorted((r.act_ms_median, r.success_rate) for r in records if r.planner == planner and r.model == model)
            if pts:
                label = planner if model == "oracle" else f"{planner} ({Path(model).stem})"
                ax.plot(*np.array(pts).T, marker="o", color=f"C{i}", ls="-" if model == "oracle" else "--", label=label)
    ax.set(xlabel="ms per action (median)", ylabel="success rate", ylim=(-0.02, 1.02), xscale="log",
           title="planners: success vs time per action")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=110)
    plt.close(fig)


def run_bench(args: argparse.Namespace) -> int:
    """``jepa-agent bench``: the grid of :func:`benchmark` from a BenchConfig and the flags,
    progress lines and a results table, then :func:`write_results`."""
    from rich.table import Table

    from jepa_agent.agent.app.bench_config import BenchConfig
    from jepa_agent.configurator.loading import load_config, validate_config

    grid = load_config(args.config, model=BenchConfig) if getattr(args, "config", None) else BenchConfig()
    given = {k: getattr(args, k, None) for k in BenchConfig.model_fields}
    grid = validate_config(grid.model_dump() | {k: v for k, v in given.items() if v is not None},
                           source="bench flags", model=BenchConfig)
    prepare_process(args.threads)
    console = _console()
    table = Table(title="planner benchmark")
    for col in ("planner", "env", "model", "budget", "success", "final dist", "act ms", "iters"):
        table.add_column(col, justify="right" if col in ("success", "final dist", "act ms", "iters") else "left")

    def on_record(r) -> None:
        console.print(
            f"{r.planner:9s} {r.env:24s} {Path(r.model).name:12s} {r.budget}  success {r.success_rate:.2f}  "
            f"{r.act_ms_median:.1f} ms"
        )
        table.add_row(
            r.planner, r.env, Path(r.model).name, ",".join(f"{k}={v}" for k, v in r.budget.items()) or "default",
            f"{r.success_rate:.2f}", f"{r.mean_final_distance:.4f}", f"{r.act_ms_median:.1f}", f"{r.iterations_mean:.1f}",
        )

    records = benchmark(grid.planners, grid.envs, grid.models, grid.budgets, grid.seeds, grid.episodes,
                        on_record=on_record)
    out = Path(grid.out)
    write_results(records, out)
    console.print(table)
    console.print(f"wrote {out / 'results.json'}, {out / 'results.csv'}, {out / 'pareto.png'}, {out / 'provenance.json'}")
    return 0
