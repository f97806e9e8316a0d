"""Exploration at equal env steps: random-only exploration against the epistemic term.

    python benchmarks/exploration.py --task reach3d --steps 30000 --out runs/exploration

Every variant trains the same agent (the task's config with a 5-head ensemble in the world
model) for ``--steps`` env steps. ``random``: exploration by random actions only, then the
task's planner; ``term``: the collection planner's cost adds ``training.epistemic_weight``
(the ensemble's disagreement, sought), falling to 0 over ``--decay`` of the steps;
``practice``: ``training.practice_goals`` of the planner's episodes pursue a goal at the
frontier (a replayed observation where the ensemble disagrees most); ``epistemic``: both.
Writes ``DIR/results.json``, one record per task and variant:
``task``, ``variant``, ``env_steps``, ``coverage`` (visited
cells of the goal distribution, ``agent.coverage``), ``success_rate`` and
``far_success_rate`` (on the quarter of the held-out goals farthest from the start), and
``DIR/coverage_TASK.png`` (coverage over env steps, and each variant's visited cells seen
from above; a 3-D goal space is drawn as the fraction of each column visited). The variants
run two at a time; ``--reuse`` keeps the variants already in ``DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MUJOCO_GL", "egl")
TASKS = {"reach2d": "configs/reach2d.yaml", "reach3d": "configs/reach3d.yaml", "reach3d_far": "configs/reach3d_far.yaml",
         "pointmaze_large": "configs/pointmaze_large_explore.yaml"}
EPISODES = {"pointmaze_large": 20}  # evaluation episodes (800 steps each there); 50 elsewhere
VARIANTS = ("random", "term", "practice", "epistemic")


def train_variant(
    task: str, variant: str, steps: int, weight: float, decay: float, practice: float, frontier: str, seed: int,
    out: Path,
) -> None:
    """One variant's run, in this process (the parent starts one process per variant)."""
    import torch

    from agent.configs import apply_overrides, load_config
    from agent.run import Run, RunOptions

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    over = {"world_model.ensemble_heads": 5, "seed": seed}
    if variant in ("term", "epistemic"):
        over |= {"training.epistemic_weight": weight, "training.epistemic_decay_steps": int(decay * steps)}
    if variant in ("practice", "epistemic"):
        over |= {"training.practice_goals": practice, "training.practice_frontier": frontier}
    config = apply_overrides(load_config(ROOT / TASKS[task]), over)
    run = Run(config, out, RunOptions(steps=steps, episodes=EPISODES.get(task, 50), videos=0, log=("csv",)))
    try:
        run.train()
        run.evaluate()
        cov = run.agent.coverage
        if cov is not None:  # the visited region, for the figure
            centres = cov.cell_centres()
            (out / "coverage_cells.json").write_text(json.dumps({
                "centres": centres.tolist(), "visits": cov.visits(centres).tolist(), "width": cov.width.tolist(),
                "start": np.asarray(run.eval_env.reset(seed=0)[0]["achieved_goal"]).tolist(),
            }))
    finally:
        run.close()


def draw_region(ax, cells: dict, title: str) -> None:
    """The support's cells seen from above (x, y; a 3-D goal space is projected: a column is
    drawn as the fraction of its cells visited), coloured by whether they were visited."""
    from matplotlib.patches import Rectangle

    centres, visits = np.asarray(cells["centres"]), np.asarray(cells["visits"])
    w = np.asarray(cells["width"][:2])
    columns: dict[tuple, tuple[np.ndarray, list]] = {}
    for c, v in zip(centres[:, :2], visits > 0, strict=True):
        columns.setdefault(tuple(np.floor(c / w).astype(int)), (c, []))[1].append(v)
    for c, vs in columns.values():
        frac = float(np.mean(vs))
        ax.add_patch(Rectangle(tuple(c - w / 2), w[0], w[1], facecolor=(1 - frac, 0.35 + 0.4 * frac, 1 - 0.6 * frac),
                               edgecolor="white", linewidth=0.5))
    start = np.asarray(cells["start"])
    ax.plot(start[0], start[1], "k*", markersize=10)
    ax.set(title=title, aspect="equal")
    ax.autoscale_view()


def far_quarter(task: str, records: list[dict]) -> float:
    """Success on the quarter of the evaluation episodes whose goal is farthest from the start."""
    import gymnasium as gym

    import envs  # noqa: F401
    from agent.configs import load_config

    task_spec = load_config(ROOT / TASKS[task]).task
    env = gym.make(task_spec.env, **task_spec.env_kwargs)
    dist = []
    for r in records:
        obs, _ = env.reset(seed=r["seed"])
        dist.append(float(np.linalg.norm(obs["desired_goal"] - obs["achieved_goal"])))
    order = np.argsort(dist)[-max(1, len(dist) // 4):]
    return float(np.mean([records[i]["success"] for i in order]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", choices=list(TASKS), default="reach3d")
    p.add_argument("--steps", type=int, default=30_000)
    p.add_argument("--out", required=True)
    p.add_argument("--weight", type=float, default=-100.0, help="training.epistemic_weight of the epistemic variant")
    p.add_argument("--decay", type=float, default=0.5, help="fraction of the steps over which the weight falls to 0")
    p.add_argument("--practice", type=float, default=0.5, help="training.practice_goals of the practice variants")
    p.add_argument("--frontier", choices=("disagreement", "sparse"), default="disagreement",
                   help="training.practice_frontier of the practice variants")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=["random", "epistemic"])
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--reuse", action="store_true", help="keep the variants whose run is already in --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--variant", help=argparse.SUPPRESS)  # internal: run one variant in this process
    args = p.parse_args()
    out = Path(args.out).resolve()
    if args.variant:
        train_variant(args.task, args.variant, args.steps, args.weight, args.decay, args.practice, args.frontier,
                      args.seed, out / f"{args.task}_{args.variant}")
        return
    out.mkdir(parents=True, exist_ok=True)
    done = [v for v in args.variants if args.reuse and (out / f"{args.task}_{v}" / "eval.json").is_file()]
    pending, running = [v for v in args.variants if v not in done], []
    while pending or running:
        while pending and len(running) < args.parallel:
            variant = pending.pop(0)
            cmd = [sys.executable, __file__, "--task", args.task, "--steps", str(args.steps), "--out", str(out),
                   "--weight", str(args.weight), "--decay", str(args.decay), "--practice", str(args.practice),
                   "--frontier", args.frontier,
                   "--seed", str(args.seed), "--variant", variant]
            log = open(out / f"{args.task}_{variant}.log", "w")
            running.append((variant, subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log)))
        variant, proc = running.pop(0)
        if proc.wait() != 0:
            raise SystemExit(f"exploration: {variant} failed; see {out / f'{args.task}_{variant}.log'}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = []
    shown = [v for v in VARIANTS if (out / f"{args.task}_{v}" / "coverage_cells.json").is_file()]
    fig, axes = plt.subplots(1, 1 + len(shown), figsize=(6 + 4 * len(shown), 4), squeeze=False)
    ax = axes[0, 0]
    for k, variant in enumerate(shown):
        cells = json.loads((out / f"{args.task}_{variant}" / "coverage_cells.json").read_text())
        draw_region(axes[0, k + 1], cells, f"{variant}: visited cells (green; * start)")
    for variant in args.variants:
        run = out / f"{args.task}_{variant}"
        summary = json.loads((run / "eval.json").read_text())
        history = json.loads((run / "history.json").read_text())
        covered = [(e["env_steps"], e["coverage"]) for e in history["episodes"] if "coverage" in e]
        ax.plot([c[0] for c in covered], [c[1] for c in covered], label=variant)
        records.append({
            "task": args.task, "variant": variant, "env_steps": summary["env_steps"],
            "coverage": covered[-1][1] if covered else None, "success_rate": summary["success_rate"],
            "far_success_rate": far_quarter(args.task, summary["records"]), "seed": args.seed,
            "epistemic_weight": args.weight if variant in ("term", "epistemic") else 0.0,
            "practice_goals": args.practice if variant in ("practice", "epistemic") else 0.0,
        })
        print(f"{args.task} {variant:9s}: coverage {records[-1]['coverage']:.3f}  success {records[-1]['success_rate']:.2f}  "
              f"far-quarter success {records[-1]['far_success_rate']:.2f}")
    for variant in VARIANTS:  # earlier runs of the other variants in the same folder
        history_file = out / f"{args.task}_{variant}" / "history.json"
        if variant not in args.variants and history_file.is_file():
            eps = json.loads(history_file.read_text())["episodes"]
            covered = [(e["env_steps"], e["coverage"]) for e in eps if "coverage" in e]
            ax.plot([c[0] for c in covered], [c[1] for c in covered], label=variant)
    ax.set(xlabel="env steps", ylabel="goal-space coverage", title=f"{args.task}: coverage", ylim=(0, 1))
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / f"coverage_{args.task}.png", dpi=110)
    previous = json.loads((out / "results.json").read_text()) if (out / "results.json").is_file() else []
    keep = [r for r in previous if not (r["task"] == args.task and r.get("seed") == args.seed
                                        and r["variant"] in args.variants)]
    (out / "results.json").write_text(json.dumps(keep + records, indent=2))
    print(f"wrote {out / 'results.json'}, {out / f'coverage_{args.task}.png'}")


if __name__ == "__main__":
    main()
