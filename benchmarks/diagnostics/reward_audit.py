"""Why a reward task stalls: an audit of a trained agent on its own trajectories.

    python -m benchmarks.diagnostics.reward_audit runs/hopper/checkpoint.safetensors \\
        --episodes 5 --json runs/hopper/audit.json

Runs ``--episodes`` held-out episodes with the planner (the task's mode) and as many with
the distilled policy (mode 1) and with the critic's own greedy actor (an action-value
critic's: the policy its value assumes) through ``agent.loops.evaluate``, recording the
planner's every step, and measures on its episodes:

- **how episodes end**: terminated (a hopper that falls) or truncated at the time limit,
  and their lengths, for the three; the planner's return against the others';
- **the world model's multi-step error** on what planning scores: from every
  ``--stride``-th state, the encoded latent is rolled out through the executed actions for
  ``--horizon`` steps (the latent variable at its prior mean); the learned task cost of
  each predicted step against the env's cost ``-reward`` (RMSE per step, next to the
  cost's own spread), and the termination head's probability at the step that really
  ended the episode against its largest probability elsewhere;
- **the critic's value against Monte-Carlo**: ``V(s_t)`` (what the planner adds at the end
  of its horizon) against the discounted sum of the total cost the critic learns (the
  hard-wired terms on the encoded latents plus the env's cost) from ``s_t`` to the end of
  the episode, for states whose tail past a time limit weighs under 1% (``gamma^k``);
  bias, RMSE and correlation; and, binned by the steps left before a fall, the value, an
  action-value critic's ``Q(s_t, a_t)`` of the action taken, and the Monte-Carlo return
  (does the value know the episode is about to end? Is the error the actor's choice of
  action, or already in ``Q`` of the actions the planner took?);
- **the critic where the planner reads it**: the planner adds ``V`` at the *predicted*
  latent its horizon ends in, while the critic learns on *encoded* latents. From every
  ``--stride``-th state, the executed actions of the planner's horizon are rolled out
  through the model; ``V`` of that predicted latent against ``V`` of the encoded latent the
  episode really reached there, and both against the Monte-Carlo return from there (the
  value's error off the encoder's distribution, which a planner can exploit).

Prints the numbers and writes them to ``--json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from benchmarks import common
from jepa_agent.agent import Agent
from jepa_agent.agent.environments import make_env
from jepa_agent.agent.loops import PolicyController, StepView, evaluate

EVAL_SEED = 2_000_000
"""Episode ``i`` resets with ``EVAL_SEED + i`` (a range training never uses)."""


def record_episodes(agent: Agent, env: Any, episodes: int, mode: str | None) -> tuple[dict[str, Any], list[dict]]:
    """``evaluate`` on one env, keeping every step: per episode the observations acted on
    (T+1 with the last), actions (T, A), rewards (T,), whether it terminated."""
    trajectories: list[dict[str, list]] = []
    current: dict[str, list] = {"obs": [], "actions": [], "rewards": []}

    def on_step(agent: Agent, view: StepView) -> None:
        current["obs"].append(agent._adapt(view.obs, batched=True))
        current["actions"].append(view.action[0].copy())
        current["rewards"].append(float(view.step.reward[0]))
        if view.step.done[0]:
            ended = view.step.ended_obs
            current["obs"].append(agent._adapt(ended, batched=True))
            current["terminated"] = bool(view.step.terminated[0])
            trajectories.append(dict(current))
            current.update(obs=[], actions=[], rewards=[])

    result = evaluate(agent, env, episodes, seed=EVAL_SEED, mode=mode, on_step=on_step)
    out = []
    for tr in trajectories:
        obs = {k: np.concatenate([o[k] for o in tr["obs"]]) for k in tr["obs"][0]}  # {k: (T+1, ...)}
        out.append({"obs": obs, "actions": np.stack(tr["actions"]).astype(np.float32),
                    "rewards": np.asarray(tr["rewards"], dtype=np.float32), "terminated": tr["terminated"]})
    return result, out


def critic_actor(agent: Agent) -> PolicyController:
    """The critic's own greedy actor (the action its value assumes) as a policy."""
    goal = agent.configurator.goal_latent()[:1]  # (1, D)

    @torch.no_grad()
    def act(obs: Any) -> np.ndarray:
        s = agent.world_model.encode(agent._tensors(agent._adapt(obs, batched=True)))  # (B, D)
        return agent.critic.greedy(s, goal.expand(s.shape[0], -1)).cpu().numpy()

    return PolicyController(act)


def endings(result: dict[str, Any]) -> dict[str, Any]:
    records = result["records"]
    return {"mean_return": result["mean_return"], "std_return": result["std_return"],
            "terminated": int(sum(r["terminated"] for r in records)), "episodes": len(records),
            "lengths": [int(r["length"]) for r in records]}


@torch.no_grad()
def model_error(agent: Agent, trajectories: Sequence[dict], horizon: int, stride: int) -> dict[str, Any]:
    """The task cost's RMSE per rollout step and the termination head's calls (see the
    module docstring)."""
    wm, tc = agent.world_model, agent.task_cost
    if tc is None:
        raise ValueError("this agent has no learned task cost (a goal task): nothing to audit here")
    sq, n = np.zeros(horizon), np.zeros(horizon)
    p_at_end, p_elsewhere = [], []
    costs_all = np.concatenate([-t["rewards"] for t in trajectories])
    for tr in trajectories:
        obs = agent._tensors(tr["obs"])
        actions = torch.as_tensor(tr["actions"], device=agent.device)  # (T, A)
        T = actions.shape[0]
        s = wm.encode(obs)  # (T+1, D)
        starts = list(range(0, T, stride))
        for t0 in starts:
            H = min(horizon, T - t0)
            pred = wm.rollout(s[t0 : t0 + 1], actions[None, t0 : t0 + H])  # (1, H, D)
            cost = tc(pred, actions[None, t0 : t0 + H])[0].cpu().numpy()  # (H,)
            sq[:H] += (cost - (-tr["rewards"][t0 : t0 + H])) ** 2
            n[:H] += 1
            prob = tc.terminal_prob(pred)
            if prob is not None:
                prob = prob[0].cpu().numpy()  # (H,)
                if tr["terminated"] and t0 + H == T:  # this rollout reaches the real end
                    p_at_end.append(float(prob[-1]))
                    p_elsewhere.extend(prob[:-1].tolist())
                else:
                    p_elsewhere.extend(prob.tolist())
    rmse = np.sqrt(sq / np.maximum(n, 1))
    return {
        "horizon": horizon, "cost_rmse_per_step": rmse.tolist(), "cost_std": float(costs_all.std()),
        "termination_active": bool(tc.termination_active),
        "p_terminal_at_real_ends": p_at_end,
        "p_terminal_elsewhere_mean": float(np.mean(p_elsewhere)) if p_elsewhere else float("nan"),
        "p_terminal_elsewhere_p99": float(np.percentile(p_elsewhere, 99)) if p_elsewhere else float("nan"),
    }


def tail_steps(gamma: float) -> int:
    """Steps after which ``gamma^k`` weighs under 1%: what a time limit may cut from a return."""
    return math.ceil(math.log(0.01) / math.log(gamma))


def discounted_costs(agent: Agent, tr: dict, s: torch.Tensor, actions: torch.Tensor, goal: torch.Tensor) -> np.ndarray:
    """The discounted sum of the total cost the critic learns (the hard-wired terms on the
    encoded latents ``s`` (T+1, D) plus the env's cost) from each state of a trajectory to its
    end. Shapes: actions (T, A), goal (1, D) -> (T+1,), 0 at the last state."""
    fixed = agent.cost.fixed(s[None, 1:], actions[None], goal)[0].cpu().numpy()  # (T,)
    cost = fixed + agent.cost.task_cost_weight * (-tr["rewards"])
    g = np.zeros(len(cost) + 1)
    for t in range(len(cost) - 1, -1, -1):
        g[t] = cost[t] + agent.cost.gamma * g[t + 1]
    return g


END_BINS = ((1, 4), (4, 11), (11, 31), (31, 101), (101, 10**9))
"""Steps from a state to its episode's termination, binned: the critic's error near a fall."""


@torch.no_grad()
def critic_error(agent: Agent, trajectories: Sequence[dict]) -> dict[str, Any]:
    """``V(s_t)`` against the discounted total cost from ``s_t`` (see the module docstring)."""
    if agent.critic is None:
        return {}
    gamma = agent.cost.gamma
    tail = tail_steps(gamma)
    goal = agent.configurator.goal_latent()[:1]  # (1, D): a reward task's zero goal latent
    values, taken, returns, to_end = [], [], [], []
    q_values = getattr(agent.critic, "q_values", None)  # an action-value critic's Q(s, a, g) (E, ...)
    for tr in trajectories:
        obs = agent._tensors(tr["obs"])
        actions = torch.as_tensor(tr["actions"], device=agent.device)
        s = agent.world_model.encode_target(obs)  # (T+1, D)
        T = actions.shape[0]
        g = discounted_costs(agent, tr, s, actions, goal)  # (T+1,)
        keep = np.arange(T) if tr["terminated"] else np.arange(max(0, T - tail))
        if len(keep) == 0:
            continue
        goals = goal.expand(len(keep), -1)
        v = agent.critic.value(s[keep], goals).cpu().numpy()
        if q_values is not None:
            taken.append(q_values(s[keep], actions[keep], goals).mean(0).cpu().numpy())
        values.append(v), returns.append(g[keep])
        # steps from s_t to a termination (-1: the episode was cut by the time limit)
        to_end.append(T - keep if tr["terminated"] else np.full(len(keep), -1))
    if not values:
        return {"states": 0}
    v, g, ends = np.concatenate(values), np.concatenate(returns), np.concatenate(to_end)
    q = np.concatenate(taken) if taken else None
    bins = []  # the error where a fall is near: is the end of the episode in the value?
    for lo, hi in END_BINS:
        m = (ends >= lo) & (ends < hi)
        if m.any():
            bins.append({"steps_to_end": [lo, hi], "states": int(m.sum()), "value_mean": float(v[m].mean()),
                         "mc_mean": float(g[m].mean()),
                         **({"q_taken_mean": float(q[m].mean())} if q is not None else {})})
    return {
        "states": int(len(v)), "gamma": gamma, "mc_mean": float(g.mean()), "value_mean": float(v.mean()),
        **({"q_taken_mean": float(q.mean())} if q is not None else {}),
        "bias": float((v - g).mean()), "rmse": float(np.sqrt(((v - g) ** 2).mean())),
        "corr": float(np.corrcoef(v, g)[0, 1]) if len(v) > 2 else float("nan"),
        "by_steps_to_end": bins,
    }


@torch.no_grad()
def critic_on_model(agent: Agent, trajectories: Sequence[dict], stride: int) -> dict[str, Any]:
    """``V`` at the latent the model predicts at the end of the planner's horizon against
    ``V`` at the encoded latent reached there and the Monte-Carlo return (see the module
    docstring); empty for an agent without a critic."""
    if agent.critic is None:
        return {}
    wm, H = agent.world_model, agent.config.task.actor.horizon
    tail = tail_steps(agent.cost.gamma)
    goal = agent.configurator.goal_latent()[:1]  # (1, D)
    predicted, encoded, returns = [], [], []
    for tr in trajectories:
        obs = agent._tensors(tr["obs"])
        actions = torch.as_tensor(tr["actions"], device=agent.device)  # (T, A)
        T = actions.shape[0]
        s, s_target = wm.encode(obs), wm.encode_target(obs)  # (T+1, D) each
        g = discounted_costs(agent, tr, s_target, actions, goal)  # (T+1,)
        last = T - H if tr["terminated"] else T - H - tail  # the horizon's end inside the measured states
        starts = list(range(0, last + 1, stride))
        if not starts:
            continue
        t0 = torch.as_tensor(starts, device=agent.device)
        windows = actions[t0[:, None] + torch.arange(H, device=agent.device)]  # (N, H, A)
        ends = wm.rollout(s[t0], windows)[:, -1]  # (N, D): the predicted latent at the horizon's end
        goals = goal.expand(len(starts), -1)
        predicted.append(agent.critic.value(ends, goals).cpu().numpy())
        encoded.append(agent.critic.value(s_target[t0 + H], goals).cpu().numpy())
        returns.append(g[np.asarray(starts) + H])
    if not predicted:
        return {"states": 0}
    vp, ve, g = np.concatenate(predicted), np.concatenate(encoded), np.concatenate(returns)

    def corr(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 else float("nan")

    return {
        "states": int(len(g)), "horizon": H, "mc_mean": float(g.mean()),
        "value_predicted_mean": float(vp.mean()), "value_encoded_mean": float(ve.mean()),
        "predicted_minus_encoded_rmse": float(np.sqrt(((vp - ve) ** 2).mean())),
        "predicted_minus_encoded_mean": float((vp - ve).mean()),
        "corr_predicted_mc": corr(vp, g), "corr_encoded_mc": corr(ve, g),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = common.parser(__doc__, json_out="optional", threads=1)
    p.add_argument("checkpoint", help="an agent checkpoint (checkpoint.safetensors of a run folder)")
    p.add_argument("--episodes", type=int, default=5, help="episodes per mode (default 5)")
    p.add_argument("--horizon", type=int, default=10, help="rollout steps of the model error (default 10)")
    p.add_argument("--stride", type=int, default=5, help="every this many states starts a rollout (default 5)")
    args = p.parse_args(argv)
    common.setup(args.threads)
    agent = Agent.load(args.checkpoint)
    env = make_env(agent.config)
    tcfg = agent.config.training
    result: dict[str, Any] = {"checkpoint": str(args.checkpoint), "env": agent.config.task.env,
                              "env_steps": agent.env_steps, "seed": agent.config.seed,
                              "window_starts": agent.config.replay.window_starts,
                              "updates_per_step": tcfg.updates_per_step, "batch_size": tcfg.batch_size}
    plan, trajectories = record_episodes(agent, env, args.episodes, None)
    policy, _ = record_episodes(agent, env, args.episodes, "policy") if agent.policy is not None else (None, None)
    greedy = getattr(agent.critic, "greedy", None)
    critic = evaluate(critic_actor(agent), env, args.episodes, seed=EVAL_SEED) if greedy is not None else None
    result["planner"] = endings(plan)
    result["policy"] = None if policy is None else endings(policy)
    result["critic_actor"] = None if critic is None else endings(critic)
    result["model"] = model_error(agent, trajectories, args.horizon, args.stride)
    result["critic"] = critic_error(agent, trajectories)
    result["critic_on_model"] = critic_on_model(agent, trajectories, args.stride)
    env.close()
    m, c = result["model"], result["critic"]
    print(f"{result['env']} at {result['env_steps']} env steps")
    for name in ("planner", "policy", "critic_actor"):
        e = result[name]
        if e is not None:
            print(f"  {name:12s} return {e['mean_return']:8.1f} ± {e['std_return']:.1f}; "
                  f"{e['terminated']}/{e['episodes']} terminated; lengths {e['lengths']}")
    print(f"  task cost RMSE by rollout step {np.round(m['cost_rmse_per_step'], 3).tolist()} (cost std {m['cost_std']:.3f})")
    print(f"  P(terminated) at real ends {np.round(m['p_terminal_at_real_ends'], 3).tolist()}, elsewhere mean "
          f"{m['p_terminal_elsewhere_mean']:.4f}, p99 {m['p_terminal_elsewhere_p99']:.4f}")
    if c.get("states"):
        print(f"  critic V vs MC over {c['states']} states: value {c['value_mean']:.2f}, MC {c['mc_mean']:.2f}, "
              f"bias {c['bias']:.2f}, RMSE {c['rmse']:.2f}, corr {c['corr']:.3f}")
        for b in c["by_steps_to_end"]:
            q = f", Q(s, a taken) {b['q_taken_mean']:.2f}" if "q_taken_mean" in b else ""
            print(f"    {b['steps_to_end'][0]}-{b['steps_to_end'][1] - 1} steps before a fall ({b['states']} states): "
                  f"value {b['value_mean']:.2f}{q}, MC {b['mc_mean']:.2f}")
    cm = result["critic_on_model"]
    if cm.get("states"):
        print(f"  V at the planner's horizon end ({cm['horizon']} steps, {cm['states']} states): predicted latent "
              f"{cm['value_predicted_mean']:.2f}, encoded {cm['value_encoded_mean']:.2f}, MC {cm['mc_mean']:.2f}; "
              f"predicted - encoded RMSE {cm['predicted_minus_encoded_rmse']:.2f}; corr with MC "
              f"{cm['corr_predicted_mc']:.3f} predicted, {cm['corr_encoded_mc']:.3f} encoded")
    if args.json:
        common.write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
