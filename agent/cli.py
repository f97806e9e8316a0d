"""The ``jepa-agent`` command line (an edge of the library: it may print)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml


def _budget(text: str) -> dict:
    """``"samples=256,iterations=3"`` -> ``{"samples": 256, "iterations": 3}``."""
    out = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"a budget is KEY=VALUE[,KEY=VALUE...], got {text!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def bench_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or argparse.ArgumentParser(prog="jepa-agent bench")
    p.description = "Planners x envs x model (oracle or a checkpoint) x budget x seeds, closed loop."
    p.add_argument("--planners", nargs="+", default=["cem", "mppi"], help="registered names or import paths")
    p.add_argument("--envs", nargs="+", default=["jepa_agent/Reach2D-v0"])
    p.add_argument("--models", nargs="+", default=["oracle"], help="'oracle' and/or checkpoint paths")
    p.add_argument(
        "--budgets", nargs="+", type=_budget, default=[{}],
        help="planner/actor options per budget, e.g. samples=128,iterations=2,horizon=15 or deadline_s=0.02",
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--episodes", type=int, default=10, help="episodes per seed")
    p.add_argument("--out", default="runs/bench")
    p.add_argument("--threads", type=int, default=2)
    return p


def run_bench(args: argparse.Namespace) -> int:
    import torch
    from rich.console import Console
    from rich.table import Table

    from agent.bench import benchmark, write_results

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    console = Console()
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

    records = benchmark(args.planners, args.envs, args.models, args.budgets, args.seeds, args.episodes, on_record=on_record)
    out = Path(args.out)
    write_results(records, out)
    console.print(table)
    console.print(f"wrote {out / 'results.json'}, {out / 'results.csv'}, {out / 'pareto.png'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jepa-agent", description="jepa-agent command line")
    sub = parser.add_subparsers(dest="command", required=True)
    bench_parser(sub.add_parser("bench", help="benchmark planners closed-loop"))
    args = parser.parse_args(argv)
    if args.command == "bench":
        return run_bench(args)
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
