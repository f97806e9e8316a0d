"""How well the world model and the learned task cost predict a reward along imagined rollouts.

    python -m benchmarks.diagnostics.reward_model_error --updates 2000                  # defaults
    python -m benchmarks.diagnostics.reward_model_error --updates 2000 --set world_model.options.temporal_coef=1.0

Collects ``--steps`` (20k) steps of random exploration on Reacher-v5 (cached in ``--replay``), trains a
fresh agent's world model and task cost on it for ``--updates`` updates (no planning), then
rolls the model out 12 steps from the states of 6 held-out episodes (random and small
actions) and compares the predicted reward with the env's. Reacher's reward is
``-distance - |a|^2``; the ``|a|^2`` part is read off the action, so the number that
matters for planning is the error of the rest, the distance part: printed at rollout steps
1, 3, 6, 9, 12 next to that part's own spread (and written to ``--json``).
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from benchmarks import common
from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides
from jepa_agent.memory import ReplayBuffer

H = 12
SHOWN = [0, 2, 5, 8, 11]


def distance_part_error(agent: Agent, episodes: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """RMSE of the predicted non-action part of the reward per rollout step, and its spread."""
    env = gym.make("Reacher-v5")
    rng = np.random.default_rng(0)
    err, spread, n = np.zeros(H), np.zeros(H), 0
    for ep in range(episodes):
        obs, _ = env.reset(seed=ep)
        observations, actions, costs = [obs], [], []
        for _ in range(50):
            a = rng.uniform(-1, 1, 2) if ep % 2 else np.clip(rng.normal(0, 0.3, 2), -1, 1)
            obs, reward, *_ = env.step(a.astype(np.float32))
            observations.append(obs), actions.append(a), costs.append(-reward)
        o = torch.tensor(np.array(observations), dtype=torch.float32)  # (51, F)
        a = torch.tensor(np.array(actions), dtype=torch.float32)  # (50, A)
        c = np.array(costs)  # (50,)
        with torch.no_grad():
            for t0 in range(0, 50 - H, 4):
                s0 = agent.world_model.encode({"observation": o[t0 : t0 + 1]})  # (1, D)
                acts = a[None, t0 : t0 + H]  # (1, H, A)
                predicted = agent.task_cost(agent.world_model.rollout(s0, acts), acts)[0].numpy()  # (H,)
                effort = acts[0].pow(2).sum(-1).numpy()  # the |a|^2 part
                true = c[t0 : t0 + H] - effort
                err += (predicted - effort - true) ** 2
                spread += (true - true.mean()) ** 2
                n += 1
    return np.sqrt(err / n), np.sqrt(spread / n)


def main(argv: list[str] | None = None) -> dict:
    p = common.parser(__doc__, full=True, json_out="optional")
    p.add_argument("--updates", type=int, default=2000)
    p.add_argument("--steps", type=int, default=20_000, help="random env steps collected when --replay is missing")
    p.add_argument("--episodes", type=int, default=6, help="held-out episodes the rollouts start from")
    p.add_argument("--replay", default="runs/reacher_random_20k.npz", help="cached random-exploration replay")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (repeatable)")
    args = p.parse_args(argv)
    common.setup()
    overrides = {"task.env": "Reacher-v5", "device": "cpu", "training.random_steps": 10**9}
    config = apply_overrides(AgentConfig(), {**overrides, **common.overrides(args.set)})
    envs = [gym.make("Reacher-v5") for _ in range(8)]
    agent = Agent.from_config(config, envs[0])
    path = Path(args.replay)
    if path.is_file():
        agent.replay = ReplayBuffer.load(path)
    else:
        agent.train(envs, args.steps)  # random exploration only (random_steps is never reached)
        path.parent.mkdir(parents=True, exist_ok=True)
        agent.replay.save(path)
    common.train_on(agent, args.updates, adapt=True)
    err, spread = distance_part_error(agent, args.episodes)
    print(f"rollout steps {[i + 1 for i in SHOWN]}: error {np.round(err[SHOWN], 3)}, spread {np.round(spread[SHOWN], 3)}")
    result = {"updates": args.updates, "set": args.set, "replay": args.replay, "episodes": args.episodes,
              "error": err.round(4).tolist(), "spread": spread.round(4).tolist()}
    if args.json:
        common.write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
