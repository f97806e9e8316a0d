"""How far a trained world model's predictions are off, in the env's own units, against how far the agent moves.

    python -m benchmarks.diagnostics.model_error runs/hierarchy/pointmaze_medium/checkpoint.safetensors \\
        --config configs/pointmaze_medium_hier.yaml --json runs/model_error.json

From ``--starts`` states of the config's env (a reset, then up to 40 random actions), one
action held for ``--horizon`` agent steps (each ``task.action_repeat`` env steps, as the
agent acts): the probe's readout of the world model's predicted latents against the
``achieved_goal`` the env reaches. Prints and writes the readout error at the start (the
probe alone), the rollout error at each step (median and 90th percentile), and the median
distance the agent really moved and was predicted to move. A planner whose horizon moves
the agent less than the model's error decides on noise.

``--replay N`` measures instead what the predictor is trained on, needing no probe nor env:
on N windows of ``--horizon`` steps drawn from the checkpoint's own replay (a checkpoint
saved with ``resume=True``), the open-loop rollout from the online latent of the window's
first observation against the target encoder's latents of the observations that followed
(mean and 90th percentile of the L2 error at each step, next to the mean latent distance one
step moves, and the mean distance between the online and the target encoder's latents of
the same first observations). ``--set world_model.options.NAME=VALUE`` measures the model
with options that keep its weights (``ensemble_mix``: the predictor averaged with its
ensemble's mean; ``plan_encoder=target``: the rollout from the target's latent).
``--refit-predictor R`` first fits the predictor alone R steps in the target encoder's
space (``Agent.refit_predictor``; the windows measured are drawn from the same replay).

    python -m benchmarks.diagnostics.model_error runs/explore/reach3d_far_free_epistemic/checkpoint.safetensors \
        --replay 2048 --horizon 12 --set world_model.options.ensemble_mix=0.5
"""

from __future__ import annotations

import numpy as np

from benchmarks import common


def replay_error(agent, windows: int, horizon: int, seed: int = 0) -> dict:
    """Open-loop latent error of the agent's world model on ``windows`` replayed windows of
    ``horizon`` steps: per step, the mean and 90th percentile over the windows of
    ``|rollout_t - target_t|`` (L2 over the latent), the mean ``|target_1 - target_0|``, and
    the mean distance between the online and target latents of the first observations."""
    import torch

    from jepa_agent.memory import to_torch

    batch = to_torch(agent.replay.sample(windows, horizon, rng=np.random.default_rng(seed)), agent.device)
    wm = agent.world_model
    B, T = batch["actions"].shape[:2]
    with torch.no_grad():
        flat = {k: v.reshape(B * (T + 1), *v.shape[2:]) for k, v in batch["obs"].items()}
        first = {k: v[:, 0] for k, v in batch["obs"].items()}
        target = wm.encode_target(flat).reshape(B, T + 1, -1)  # (B, T+1, D)
        s0 = wm.encode(first)  # (B, D)
        err = (wm.rollout(s0, batch["actions"]) - target[:, 1:]).norm(dim=-1).cpu().numpy()  # (B, T)
        step = (target[:, 1] - target[:, 0]).norm(dim=-1).mean().item()
        gap = (wm.encoder(first) - target[:, 0]).norm(dim=-1).mean().item()
    return {"windows": B, "horizon": T, "error_mean": [round(float(e), 4) for e in err.mean(0)],
            "error_p90": [round(float(e), 4) for e in np.percentile(err, 90, 0)], "step_mean": round(step, 4),
            "online_target_gap": round(gap, 4)}


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, json_out="optional", seed=True)
    p.add_argument("checkpoint")
    p.add_argument("--config", help="the task's config (its env and action repeat); not with --replay")
    p.add_argument("--replay", type=int, metavar="N", help="the latent error on N windows of the checkpoint's replay")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="with --replay: world model options that keep its weights (world_model.options.ensemble_mix=0.5)")
    p.add_argument("--refit-predictor", type=int, default=0, metavar="R",
                   help="with --replay: fit the predictor alone R steps in the target encoder's space first")
    p.add_argument("--refit-lr", type=float, default=3e-4, help="the refit's Adam learning rate")
    p.add_argument("--starts", type=int, default=150)
    p.add_argument("--horizon", type=int, default=10, help="agent steps per rollout (the planner's horizon)")
    args = p.parse_args(argv)
    common.setup()

    from jepa_agent.agent import Agent
    from jepa_agent.configurator.loading import load_config

    if args.replay is not None:
        from jepa_agent.configurator.loading import split_world_model_options

        options, rest = split_world_model_options(args.set)
        if rest or args.replay < 1:
            raise SystemExit(f"--replay needs N >= 1 and takes world_model.options.* only; got {args.replay}, {rest}")
        agent = Agent.load(args.checkpoint, resume=True, world_model_options=options)
        refit = agent.refit_predictor(args.refit_predictor, args.refit_lr) if args.refit_predictor > 0 else {}
        result = {"checkpoint": args.checkpoint, "set": args.set, "refit_predictor": args.refit_predictor,
                  "refit_lr": args.refit_lr, **refit,
                  **replay_error(agent, args.replay, args.horizon, args.seed)}
        print(f"{args.checkpoint} {' '.join(args.set)}: latent error by step over {args.replay} replayed windows "
              f"(mean) {' '.join(f'{e:.3f}' for e in result['error_mean'])}; one step moves {result['step_mean']:.3f}; "
              f"online and target latents {result['online_target_gap']:.3f} apart")
    else:
        if args.config is None or args.set or args.refit_predictor:
            raise SystemExit("give --config (the env to measure on), or --replay N (with --set, --refit-predictor)")
        result = env_error(args, Agent.load(args.checkpoint), load_config(args.config))
    if args.json:
        common.write_json(args.json, result, indent=1)


def env_error(args, agent, config) -> dict:
    """The probe's readout error along rollouts from the env's states (the docstring's first mode)."""
    import torch

    from jepa_agent.agent.environments import make_env
    from jepa_agent.agent.vector import wrap_env

    if agent.probe is None:
        raise SystemExit(f"{args.checkpoint}: the agent has no probe to read its latents out with")
    repeat = agent.config.task.action_repeat
    env = wrap_env(make_env(config), repeat)
    rng = np.random.default_rng(args.seed)
    low, high = env.action_space.low, env.action_space.high
    start_err, errors, moved, predicted = [], [], [], []
    for i in range(args.starts):
        obs, _ = env.reset(seed=args.seed + i)
        for _ in range(int(rng.integers(0, 40))):
            obs, *_ = env.step(rng.uniform(low, high).astype(np.float32))
        actions = np.tile(rng.uniform(low, high), (args.horizon, 1)).astype(np.float32)  # (H, A)
        start, reached = obs, []
        for a in actions:
            obs, *_ = env.step(a)
            reached.append(np.asarray(obs[agent.probe.key], dtype=np.float64))
        with torch.no_grad():
            s = agent.world_model.encode(agent._tensors(agent._to_batch(start)[0]))  # (1, D)
            states = agent.world_model.rollout(s, torch.as_tensor(actions)[None])[0]  # (H, D)
            xy, xy0 = agent.probe(states).numpy(), agent.probe(s)[0].numpy()
        at_start = np.asarray(start[agent.probe.key], dtype=np.float64)
        start_err.append(float(np.linalg.norm(xy0 - at_start)))
        errors.append(np.linalg.norm(xy - np.array(reached), axis=-1))
        moved.append(float(np.linalg.norm(reached[-1] - at_start)))
        predicted.append(float(np.linalg.norm(xy[-1] - xy0)))
    env.close()
    err = np.array(errors)  # (starts, H)
    result = {
        "checkpoint": args.checkpoint, "action_repeat": repeat, "horizon": args.horizon, "starts": args.starts,
        "readout_error_median": float(np.median(start_err)),
        "rollout_error_median": np.median(err, 0).round(4).tolist(),
        "rollout_error_p90": np.percentile(err, 90, 0).round(4).tolist(),
        "moved_median": float(np.median(moved)), "predicted_moved_median": float(np.median(predicted)),
    }
    print(f"{args.checkpoint} (action repeat {repeat}, {args.horizon} actions, {args.starts} starts)")
    print(f"  readout error at the start: {result['readout_error_median']:.3f} (median)")
    print(f"  rollout error by step (median): {result['rollout_error_median']}")
    print(f"  moved in {args.horizon} actions: {result['moved_median']:.3f} (median); "
          f"predicted {result['predicted_moved_median']:.3f}")
    return result


if __name__ == "__main__":
    main()
