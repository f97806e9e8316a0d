"""What a controller that knows the goal's joints does on a reach task's held-out goals.

    python -m benchmarks.reach_reference --task reach3d_far --episodes 200 --json runs/reach_reference.json

A reference for the agents measured on the same goals (``benchmarks.exploration``): a
joint-space servo that reads the goal configuration from the env (``goal_qpos``), which no
agent sees, and commands each joint's velocity toward it, ``clip((q_goal - q) / (tau *
vmax), -1, 1)`` (the shortest way round on a joint without limits). Success is the env's
(the final step within ``success_threshold``), over the same evaluation seeds as the agents
and on the same far quarter (the quarter of the goals farthest from the start). The servo
runs through the library's one episode loop (``agent.loops.evaluate``). It says
whether the episode leaves time for the far goals and when an arm moving straight in joint
space arrives: ``arrival`` is the first step within the threshold. Velocity-servoed reach envs only.

``--compare EVAL.json ...`` (an agent's evaluation on the same seeds: ``eval.json`` or
``eval_N*.json`` of a run, records with ``seed``, ``success``, ``success_any`` and
``final_distance``) splits each agent's far-quarter success by how late the servo arrives at
the same goal (the goals that need most of the episode at full speed apart from the rest),
and says how its far misses ended: within the threshold earlier and left, or never; how far
off at the end.

    python -m benchmarks.reach_reference --task reach3d_far --compare runs/explore/*/eval_200.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common


def servo_action(u, tau: float) -> np.ndarray:
    """The servo's action in the reach env ``u`` (unwrapped) now: each joint's velocity toward
    the goal's, ``clip((q_goal - q) / (tau * vmax), -1, 1)``, the shortest way round on a joint
    without limits."""
    err = u.goal_qpos - u.data.qpos
    unlimited = ~u.model.jnt_limited.astype(bool)
    err[unlimited] = (err[unlimited] + np.pi) % (2 * np.pi) - np.pi
    return np.clip(err / (tau * u.vmax), -1.0, 1.0).astype(np.float32)


def servo_episodes(env: Any, episodes: int, seed: int, tau: float) -> list[dict[str, Any]]:
    """``episodes`` episodes of the joint-space servo in ``env`` (episode ``i`` reset with
    ``seed + i``) through the library's one episode loop: each one's start-to-goal distance,
    success at the last step and at any, arrival (the first step within the threshold) and
    final distance."""
    from jepa_agent.agent.loops import PolicyController, evaluate

    u = env.unwrapped
    seen: dict[int, dict[str, Any]] = {}

    def on_step(_controller: Any, view: Any) -> None:
        ep = seen.setdefault(view.episodes[0], {"distances": []})
        if not ep["distances"]:  # the episode's first observation
            ep["start"] = float(np.linalg.norm(view.obs["desired_goal"][0] - view.obs["achieved_goal"][0]))
        ep["distances"].append(float(view.step.infos[0]["distance"]))

    servo = PolicyController(lambda _obs: servo_action(u, tau)[None])  # (1, A): it reads the env, not the obs
    result = evaluate(servo, env, episodes, seed=seed, on_step=on_step)
    records = []
    for i, r in enumerate(result["records"]):
        d = np.asarray(seen[i]["distances"])
        reached = d < u.success_threshold
        records.append({"seed": r["seed"], "start_distance": seen[i]["start"], "success": bool(reached[-1]),
                        "success_any": bool(reached.any()),
                        "arrival": int(np.argmax(reached)) if reached.any() else None, "final_distance": float(d[-1])})
    return records


def summary(records: list[dict]) -> dict:
    arrivals = [r["arrival"] for r in records if r["arrival"] is not None]
    return {"success_rate": float(np.mean([r["success"] for r in records])),
            "success_any": float(np.mean([r["success_any"] for r in records])),
            "arrival_median": float(np.median(arrivals)) if arrivals else None,
            "arrival_max": int(max(arrivals)) if arrivals else None}


def misses(records: list[dict], threshold: float) -> dict:
    """How an agent's missed episodes (``success`` false) ended: how many had been within the
    threshold at some step and left (``success_any``), their final distances' median, and how
    many ended within twice the threshold (near misses)."""
    missed = [r for r in records if not r["success"]]
    if missed and not all("success_any" in r and "final_distance" in r for r in missed):
        raise SystemExit("the records need success_any and final_distance (an evaluation by Agent.evaluate)")
    final = [float(r["final_distance"]) for r in missed]
    return {"misses": len(missed), "misses_touched": sum(bool(r["success_any"]) for r in missed),
            "miss_final_distance_median": float(np.median(final)) if final else None,
            "misses_within_2x": sum(d < 2 * threshold for d in final)}


def compare(records: list[dict], far: list[dict], files: list[str], bins: list[int], threshold: float) -> list[dict]:
    """Each agent's success on the far quarter, by the servo's arrival step (``bins``: edges),
    and how its misses there ended (:func:`misses`; ``threshold``: the env's success radius)."""
    edges = [0, *bins, 10**9]
    arrival = {r["seed"]: (r["arrival"] if r["arrival"] is not None else 10**8) for r in records}
    rows = []
    for file in files:
        given = {r["seed"]: r for r in json.loads(Path(file).read_text())["records"]}
        agent = {s: bool(r["success"]) for s, r in given.items()}
        missing = [r["seed"] for r in far if r["seed"] not in agent]
        if missing:
            raise SystemExit(f"{file} has no episode with seed {missing[0]} (of the far quarter's {len(far)}): "
                             "evaluate the agent on at least as many goals, same config seed")
        row = {"file": file, "far_success_rate": float(np.mean([agent[r["seed"]] for r in far])),
               **misses([given[r["seed"]] for r in far], threshold), "by_arrival": []}
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            seeds = [r["seed"] for r in far if lo <= arrival[r["seed"]] < hi]
            row["by_arrival"].append({"from": lo, "to": hi if hi < 10**9 else None, "goals": len(seeds),
                                      "success_rate": float(np.mean([agent[s] for s in seeds])) if seeds else None})
        rows.append(row)
        parts = ", ".join(f"{b['from']}-{b['to'] - 1 if b['to'] else ''}: {b['success_rate']:.2f} of {b['goals']}"
                          for b in row["by_arrival"] if b["goals"])
        print(f"  {file}: far quarter {row['far_success_rate']:.2f}; by the servo's arrival step {parts}")
        if row["misses"]:
            print(f"    {row['misses']} misses: {row['misses_touched']} were within the threshold earlier and left; "
                  f"final distance median {row['miss_final_distance_median']:.3f}, "
                  f"{row['misses_within_2x']} within twice the threshold")
    return rows


def main() -> None:
    p = common.parser(__doc__, json_out="optional")
    p.add_argument("--task", choices=list(common.TASKS), default="reach3d_far")
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--tau", type=float, default=0.04, help="servo time constant (s): velocity = error / tau, clipped")
    p.add_argument("--seed", type=int, default=0, help="the agents' config seed (evaluation seeds start at EVAL_SEED + seed)")
    p.add_argument("--compare", nargs="+", default=[], metavar="EVAL_JSON",
                   help="agents' evaluations on the same seeds: far-quarter success by the servo's arrival step")
    p.add_argument("--bins", nargs="+", type=int, default=[30, 35], help="arrival-step edges for --compare")
    args = p.parse_args()
    if not args.tau > 0 or args.episodes < 4:
        raise SystemExit(f"--tau must be > 0 and --episodes >= 4; got {args.tau} and {args.episodes}")
    common.setup()

    from jepa_agent.agent.app.run import EVAL_SEED
    from jepa_agent.agent.environments import make_env

    env = make_env(common.task_config(args.task))
    if getattr(env.unwrapped, "control", "velocity") != "velocity":
        raise SystemExit(f"the servo commands joint velocities; {args.task} has control={env.unwrapped.control!r}")
    records = servo_episodes(env, args.episodes, EVAL_SEED + args.seed, args.tau)
    threshold = float(env.unwrapped.success_threshold)
    env.close()
    far = [records[i] for i in common.far_quarter([r["start_distance"] for r in records])]
    out = {"task": args.task, "episodes": args.episodes, "tau": args.tau, **summary(records),
           "far": summary(far), "records": records}
    print(f"{args.task} servo (tau {args.tau} s), {args.episodes} goals: success {out['success_rate']:.2f}, "
          f"far quarter {out['far']['success_rate']:.2f}; far arrival median {out['far']['arrival_median']:.0f}, "
          f"max {out['far']['arrival_max']} of the episode's steps")
    if args.compare:
        out["compare"] = compare(records, far, args.compare, args.bins, threshold)
    if args.json:
        common.write_json(args.json, out, indent=1)


if __name__ == "__main__":
    main()
