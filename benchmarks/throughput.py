"""Throughput: env steps per second while acting with B vector envs, and world-model updates
per second on 1 and 2 torchrun processes.

    python -m benchmarks.throughput --json runs/throughput.json
    python -m benchmarks.throughput --json runs/throughput.json --envs 1 4 16 64 --seconds 20

Acting: ``jepa-agent``'s collection loop with the task's planner (mode 2, its default
budget: CEM 256 samples x 3 iterations, horizon 12) on ``make_vector_env`` (Gymnasium's
``SyncVectorEnv``), one batched plan per step for all B envs, an untrained agent (the
weights do not change the cost). Updates: ``jepa-agent pretrain`` on a Minari dataset of
random Reach2D steps at the config's batch (256 windows of 6 steps), one process and
``torchrun --nproc_per_node=2`` (gloo), each process with one torch thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import common
from benchmarks.common import ROOT


def acting(config_path: str, counts: list[int], seconds: float, device: str, budget: str = "task") -> dict[str, float]:
    """env steps per second while acting, per env count."""
    import torch

    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_vector_env
    from jepa_agent.configurator.loading import apply_overrides, load_config

    config = apply_overrides(load_config(config_path), {"device": device})
    if budget == "collect":  # act with the planner training collects with (its smaller budget)
        config = config.model_copy(update={"task": config.task.model_copy(update={"planner": config.training.exploration.planner})})
    out = {}
    for B in counts:
        vec = make_vector_env(config, B)
        agent = Agent.from_config(config, vec)
        agent.collect(vec, B * 3, policy="plan", seed=0)  # warm up: first plans, allocations
        if agent.device.type == "cuda":
            torch.cuda.synchronize()
        start, steps = time.perf_counter(), agent.env_steps
        while time.perf_counter() - start < seconds:
            agent.collect(vec, B * 5, policy="plan")
        if agent.device.type == "cuda":
            torch.cuda.synchronize()
        out[str(B)] = (agent.env_steps - steps) / (time.perf_counter() - start)
        print(f"  {B:3d} envs: {out[str(B)]:7.1f} env steps/s", flush=True)
        vec.close()
    return out


def updates(config_path: str, steps: int, folder: Path) -> dict[str, float]:
    """world-model updates per second at the config's batch, 1 and 2 processes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MUJOCO_GL": "egl"}
    data = folder / "data"
    subprocess.run([sys.executable, "-m", "jepa_agent.agent.app.cli", "collect", "--config", config_path, "--steps", "5000",
                    "--format", "minari", "--out", str(data), "--overwrite"], check=True, env=env, cwd=ROOT,
                   capture_output=True)
    dataset = next(data.glob("*/*"))
    out = {}
    for procs in (1, 2):
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}"] if procs > 1 else [sys.executable]
        run = folder / f"p{procs}"
        subprocess.run([*launcher, "-m", "jepa_agent.agent.app.cli", "pretrain", "--dataset", str(dataset), "--config", config_path,
                        "--steps", str(steps), "--episodes", "0", "--out", str(run)],
                       check=True, env=env, cwd=ROOT, capture_output=True)
        out[str(procs)] = json.loads((run / "pretrain.json").read_text())["updates_per_s"]
        print(f"  {procs} process(es): {out[str(procs)]:6.1f} updates/s", flush=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    p = common.parser(__doc__, json_out="required", threads=1)
    p.add_argument("--config", default=str(ROOT / "configs" / "reach2d.yaml"))
    p.add_argument("--envs", type=int, nargs="+", default=[1, 4, 16, 64])
    p.add_argument("--seconds", type=float, default=15.0, help="acting time per env count")
    p.add_argument("--updates", type=int, default=300, help="updates per process count")
    p.add_argument("--device", default="cpu")
    p.add_argument("--budget", choices=("task", "collect"), default="task",
                   help="act with the task's planner (default) or training.exploration.planner (what training acts with)")
    p.add_argument("--no-updates", action="store_true", help="measure acting only")
    args = p.parse_args(argv)
    common.setup(args.threads, flush_denormal=True)
    print(f"acting ({args.config}, {args.seconds:.0f} s per count, {args.threads} torch thread(s)):")
    eps = acting(args.config, args.envs, args.seconds, args.device, args.budget)
    ups: dict[str, float] = {}
    if not args.no_updates:
        print("updates:")
        with tempfile.TemporaryDirectory() as tmp:
            ups = updates(args.config, args.updates, Path(tmp))
    result = {
        "env_steps_per_s": eps,
        "speedup_16_vs_1": eps["16"] / eps["1"] if "16" in eps and "1" in eps else None,
        "speedup_64_vs_1": eps["64"] / eps["1"] if "64" in eps and "1" in eps else None,
        "updates_per_s": ups,
        "torchrun_speed_ratio": ups["2"] / ups["1"] if ups else None,
        "budget": args.budget,
        "config": args.config,
        "device": args.device,
        "threads": args.threads,
    }
    common.write_json(args.json, result, device=args.device)  # its provenance: the machine, the versions
    s16 = result["speedup_16_vs_1"]
    if s16 is not None:
        print(f"16 envs / 1 env: {s16:.2f}x (target >= 2x): {'met' if s16 >= 2 else 'NOT met'}")
    if ups:
        print(f"2 processes / 1: {result['torchrun_speed_ratio']:.2f}x updates/s")
    print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
