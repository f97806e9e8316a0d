"""Our MPPI vs pytorch_mppi on the same torch MLP dynamics, timed in the same process.

    python -m benchmarks.planner_speed --json benchmarks/results/planner_speed_cpu.json

Both plan with 512 samples, horizon 16 and one sampling iteration through the same
dynamics ``s' = s + MLP([s, a])`` (latent 64, two hidden layers of 256, ReLU, action 2) and
the same quadratic cost, so they do the same FLOPs (1.62 GFLOP per plan). Reported: the
median of 100 planning calls after warm-up for each (the two timed in alternation),
their ratio, and the fraction of this
machine's float32 matmul peak (a large matmul timed in the same process) our planner attains.
"""

from __future__ import annotations

import json
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks import common
from jepa_agent.actor import MPPI, MPPIConfig, PlanProblem
from jepa_agent.world_model import WorldModel

D, HIDDEN, A, N, H = 64, 256, 2, 512, 16


class MLPDynamics(WorldModel):
    """``s' = s + W3 relu(W2 relu(W1 [s, a] + b1) + b2) + b3``; rollout writes into one buffer."""

    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self.latent_dim, self.action_dim = D, A
        self.l1 = nn.Linear(D + A, HIDDEN, device=device)
        self.l2 = nn.Linear(HIDDEN, HIDDEN, device=device)
        self.l3 = nn.Linear(HIDDEN, D, device=device)

    def step(self, s: torch.Tensor, a: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.l1(torch.cat([s, a], dim=-1)))
        return s + self.l3(F.relu(self.l2(h)))

    def rollout(self, s0: torch.Tensor, actions: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        # Same FLOPs as looping step(), fewer memory passes: one time-major buffer holds every
        # step's input [s_t, a_t]; each step's output state is written by the last matmul
        # straight into the next step's input row, ReLUs run in place, nothing is allocated in
        # the loop. (Hoisting the action term of the first layer for all steps into one matmul
        # measured slower here: its (H, N, hidden) result does not stay in cache.)
        B, steps = actions.shape[:2]
        xa = torch.empty(steps + 1, B, D + A, device=s0.device, dtype=s0.dtype)  # (H+1, B, D+A)
        xa[0, :, :D] = s0
        xa[:steps, :, D:] = actions.transpose(0, 1)
        h1 = torch.empty(B, HIDDEN, device=s0.device, dtype=s0.dtype)
        h2 = torch.empty_like(h1)
        w1, w2, w3 = self.l1.weight.T, self.l2.weight.T, self.l3.weight.T
        for t in range(steps):
            torch.addmm(self.l1.bias, xa[t], w1, out=h1).relu_()
            torch.addmm(self.l2.bias, h1, w2, out=h2).relu_()
            torch.addmm(xa[t, :, :D], h2, w3, out=xa[t + 1, :, :D]).add_(self.l3.bias)
        return xa[1:, :, :D].transpose(0, 1)  # (B, H, D), a view


def quadratic_cost(goal: torch.Tensor):
    def running(states: torch.Tensor, actions: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        return (states - goal).pow(2).sum(-1)

    return running


def interleaved_median_ms(fns, calls: int, warmup: int = 5) -> list[float]:
    """Median ms per call of each function, timed in alternation (A, B, A, B, ...) so that a
    change in machine load during the measurement affects all of them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(calls):
        for fn, out in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1e3)
    return [statistics.median(t) for t in times]


def matmul_peak_gflops(device: torch.device, n: int = 2048, calls: int = 30) -> float:
    """float32 matmul throughput of an n x n product: the fastest of ``calls`` (a peak, so the
    fraction of it a planner attains is not flattered by a slow moment)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(3):
        a @ b
    sync()
    best = float("inf")
    for _ in range(calls):
        t0 = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def main() -> None:
    p = common.parser(__doc__, full=True, json_out="optional", threads=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--calls", type=int, default=100)
    p.add_argument("--compile", action="store_true", help="torch.compile our rollout (about 30 s cold)")
    args = p.parse_args()
    common.setup(args.threads, flush_denormal=True)
    torch.manual_seed(0)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    model = MLPDynamics(device).requires_grad_(False)
    if args.compile:  # ours only: pytorch_mppi calls model.step
        model.rollout = torch.compile(model.rollout, dynamic=False)
    s0 = torch.randn(1, D, device=device)
    goal = torch.zeros(D, device=device)
    low, high = -torch.ones(A, device=device), torch.ones(A, device=device)

    # --- ours: one MPPI iteration, raw-cost softmax with lambda = 1 like pytorch_mppi
    planner = MPPI(MPPIConfig(samples=N, iterations=1, temperature=1.0, normalize_costs=False,
                              update_std=False, init_std=1.0, keep_mean=False, policy_samples=0,
                              predict_states=False))
    running = quadratic_cost(goal)

    def cost(states: torch.Tensor, actions: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return running(states, actions).sum(-1)

    generator = torch.Generator(device=device).manual_seed(0)
    problem = PlanProblem(s0=s0, goal=goal.expand(1, D), horizon=H, action_low=low, action_high=high,
                          world_model=model, cost=cost, generator=generator)

    def ours() -> None:
        with torch.no_grad():
            planner.plan(problem)
        sync()

    # --- pytorch_mppi on the same dynamics and cost
    import pytorch_mppi

    ctrl = pytorch_mppi.MPPI(
        model.step, lambda s, a: running(s, a), D, noise_sigma=torch.eye(A, device=device),
        num_samples=N, horizon=H, device=device, lambda_=1.0, u_min=low, u_max=high,
    )

    def theirs() -> None:
        with torch.no_grad():
            ctrl.command(s0[0])
        sync()

    flops = N * H * 2 * ((D + A) * HIDDEN + HIDDEN * HIDDEN + HIDDEN * D)
    peak = matmul_peak_gflops(device)
    ours_ms, theirs_ms = interleaved_median_ms([ours, theirs], args.calls)
    result = {
        "device": str(device),
        "threads": args.threads,
        "compiled": args.compile,
        "samples": N,
        "horizon": H,
        "ours_ms": ours_ms,
        "pytorch_mppi_ms": theirs_ms,
        "speedup": theirs_ms / ours_ms,
        "gflops_per_plan": flops / 1e9,
        "matmul_peak_gflops": peak,
        "fraction_of_peak": (flops / 1e9) / (ours_ms * 1e-3) / peak,
        "pytorch_mppi_version": getattr(pytorch_mppi, "__version__", "unknown"),
        "torch_version": torch.__version__,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        common.write_json(args.json, result, device=str(device))


if __name__ == "__main__":
    main()
