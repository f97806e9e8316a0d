"""Offline, zero-shot: random exploration written as a Minari dataset, pretrained with no env
step, evaluated on 50 held-out goals.

    python -m benchmarks.offline --out runs/offline                      # Reach2D 20k, Reach3D 30k, seed 0
    python -m benchmarks.offline --out runs/offline --seeds 0 1 --repeats 5 20

Each cell runs the two commands a user would:

    jepa-agent collect --config configs/reach2d.yaml --steps 20000 --format minari \\
        --training.exploration.random_repeat=20 --seed S --out DIR/datasets --dataset-id ...
    jepa-agent pretrain --dataset DIR/datasets/... --config configs/reach2d.yaml --steps 6000 --seed S

and reads ``pretrain.json``. Writes ``DIR/results.json`` (one record per env, action
repeat and seed: ``success_rate``, ``success_rate_any``, ``mean_final_distance``,
``updates``, ``pretrain_wall_s``, ``dataset_steps``). The cells run two at a time (one per
core).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks import common
from benchmarks.common import ROOT

STEPS = {"reach2d": 20_000, "reach3d": 30_000}
"""The random env steps of each task's dataset."""


def cell(task: str, repeat: int, seed: int, updates: int, episodes: int, out: Path,
         steps: int | None = None) -> list[str]:
    """The shell commands of one cell (collect ``steps``, by default the task's, then pretrain)."""
    config, steps = common.TASKS[task], steps or STEPS[task]
    dataset_id = f"jepa_agent/{task}-random{repeat}-s{seed}-v0"
    run = out / f"{task}_r{repeat}_s{seed}"
    return [
        f"{sys.executable} -m jepa_agent collect --config {config} --steps {steps} --format minari "
        f"--training.exploration.random_repeat={repeat} --seed {seed} --out {out / 'datasets'} "
        f"--dataset-id {dataset_id} --overwrite",
        f"{sys.executable} -m jepa_agent pretrain --dataset {out / 'datasets' / dataset_id} --config {config} "
        f"--steps {updates} --episodes {episodes} --seed {seed} --out {run}",
    ]


def main(argv: list[str] | None = None) -> list[dict]:
    p = common.parser(__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--tasks", nargs="+", default=list(STEPS), choices=list(STEPS))
    p.add_argument("--repeats", type=int, nargs="+", default=[20], help="random actions held this many steps")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--updates", type=int, default=6000)
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--steps", type=int, help="dataset env steps of every task (default: 20k Reach2D, 30k Reach3D)")
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cells = [(t, r, s) for t in args.tasks for r in args.repeats for s in args.seeds]
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    running: list[tuple[tuple, subprocess.Popen]] = []
    pending = list(cells)
    while pending or running:
        while pending and len(running) < args.parallel:
            c = pending.pop(0)
            script = " && ".join(cell(*c, args.updates, args.episodes, out, args.steps))
            log = open(out / f"{c[0]}_r{c[1]}_s{c[2]}.log", "w")
            running.append((c, subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env, stdout=log, stderr=log)))
        c, proc = running.pop(0)
        if proc.wait() != 0:
            raise SystemExit(f"offline: {c} failed; see {out / f'{c[0]}_r{c[1]}_s{c[2]}.log'}")
        print(f"done: {c}", flush=True)
    records = []
    for task, repeat, seed in cells:
        d = json.loads((out / f"{task}_r{repeat}_s{seed}" / "pretrain.json").read_text())
        records.append({
            "task": task, "random_action_repeat": repeat, "seed": seed, "dataset_steps": d["steps"],
            "updates": d["updates"], "pretrain_wall_s": d["wall_s"], "success_rate": d.get("success_rate"),
            "success_rate_any": d.get("success_rate_any"), "mean_final_distance": d.get("mean_final_distance"),
            "episodes": len(d.get("records", [])),
        })
        print(f"{task:8s} repeat {repeat:3d} seed {seed}: success {d.get('success_rate')}  "
              f"({d['steps']} steps, {d['updates']} updates)")
    common.write_json(out / "results.json", records)
    print(f"wrote {out / 'results.json'}")
    return records


if __name__ == "__main__":
    main()
