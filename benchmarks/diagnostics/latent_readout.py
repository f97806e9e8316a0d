"""How finely a trained agent's latent resolves the goal space: a fresh probe fitted to it, against one fitted to the observation.

    python -m benchmarks.diagnostics.latent_readout runs/explore/reach3d_far_free_epistemic/checkpoint.safetensors \\
        --json readout.json

From N observations of the checkpoint's replay (a checkpoint saved with ``resume=True``),
the same MLP (two hidden layers of 256, Adam, ``--updates`` steps on 80% of them) is fitted
to read the ``achieved_goal`` from three inputs: the target encoder's latent (what goals,
critic, policy and probe read), the online encoder's latent (what a plan starts from by
default) and the ``observation`` vector with every column equal to an ``achieved_goal``
column left out (the reach arms' fingertip: the readout then has to learn the kinematics
from the joints, as a latent's readout does). Reported on the held-out 20%: the median error
in the env's units, overall and in four bins of distance from the start (the first stored
observation's achieved goal; the bins' edges are the distances' 50th, 75th and 90th
percentiles): a latent that resolves the goal space as finely as the observation reads
about as well, bin by bin.
"""

from __future__ import annotations

import numpy as np

from benchmarks import common


def readout_inputs(agent, samples: int, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """``samples`` replayed observations: the inputs to read from (``target``, ``online``,
    ``observation`` without its goal columns), each (N, ·), the achieved goals (N, G) and each
    one's distance from the first stored observation's achieved goal (N,)."""
    import torch

    from jepa_agent.memory import to_torch

    batch = agent.replay.sample(samples, 1, rng=np.random.default_rng(seed))
    obs = {k: v[:, 0] for k, v in batch["obs"].items()}
    if "achieved_goal" not in obs or "observation" not in obs:
        raise ValueError(f"the readout needs observations with 'observation' and 'achieved_goal', got {sorted(obs)}")
    goal = np.asarray(obs["achieved_goal"], dtype=np.float64)
    raw = np.asarray(obs["observation"], dtype=np.float64)
    same = [j for j in range(raw.shape[1]) if any(np.allclose(raw[:, j], goal[:, g]) for g in range(goal.shape[1]))]
    tensors = to_torch(obs, agent.device)
    with torch.no_grad():
        target = agent.world_model.encode_target(tensors).cpu().numpy()
        online = agent.world_model.encoder(tensors).cpu().numpy()
    start = next(agent.replay.episodes())["obs"]["achieved_goal"][0]  # the oldest episode's first
    distance = np.linalg.norm(goal - np.asarray(start, dtype=np.float64), axis=1)
    return {"target": target, "online": online, "observation": np.delete(raw, same, axis=1)}, goal, distance


def fit_readout(x: np.ndarray, y: np.ndarray, updates: int, seed: int = 0) -> np.ndarray:
    """Fit an MLP from ``x`` (N, F) to ``y`` (N, G) on the first 80% and return its absolute
    L2 error on the last 20% (N - 0.8 N,). Inputs are standardised with the fit's statistics;
    the net's initial weights come from ``seed`` (the caller's global torch RNG is left as it was)."""
    import torch

    n = int(0.8 * len(x))
    mean, std = x[:n].mean(0), x[:n].std(0) + 1e-6
    X = torch.as_tensor((x - mean) / std, dtype=torch.float32)
    Y = torch.as_tensor(y, dtype=torch.float32)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 256), torch.nn.ELU(), torch.nn.Linear(256, 256),
                                  torch.nn.ELU(), torch.nn.Linear(256, Y.shape[1]))
    optim = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(optim, updates)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(updates):
        idx = torch.randint(0, n, (256,), generator=gen)
        loss = (net(X[idx]) - Y[idx]).pow(2).sum(-1).mean()
        optim.zero_grad()
        loss.backward()
        optim.step()
        sched.step()
    with torch.no_grad():
        return (net(X[n:]) - Y[n:]).norm(dim=-1).numpy()


def latent_readout(agent, samples: int, updates: int, seed: int = 0) -> dict:
    """The held-out median readout error of each input, overall and by distance bin."""
    inputs, goal, distance = readout_inputs(agent, samples, seed)
    edges = [0.0, *np.percentile(distance, [50, 75, 90]).tolist(), np.inf]
    held = distance[int(0.8 * len(distance)):]
    out = {"samples": samples, "updates": updates, "bin_edges": [round(e, 4) for e in edges[1:-1]],
           "observation_columns": int(inputs["observation"].shape[1])}
    bins = [(held >= lo) & (held < hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    for name, x in inputs.items():
        err = fit_readout(x, goal, updates, seed)
        out[name] = {"median": round(float(np.median(err)), 4),
                     "median_by_bin": [round(float(np.median(err[b])), 4) if b.any() else None for b in bins]}
    return out


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, json_out="optional", seed=True)
    p.add_argument("checkpoint")
    p.add_argument("--samples", type=int, default=8192, help="replayed observations (80%% fit, 20%% held out)")
    p.add_argument("--updates", type=int, default=6000, help="Adam steps of each readout")
    args = p.parse_args(argv)
    common.setup()

    from jepa_agent.agent import Agent

    if args.samples < 10 or args.updates < 1:
        raise SystemExit(f"--samples needs >= 10 and --updates >= 1, got {args.samples} and {args.updates}")
    result = {"checkpoint": args.checkpoint, **latent_readout(Agent.load(args.checkpoint, resume=True), args.samples,
                                                              args.updates, args.seed)}
    for name in ("target", "online", "observation"):
        r = result[name]
        print(f"{name:>11}: median {100 * r['median']:.2f} cm; by distance from the start (edges "
              f"{', '.join(f'{e:.2f}' for e in result['bin_edges'])}): "
              f"{' '.join('-' if v is None else f'{100 * v:.2f}' for v in r['median_by_bin'])} cm")
    if args.json:
        common.write_json(args.json, result, indent=1)


if __name__ == "__main__":
    main()
