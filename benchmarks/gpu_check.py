"""The GPU path: the reach loop on CUDA, its latency per action for 1 and 64 envs, updates
per second and peak GPU memory.

    python -m benchmarks.gpu_check --json runs/gpu_check.json

Without CUDA it says so in one line and exits 0. The same config as the CPU runs
(``configs/reach2d.yaml``) with ``device: cuda``: an agent collects random steps, trains
``--updates`` updates at the config's batch (after ``--steps`` random env steps), then acts with the task's planner on 1 and on
64 vector envs (``act_ms_median``: one batched plan for all envs).
"""

from __future__ import annotations

import sys
import time

from benchmarks import common


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__, json_out="optional")
    p.add_argument("--config", default=str(common.ROOT / "configs" / "reach2d.yaml"))
    p.add_argument("--steps", type=int, default=5000, help="random env steps collected before the updates")
    p.add_argument("--updates", type=int, default=300)
    p.add_argument("--episodes", type=int, default=64, help="episodes acted on 64 envs (4 on one)")
    args = p.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here (torch.cuda.is_available() is False); nothing to measure")
        return 0
    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_vector_env
    from jepa_agent.configurator.loading import apply_overrides, load_config

    config = apply_overrides(load_config(args.config), {"device": "cuda"})
    vec = make_vector_env(config, 8)
    agent = Agent.from_config(config, vec)
    agent.collect(vec, args.steps, seed=0)
    agent.adapt()
    torch.cuda.reset_peak_memory_stats()
    for _ in range(20):
        agent.update()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.updates):
        agent.update()
    torch.cuda.synchronize()
    ups = args.updates / (time.perf_counter() - start)
    result = {"device": torch.cuda.get_device_name(), "updates_per_s": ups, "batch_size": config.training.batch_size}
    for B in (1, 64):
        envs = make_vector_env(config, B)
        ev = agent.evaluate(envs, max(B, args.episodes) if B > 1 else 4, seed=1_000_000)
        result[f"act_ms_median_{B}_envs"] = ev["act_ms_median"]
        result[f"env_steps_per_s_{B}_envs"] = B * 1000.0 / ev["act_ms_median"]
        envs.close()
    result["peak_gpu_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
    for k, v in result.items():
        print(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}")
    if args.json:
        common.write_json(args.json, result, device="cuda")
    return 0


if __name__ == "__main__":
    sys.exit(main())
