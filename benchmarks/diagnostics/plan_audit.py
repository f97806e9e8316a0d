"""Why a trained agent misses a reach goal: its world model or its planner's search.

    python -m benchmarks.diagnostics.plan_audit runs/explore/reach3d_far_free_epistemic/checkpoint.safetensors \\
        --episodes 200 --json runs/plan_audit.json

At each decision of the far quarter's episodes (the quarter of ``--episodes`` held-out goals
farthest from the start, the seeds the agents are evaluated on), two plans for the planner's
horizon are costed twice by the agent's own cost (goal energy, effort, smoothness, critic):
the plan the planner chose, and the plan of the joint-space servo that knows the goal's
joints (``benchmarks.reach_reference``: it reaches every goal). Costed on the world
model's predicted latents (what the planner sees), and on the target encoder's latents of
the observations the plan really leads to (what the predictions are trained to match and the
goal is encoded with; the env replays the plan from the same physics state).
Each decision is then one of:

- ``model``: the model prices the planner's plan at or below the servo's, the real
  outcome prices it above: the planner exploits the model's error;
- ``search``: the model itself prices the servo's plan lower: the search did not find it;
- ``fine``: the planner's plan is really no worse than the servo's.

Printed and written per decision step (``--from-step`` on: the approach and the hold), for
the episodes that fail and for those that succeed, with the medians of how much the planner's
plan really costs above the servo's (``regret``), how much more each plan really costs than
the model said (``optimism``: a planner that exploits its model's errors picks the plans it is
most optimistic about), the model's error on the servo's plan after one step and after the
horizon in metres (the latent error over the latent distance per metre the plan really moves
the fingertip: ``servo_error_first_m``, ``servo_error_last_m``) and, where the agent has a
probe, how far the model's prediction of
where the servo's plan ends is off in the env's units (``servo_end_error``: the probe's
readout of the predicted last latent against the achieved goal the replay reaches; next to
``probe_error``, the readout's own error on the decision's state). First it prints how far
the far goals' observations lie outside the encoder's fitted input normalisation, in its
standard deviations (``goal_input_zscore_max``).
Velocity-servoed reach envs only. The episodes run through the library's one episode loop
(``agent.loops.evaluate``), each decision audited when the agent has made it, before the env steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.reach_reference import servo_action  # the same servo as the reference

VERDICTS = ("model", "search", "fine")


def verdict(model_plan: float, model_servo: float, true_plan: float, true_servo: float) -> str:
    """Which part a decision's choice rests on (the module docstring's three cases)."""
    if model_servo < model_plan:
        return "search"
    return "model" if true_plan > true_servo else "fine"


def servo_plan(sim, state: np.ndarray, horizon: int, tau: float) -> np.ndarray:
    """The servo's actions over ``horizon`` steps from a physics state (closed loop in ``sim``)."""
    u = sim.unwrapped
    u.set_physics_state(state)
    actions = []
    for _ in range(horizon):
        actions.append(servo_action(u, tau))
        u.step(actions[-1])
    return np.stack(actions)


def replay(sim, state: np.ndarray, actions: np.ndarray) -> list[dict]:
    """The observations a sequence of actions really leads to from a physics state."""
    sim.unwrapped.set_physics_state(state)
    return [sim.unwrapped.step(a)[0] for a in actions]


def audit_decision(agent, env, sim, obs: dict, t: int, tau: float) -> dict:
    """The audit of the decision ``agent`` has just made at step ``t`` of its episode in
    ``env`` (before the env steps), from the observation it acted on ``obs`` (one env's):
    its plan and the servo's costed on the model's predictions and on what really follows
    (``sim`` replays both from the env's physics state)."""
    import torch

    def tensors(obs_list: list[dict]) -> dict:
        return {k: torch.as_tensor(np.stack([np.asarray(o[k]) for o in obs_list])).float().to(agent.device)
                for k in obs_list[0]}

    state = env.unwrapped.get_physics_state()
    with torch.no_grad():
        goal = agent.configurator.goal_latent()  # (1, D)
        s0 = agent.world_model.encode(tensors([obs]))  # (1, D)
        plan = agent.actor.last_result.actions[:1].detach()  # (1, H, A)
        H = plan.shape[1]
        servo = torch.as_tensor(servo_plan(sim, state, H, tau), device=agent.device)[None]
        plans = torch.cat([plan, servo])  # (2, H, A)
        goals = goal.expand(2, -1)
        predicted = agent.world_model.rollout(s0.expand(2, -1), plans)  # (2, H, D)
        outcomes = [replay(sim, state, p.cpu().numpy()) for p in plans]
        real = torch.stack([agent.world_model.encode_target(tensors(o)) for o in outcomes])  # (2, H, D)
        model_cost = agent.cost(predicted, plans, goals).cpu().numpy()
        true_cost = agent.cost(real, plans, goals).cpu().numpy()
    decision = {"step": t, "distance": float(np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"])),
                "model_plan": float(model_cost[0]), "model_servo": float(model_cost[1]),
                "true_plan": float(true_cost[0]), "true_servo": float(true_cost[1]),
                "verdict": verdict(model_cost[0], model_cost[1], true_cost[0], true_cost[1])}
    # the model's error on the servo's plan in metres: latent error over the latent distance
    # per metre the plan really moves the fingertip (where it moves it at least 1 cm)
    moved = float(np.linalg.norm(outcomes[1][-1]["achieved_goal"] - obs["achieved_goal"]))
    if moved >= 0.01:
        with torch.no_grad():
            per_metre = float((real[1, -1] - agent.world_model.encode_target(tensors([obs]))[0]).norm()) / moved
            error = (predicted[1] - real[1]).norm(dim=-1).cpu().numpy()  # (H,)
        decision["servo_error_first_m"] = float(error[0]) / per_metre
        decision["servo_error_last_m"] = float(error[-1]) / per_metre
    if agent.probe is not None:  # the predicted end of the servo's plan, read out, against where it ends
        with torch.no_grad():
            end, now = agent.probe(torch.cat([predicted[1, -1:], s0])).cpu().numpy()
        decision["servo_end_error"] = float(np.linalg.norm(end - outcomes[1][-1][agent.probe.key]))
        decision["probe_error"] = float(np.linalg.norm(now - obs[agent.probe.key]))  # the readout alone
    return decision


class Audited:
    """An agent as the episode loop drives it (``agent.loops.Controller``: everything is the
    agent's), each of its decisions from step ``from_step`` of the episode on audited
    (:func:`audit_decision`) as it is made: the env's physics state is then the decision's."""

    def __init__(self, agent, env, sim, from_step: int, tau: float) -> None:
        self.agent, self.env, self.sim, self.from_step, self.tau = agent, env, sim, from_step, tau
        self.decisions: list[dict] = []
        self.t = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.agent, name)

    def reset(self, task=None, *, goal=None) -> None:
        self.agent.reset(task, goal=goal)
        self.t = 0

    def act(self, obs: dict, *, mode: str | None = None) -> np.ndarray:
        action = self.agent.act(obs, mode=mode)
        if self.t >= self.from_step:
            one = {k: v[0] for k, v in obs.items()}  # the one env's observation
            self.decisions.append(audit_decision(self.agent, self.env, self.sim, one, self.t, self.tau))
        self.t += 1
        return action


def audit_episode(agent, env, sim, seed: int, from_step: int, tau: float, task=None) -> dict:
    """One evaluation episode of ``agent`` (under ``task``, or its own) reset with ``seed``,
    in the library's one episode loop; each decision from ``from_step`` on audited."""
    from jepa_agent.agent.loops import evaluate

    sim.reset(seed=seed)  # the same goal in the replaying copy
    audited = Audited(agent, env, sim, from_step, tau)
    record = evaluate(audited, env, 1, seed=seed, task=task)["records"][0]
    return {"seed": seed, "success": bool(record["final_distance"] < env.unwrapped.success_threshold),
            "final_distance": record["final_distance"], "decisions": audited.decisions}


def tally(episodes: list[dict]) -> dict:
    """Fraction of the decisions of each verdict over the given episodes, and medians of how
    much the planner's plan really costs above the servo's (``regret``) and how much more each
    plan really costs than the model said (``optimism_plan``, ``optimism_servo``): a planner
    that exploits its model's errors picks plans the model is more optimistic about."""
    ds = [d for e in episodes for d in e["decisions"]]
    n = len(ds)
    verdicts = [d["verdict"] for d in ds]

    def median(f) -> float | None:
        return float(np.median([f(d) for d in ds])) if n else None

    def median_of(key: str) -> float | None:
        values = [d[key] for d in ds if key in d]
        return float(np.median(values)) if values else None

    return {"episodes": len(episodes), "decisions": n,
            **{v: (verdicts.count(v) / n if n else None) for v in VERDICTS},
            "regret": median(lambda d: d["true_plan"] - d["true_servo"]),
            "optimism_plan": median(lambda d: d["true_plan"] - d["model_plan"]),
            "optimism_servo": median(lambda d: d["true_servo"] - d["model_servo"]),
            **{k: median_of(k) for k in ("servo_error_first_m", "servo_error_last_m", "servo_end_error", "probe_error")}}


def goal_input_zscores(agent, env, seeds: list[int]) -> np.ndarray | None:
    """How far each goal observation lies outside the encoder's fitted input normalisation:
    per goal, the largest ``|x - mean| / std`` over the input features (None for an encoder
    without one)."""
    import torch

    from jepa_agent.perception.mlp import flatten_observation

    encoder = agent.world_model.encoder
    if not hasattr(encoder, "in_mean") or not getattr(encoder.config, "normalize_input", False):
        return None
    z = []
    for seed in seeds:
        env.reset(seed=seed)
        goal = {k: torch.as_tensor(np.asarray(v)[None]).float() for k, v in env.unwrapped.goal_observation().items()}
        with torch.no_grad():
            x = flatten_observation(goal, encoder.keys).to(encoder.in_mean.device)
            z.append(float(((x - encoder.in_mean) / encoder.in_std).abs().max()))
    return np.asarray(z)


def main() -> None:
    p = common.parser(__doc__)
    p.add_argument("checkpoint")
    p.add_argument("--episodes", type=int, default=200, help="held-out goals; their far quarter is audited")
    p.add_argument("--from-step", type=int, default=25, help="audit the decisions from this step of the episode on")
    p.add_argument("--tau", type=float, default=0.04, help="the servo's time constant (s)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="task overrides for the acting agent (e.g. task.cost.effort_weight=0.1), or world model "
                        "options that keep its weights (world_model.options.ensemble_mix=0.5)")
    p.add_argument("--limit", type=int, help="audit only the first N far-quarter episodes")
    p.add_argument("--json", help="write the tallies, overall and per episode, here")
    p.add_argument("--decisions", action="store_true", help="with --json: every decision's costs too")
    args = p.parse_args()
    if args.episodes < 4 or not args.tau > 0:
        raise SystemExit(f"--episodes must be >= 4 and --tau > 0; got {args.episodes} and {args.tau}")

    common.setup()

    from jepa_agent.agent.agent import Agent
    from jepa_agent.agent.app.run import EVAL_SEED, make_env
    from jepa_agent.configurator.loading import split_world_model_options

    wm_options, task_set = split_world_model_options(args.set)
    agent = Agent.load(args.checkpoint, world_model_options=wm_options)
    task = common.task_with(agent.config, task_set)
    env, sim = make_env(agent.config), make_env(agent.config)
    if getattr(env.unwrapped, "control", "velocity") != "velocity" or not hasattr(env.unwrapped, "goal_qpos"):
        raise SystemExit("the audit's servo commands joint velocities toward goal_qpos: a velocity-servoed reach env only")
    if agent.configurator.objective != "goal" or agent.actor.mode != "plan":
        raise SystemExit("the audit compares plans toward a goal observation: a goal task acting by planning only")
    seeds = [EVAL_SEED + agent.config.seed + i for i in range(args.episodes)]
    far = [seeds[i] for i in common.far_quarter(common.goal_distances(env, seeds))]
    zscores = goal_input_zscores(agent, env, far)  # over the whole far quarter, --limit or not
    seeds = far[: args.limit]
    if zscores is not None:
        print(f"far goals' observations: at most {zscores.max():.1f} (median over goals {np.median(zscores):.1f}) "
              "of the encoder's input standard deviations from its fitted mean")
    episodes = []
    for i, seed in enumerate(seeds):
        episodes.append(audit_episode(agent, env, sim, seed, args.from_step, args.tau, task))
        e = episodes[-1]
        print(f"  {i + 1}/{len(seeds)} seed {seed}: {'success' if e['success'] else 'miss'} "
              f"(final {e['final_distance']:.3f} m) "
              + ", ".join(f"{k} {v:.2f}" for k, v in tally([e]).items() if k not in ("episodes", "decisions") and v is not None),
              flush=True)
    failed = [e for e in episodes if not e["success"]]
    out = {"checkpoint": args.checkpoint, "set": args.set, "episodes": args.episodes, "from_step": args.from_step,
           "far_success_rate": float(np.mean([e["success"] for e in episodes])),
           "goal_input_zscore_max": None if zscores is None else float(zscores.max()),
           "failed": tally(failed), "succeeded": tally([e for e in episodes if e["success"]]),
           "records": [{**{k: v for k, v in e.items() if k != "decisions" or args.decisions}, **tally([e])}
                       for e in episodes]}
    for name in ("failed", "succeeded"):
        t = out[name]
        if t["decisions"]:
            print(f"{name}: {t['episodes']} episodes, {t['decisions']} decisions from step {args.from_step}: "
                  + ", ".join(f"{v} {t[v]:.2f}" for v in VERDICTS)
                  + f"; median regret {t['regret']:.3f}, optimism of the plan {t['optimism_plan']:.3f}"
                  f" and of the servo's {t['optimism_servo']:.3f}"
                  + (f"; the model's error on the servo's plan {100 * t['servo_error_first_m']:.1f} cm after one step, "
                     f"{100 * t['servo_error_last_m']:.1f} cm after the horizon" if t["servo_error_first_m"] is not None else "")
                  + (f"; the servo's predicted end off by {100 * t['servo_end_error']:.1f} cm"
                     f" (the probe's readout; {100 * t['probe_error']:.1f} cm off reading the state itself)"
                     if t["servo_end_error"] is not None else ""))
    if args.json:
        common.write_json(args.json, out, indent=1)


if __name__ == "__main__":
    main()
