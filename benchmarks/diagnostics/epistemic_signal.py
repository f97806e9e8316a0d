"""Which uncertainty tells the agent where its data is thin: the ensemble's disagreement or the
latent variable's sample spread?

    python -m benchmarks.diagnostics.epistemic_signal --json runs/epistemic_signal.json

An agent with a 5-head ensemble (``world_model.ensemble_heads``) learns from random
exploration only (actions held ``training.exploration.random_repeat`` steps: a random walk around
the start pose, as training explores). Then, on states spread over the whole workspace (the
goal observations of ``--states`` held-out episodes), each measure is taken for random
actions and compared with how far the state is from the data (its fingertip's distance to
the nearest fingertip position in the replay): Spearman's rank correlation, and the mean of
the farthest quarter of states over the nearest quarter. A measure that carries the
epistemic signal correlates with the distance; one that does not, does not.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks import common
from benchmarks.common import spearman


def main(argv: list[str] | None = None) -> dict:
    p = common.parser(__doc__, json_out="required", seed=True)
    p.add_argument("--config", default=str(common.ROOT / "configs" / "reach2d.yaml"))
    p.add_argument("--steps", type=int, default=10_000, help="random env steps")
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--states", type=int, default=1000)
    p.add_argument("--samples", type=int, default=8, help="latent samples (and random actions) per state")
    args = p.parse_args(argv)

    import torch

    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_env, make_vector_env
    from jepa_agent.configurator.loading import apply_overrides, load_config

    common.setup(flush_denormal=True)
    config = apply_overrides(load_config(args.config), {"world_model.ensemble_heads": 5, "device": "cpu",
                                                        "seed": args.seed})
    vec = make_vector_env(config, 8)
    agent = Agent.from_config(config, vec)
    agent.collect(vec, args.steps, seed=args.seed)
    agent.adapt()
    start = time.perf_counter()
    for _ in range(args.updates):
        info = agent.update()
    train_s = time.perf_counter() - start
    print(f"{args.updates} updates in {train_s:.0f} s; ensemble loss {info['ensemble_loss']:.5f}, "
          f"kl {info['kl']:.4f}")

    data = np.concatenate([ep["obs"]["achieved_goal"] for ep in agent.replay.episodes()])  # (N, 2)
    env = make_env(config)
    obs = [env.reset(seed=10_000_000 + i)[1]["goal_observation"] for i in range(args.states)]
    batch = {k: np.stack([o[k] for o in obs]) for k in obs[0]}
    distance = np.array([np.min(np.linalg.norm(data - g, axis=1)) for g in batch["achieved_goal"]])

    wm, rng = agent.world_model, torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        s = wm.encode(agent._tensors(agent._adapt(batch)))  # (S, D)
        S, K = s.shape[0], args.samples
        low, high = agent.action_low, agent.action_high
        a = low + (high - low) * torch.rand(S, K, agent.action_dim, generator=rng)  # (S, K, A)
        s_k = s[:, None].expand(S, K, -1)
        ensemble = wm.disagreement(s_k, a).mean(1).numpy()  # (S,)
        if wm.latent_var_dim > 0:
            z = torch.randn(S, K, K, wm.latent_var_dim, generator=rng)  # K latent samples per action
            nxt = wm.step(s_k[:, :, None].expand(S, K, K, -1).reshape(-1, s.shape[1]),
                          a[:, :, None].expand(S, K, K, -1).reshape(-1, a.shape[-1]),
                          z.reshape(-1, wm.latent_var_dim)).reshape(S, K, K, -1)
            spread = nxt.var(dim=2, correction=0).sum(-1).mean(1).numpy()  # (S,)
        else:
            spread = np.zeros(S)

    order = np.argsort(distance)
    q = max(1, S // 4)
    near, far = order[:q], order[-q:]

    def summary(x: np.ndarray) -> dict[str, float]:
        return {"spearman_with_distance": spearman(x, distance), "far_over_near": float(x[far].mean() / max(x[near].mean(), 1e-12)),
                "mean": float(x.mean())}

    result = {
        "config": args.config, "random_steps": args.steps, "updates": args.updates, "states": S, "seed": args.seed,
        "distance_to_data_m": {"median": float(np.median(distance)), "near_quarter_mean": float(distance[near].mean()),
                               "far_quarter_mean": float(distance[far].mean())},
        "ensemble_disagreement": summary(ensemble),
        "latent_sample_spread": summary(spread),
        "kl": info["kl"],
        "train_s": train_s,
    }
    for name in ("ensemble_disagreement", "latent_sample_spread"):
        r = result[name]
        print(f"{name:24s} spearman {r['spearman_with_distance']:+.2f}  far/near {r['far_over_near']:7.2f}  mean {r['mean']:.2e}")
    common.write_json(args.json, result)
    print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
