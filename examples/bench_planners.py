"""Benchmark planners closed-loop, on the true simulator and/or a learned model.

    python examples/bench_planners.py --planners cem mppi --envs jepa_agent/Reach2D-v0 \\
        --models oracle runs/reach/checkpoint.safetensors --budgets samples=128,iterations=2 samples=256 \\
        --seeds 0 1 --episodes 10 --out runs/bench

Same as ``jepa-agent bench``. Writes results.json, results.csv and pareto.png to --out.
"""

import sys

from jepa_agent.agent.app.bench import run_bench
from jepa_agent.agent.app.cli import bench_parser

if __name__ == "__main__":
    sys.exit(run_bench(bench_parser().parse_args()))
