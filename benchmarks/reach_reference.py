"""What a controller that knows the goal's joints does on a reach task's held-out goals.

    python benchmarks/reach_reference.py --task reach3d_far --episodes 200 --json runs/reach_reference.json

A reference for the agents measured on the same goals (``benchmarks/exploration.py``): a
joint-space servo that reads the goal configuration from the env (``goal_qpos``), which no
agent sees, and commands each joint's velocity toward it, ``clip((q_goal - q) / (tau *
vmax), -1, 1)`` (the shortest way round on a joint without limits). Success is the env's
(the final step within ``success_threshold``), over the same evaluation seeds as the agents
and on the same far quarter (the quarter of the goals farthest from the start). It says
whether the episode leaves time for the far goals and when an arm moving straight in joint
space arrives: ``arrival`` is the first step within the threshold. Velocity-servoed reach envs only.

``--compare EVAL.json ...`` (an agent's evaluation on the same seeds: ``eval.json`` or
``eval_N*.json`` of a run, records with ``seed``, ``success``, ``success_any`` and
``final_distance``) splits each agent's far-quarter success by how late the servo arrives at
the same goal (the goals that need most of the episode at full speed apart from the rest),
and says how its far misses ended: within the threshold earlier and left, or never; how far
off at the end.

    python benchmarks/reach_reference.py --task reach3d_far --compare runs/explore/*/eval_200.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MUJOCO_GL", "egl")
TASKS = {"reach2d": "configs/reach2d.yaml", "reach3d": "configs/reach3d.yaml", "reach3d_far": "configs/reach3d_far.yaml"}


def servo_action(u, tau: float) -> np.ndarray:
    """The servo's action in the reach env ``u`` (unwrapped) now: each joint's velocity toward
    the goal's, ``clip((q_goal - q) / (tau * vmax), -1, 1)``, the shortest way round on a joint
    without limits."""
    err = u.goal_qpos - u.data.qpos
    unlimited = ~u.model.jnt_limited.astype(bool)
    err[unlimited] = (err[unlimited] + np.pi) % (2 * np.pi) - np.pi
    return np.clip(err / (tau * u.vmax), -1.0, 1.0).astype(np.float32)


def servo_episode(env, seed: int, tau: float) -> dict:
    """One episode of the joint-space servo; its start-to-goal distance, success and arrival."""
    u = env.unwrapped
    obs, _ = env.reset(seed=seed)
    start_distance = float(np.linalg.norm(obs["desired_goal"] - obs["achieved_goal"]))
    distances = []
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(servo_action(u, tau))
        distances.append(float(info["distance"]))
        done = terminated or truncated
    d = np.asarray(distances)
    reached = d < u.success_threshold
    return {"seed": seed, "start_distance": start_distance, "success": bool(reached[-1]),
            "success_any": bool(reached.any()), "arrival": int(np.argmax(reached)) if reached.any() else None,
            "final_distance": float(d[-1])}


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
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", choices=list(TASKS), default="reach3d_far")
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--tau", type=float, default=0.04, help="servo time constant (s): velocity = error / tau, clipped")
    p.add_argument("--seed", type=int, default=0, help="the agents' config seed (evaluation seeds start at EVAL_SEED + seed)")
    p.add_argument("--compare", nargs="+", default=[], metavar="EVAL_JSON",
                   help="agents' evaluations on the same seeds: far-quarter success by the servo's arrival step")
    p.add_argument("--bins", nargs="+", type=int, default=[30, 35], help="arrival-step edges for --compare")
    p.add_argument("--json", help="write the summary and the records here")
    args = p.parse_args()
    if not args.tau > 0 or args.episodes < 4:
        raise SystemExit(f"--tau must be > 0 and --episodes >= 4; got {args.tau} and {args.episodes}")

    from jepa_agent.agent.app.run import EVAL_SEED
    from jepa_agent.agent.environments import make_env
    from jepa_agent.configurator.loading import load_config

    env = make_env(load_config(ROOT / TASKS[args.task]))
    if getattr(env.unwrapped, "control", "velocity") != "velocity":
        raise SystemExit(f"the servo commands joint velocities; {args.task} has control={env.unwrapped.control!r}")
    records = [servo_episode(env, EVAL_SEED + args.seed + i, args.tau) for i in range(args.episodes)]
    threshold = float(env.unwrapped.success_threshold)
    env.close()
    far = sorted(records, key=lambda r: r["start_distance"])[-max(1, len(records) // 4):]
    out = {"task": args.task, "episodes": args.episodes, "tau": args.tau, **summary(records),
           "far": summary(far), "records": records}
    print(f"{args.task} servo (tau {args.tau} s), {args.episodes} goals: success {out['success_rate']:.2f}, "
          f"far quarter {out['far']['success_rate']:.2f}; far arrival median {out['far']['arrival_median']:.0f}, "
          f"max {out['far']['arrival_max']} of the episode's steps")
    if args.compare:
        out["compare"] = compare(records, far, args.compare, args.bins, threshold)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
