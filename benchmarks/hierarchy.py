"""Flat against hierarchical planning on the same trained world model, at equal time per action.

    python -m benchmarks.hierarchy --task pointmaze_medium --out runs/hierarchy
    python -m benchmarks.hierarchy --out runs/hierarchy              # every task

For each task: train one agent with a two-level world model (the task's config, ``--steps``
env steps; ``--checkpoint`` reuses a trained one), then run the same 50 held-out detour
pairs (seeded) with each planner, both under the same ``--ms`` deadline per action. Tasks:
PointMaze Medium and Large (``envs.maze_pairs``: start and goal cells whose straight line
is blocked by a wall) and ``reach2d_wall`` (Reach2D with a wall the links touch: start and
goal on either side of it, ``Reach2DEnv.detour_pairs``). Planners:

- ``flat``: the fine planner alone (the hierarchical config's ``low`` spec) toward the goal;
- ``hierarchical``: the task's hierarchical planner (subgoals from the coarse level).

An episode succeeds when the env reports success at any step (it then stops). Writes
``DIR/results.json`` (one record per task and planner: ``task``, ``planner``,
``success_rate``, ``mean_steps_to_goal`` (over successes), ``act_ms_median``, ``episodes``,
the training's ``train_env_steps`` and ``train_wall_s``), ``DIR/results.csv``, and
``DIR/TASK_episodes.png`` (6 episodes per planner: the path taken and, for the hierarchical
planner, its subgoals read out through the probe).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common

TASKS = {"pointmaze_medium": "configs/pointmaze_medium_hier.yaml", "pointmaze_large": "configs/pointmaze_large_hier.yaml",
         "reach2d_wall": "configs/reach2d_wall_hier.yaml"}
STEPS = {"pointmaze_medium": 50_000, "pointmaze_large": 100_000, "reach2d_wall": 30_000}


def evaluation_pairs(env: Any, n: int, seed: int) -> list[dict[str, Any]]:
    """The held-out detour pairs as reset options: maze cells (start and goal cells with a
    wall on the straight line between them) or arm configurations (either side of the wall)."""
    from jepa_agent.envs.maze_pairs import detour_pairs

    maze = getattr(env.unwrapped, "maze", None)
    if maze is not None:
        return [{"reset_cell": np.array(a), "goal_cell": np.array(b)}
                for a, b in detour_pairs(maze.maze_map, n, seed=seed)]
    return [{"qpos": a, "goal_qpos": b} for a, b in env.unwrapped.detour_pairs(n, seed=seed)]


def fill(spec: dict, iterations: int) -> dict:
    """A planner spec whose iterations (where it has them) only the deadline stops."""
    from jepa_agent.configurator import PLANNERS, config_class_of

    fields = config_class_of(PLANNERS.resolve(spec["name"])).model_fields
    options = dict(spec.get("options", {}))
    if "iterations" in fields:
        options["iterations"] = iterations
    return {"name": spec["name"], "options": options}


def train(config: Any, out: Path, steps: int) -> tuple[Path, dict[str, Any]]:
    """Train the task's agent; returns its checkpoint and what the training took."""
    with common.trained(config, out, steps) as (run, info):
        path = run.agent.save(out / "agent.pt", resume=True)  # with the replay: --ablate refits on it
    (out / "training.json").write_text(json.dumps(info, indent=2))  # read back into the records: no provenance
    return path, info


def run_pairs(agent: Any, env: Any, pairs: list, planner: str, task: Any, *, seed: int, max_steps: int) -> list[dict]:
    """One episode per pair (its reset options), the agent configured for ``task`` (its
    planner), each ended at its first success or after ``max_steps`` env steps: the library's
    one episode loop (``agent.loops.evaluate``) with a hook that keeps the path, the
    hierarchical planner's subgoals and the route's landmarks."""
    import torch

    from jepa_agent.agent.loops import evaluate

    hp = None
    seen: dict[int, dict[str, Any]] = {}

    def on_step(agent: Any, view: Any) -> np.ndarray:
        nonlocal hp
        ep = seen.setdefault(view.episodes[0], {"path": [view.obs["achieved_goal"][0].copy()], "subgoals": [],
                                                "ms": [], "route": []})
        if len(ep["ms"]) == 0:
            hp = agent.actor.planner if planner.startswith("hierarchical") else None
            if task.route:  # the landmarks the route passes (its last level is the goal)
                levels = agent.configurator.goal_state()["obs"][:-1]
                key = "desired_goal" if agent.goal_kind == "desired_goal" else "achieved_goal"
                ep["route"] = [lvl[key][0].cpu().numpy().tolist() for lvl in levels]
        ep["ms"].append(view.act_ms)
        if hp is not None and hp.since is not None and int(hp.since[0]) == 1 and agent.probe is not None:
            with torch.no_grad():  # a new subgoal this step: where the probe reads it
                ep["subgoals"].append(agent.probe(hp.subgoal)[0].cpu().numpy())
        ep["path"].append(view.step.ended_obs["achieved_goal"][0].copy())
        ep["goal_xy"] = view.step.ended_obs["desired_goal"][0].tolist()
        info = view.step.infos[0]
        success = bool(info.get("success", info.get("is_success", False)))
        ep["success"] = success
        return np.array([success or view.length[0] >= max_steps])

    result = evaluate(agent, env, len(pairs), seed=seed, task=task, reset_options=pairs, on_step=on_step)
    records = []
    for i, (options, record) in enumerate(zip(pairs, result["records"], strict=True)):
        ep = seen[i]
        records.append({"pair": {k: np.asarray(v).tolist() for k, v in options.items()}, "goal_xy": ep["goal_xy"],
                        "success": ep["success"], "steps": record["length"] if ep["success"] else max_steps,
                        "act_ms_median": float(np.median(ep["ms"])), "path": np.array(ep["path"]).tolist(),
                        "subgoals": np.array(ep["subgoals"]).tolist(), "route": ep["route"]})
    return records


def draw(task: str, env: Any, episodes: dict[str, list], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    maze = getattr(env.unwrapped, "maze", None)
    wall = getattr(env.unwrapped, "wall_angle", None)
    planners = list(episodes)
    fig, axes = plt.subplots(len(planners), 6, figsize=(18, 3.2 * len(planners)), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for row, planner in enumerate(planners):
        for col, ep in enumerate(episodes[planner][:6]):
            ax = axes[row, col]
            ax.set_axis_on()
            for i, line in enumerate(maze.maze_map if maze is not None else []):
                for j, c in enumerate(line):
                    if str(c) == "1":
                        x, y = maze.cell_rowcol_to_xy(np.array([i, j]))
                        s = maze.maze_size_scaling
                        ax.add_patch(Rectangle((x - s / 2, y - s / 2), s, s, color="0.35"))
            if wall is not None:  # the arm's wall, seen from above, and its workspace
                r0, r1 = env.unwrapped.WALL_RADII
                ax.plot([r0 * np.cos(wall), r1 * np.cos(wall)], [r0 * np.sin(wall), r1 * np.sin(wall)], "-",
                        color="0.35", lw=4)
                ax.add_patch(matplotlib.patches.Circle((0, 0), 0.21, fill=False, color="0.7"))
            p = np.array(ep["path"])
            ax.plot(p[:, 0], p[:, 1], "-", color="tab:blue", lw=1.2)
            ax.plot(*p[0], "o", color="tab:green")
            ax.plot(*ep["goal_xy"], "*", color="tab:red", markersize=12)
            if ep["subgoals"]:
                sg = np.array(ep["subgoals"])
                ax.plot(sg[:, 0], sg[:, 1], "x", color="tab:orange", markersize=5)
            if ep.get("route"):
                rt = np.array(ep["route"])
                ax.plot(rt[:, 0], rt[:, 1], "s--", color="tab:purple", markersize=3, lw=0.8)
            ax.set_title(f"{planner}\n{'reached' if ep['success'] else 'missed'} ({ep['steps']} env steps)", fontsize=9)
            ax.set(aspect="equal", xticks=[], yticks=[])
            ax.autoscale_view()
    fig.suptitle(f"{task}: path (blue), start (green), goal (red), subgoals read by the probe (orange), "
                 "route through the replay's landmarks (purple)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    p = common.parser(__doc__, seed=True, threads=1)
    p.add_argument("--task", choices=list(TASKS), nargs="*", help="default: every task")
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, help="training env steps (default: 50k Medium, 100k Large)")
    p.add_argument("--checkpoint", help="a trained agent (one task only): skip training")
    p.add_argument("--pairs", type=int, default=50, help="evaluation pairs per task")
    p.add_argument("--ms", type=float, default=20.0, help="deadline per action for both planners, in ms")
    p.add_argument("--fill", type=int, default=100,
                   help="iterations given to each sampling planner, so that the deadline is what stops it")
    p.add_argument("--max-steps", type=int, help="per episode (default: the env's limit)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides")
    p.add_argument("--ablate", action="store_true",
                   help="also: new subgoals every step; the coarse level refitted on the same replay without its "
                        "latent variable, with the chunk's mean action for a macro-action, and as it was (control)")
    p.add_argument("--refit-updates", type=int, default=5000, help="coarse updates of each --ablate refit")
    p.add_argument("--critic", help="a new critic fitted on the checkpoint's replay before the runs (a registered "
                                    "name, e.g. distance: the temporal distance), saved as DIR/TASK_critic.pt")
    p.add_argument("--critic-updates", type=int, default=10000, help="updates of the --critic fit")
    p.add_argument("--more-updates", type=int, default=0,
                   help="N more updates of every module on the checkpoint's replay before the runs (the model "
                        "trained longer on the same data), saved as DIR/TASK_agent.pt")
    p.add_argument("--route", action="store_true",
                   help="also: each planner following a route of landmarks through the replay (task.route), "
                        "as flat+route and hierarchical+route")
    p.add_argument("--planners", nargs="+", choices=("flat", "hierarchical", "flat+route", "hierarchical+route"),
                   help="run only these (default: flat and hierarchical, and the +route ones with --route)")
    args = p.parse_args(argv)
    common.setup(args.threads, flush_denormal=True)

    from jepa_agent import envs  # noqa: F401  (registers the reach envs)
    from jepa_agent.actor import HierarchicalConfig
    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_env
    from jepa_agent.agent.vector import wrap_env
    from jepa_agent.configurator import ModuleSpec

    tasks = args.task or list(TASKS)
    if args.checkpoint and len(tasks) != 1:
        raise SystemExit("--checkpoint goes with one --task")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sets = common.overrides(args.set)
    routed = args.route or any("route" in name for name in args.planners or ())  # the +route planners run
    records = []
    for task in tasks:
        config = common.task_config(TASKS[task], over={**sets, "seed": args.seed})
        if args.checkpoint:
            ckpt = Path(args.checkpoint)
            info = json.loads((ckpt.parent / "training.json").read_text()) if (ckpt.parent / "training.json").is_file() else {}
        else:
            ckpt, info = train(config, out / task, args.steps or STEPS[task])
        agent = Agent.load(ckpt, resume=args.ablate or bool(args.critic) or routed or args.more_updates > 0)
        if args.more_updates:  # the same replay, more gradient steps
            _, more_s = common.train_on(agent, args.more_updates, every=2000, label=f"{task} more updates:")
            info = {**info, "more_updates": args.more_updates, "more_updates_s": more_s,
                    "updates": info.get("updates", 0) + args.more_updates}
            agent.save(out / f"{task}_agent.pt", resume=True)
        if args.critic:  # a new critic on the same replay and world model
            agent.new_critic(ModuleSpec(name=args.critic, options=config.critic.options if config.critic
                                        and config.critic.name == args.critic else {}), config.task)
            start = time.perf_counter()
            for i in range(args.critic_updates):
                info_c = agent.update_critic()
                if i % 1000 == 0:
                    print(f"{task} critic fit {i}: loss {info_c['critic_loss']:.5f}", flush=True)
            info = {**info, "critic": args.critic, "critic_updates": args.critic_updates,
                    "critic_fit_s": time.perf_counter() - start}
            agent.save(out / f"{task}_critic.pt", resume=True)
        env = wrap_env(make_env(config), config.task.action_repeat)  # steps as the agent trained
        pairs = evaluation_pairs(env, args.pairs, seed=10_000 + args.seed)
        eval_env = make_env(config)  # the loop wraps it as the agent trains (action repeat, step guard)
        max_steps = args.max_steps or env.spec.max_episode_steps
        hier = config.task
        _, h_cfg = hier.planner.resolve("planner")
        assert isinstance(h_cfg, HierarchicalConfig)
        # equal time per action: each planner iterates until the same deadline stops it
        deadline = {"deadline_s": args.ms / 1000}
        low, high = fill(h_cfg.low, args.fill), fill(h_cfg.high, args.fill)
        flat = hier.model_copy(update={"planner": ModuleSpec.model_validate(low),
                                       "actor": hier.actor.model_copy(update=deadline)})
        h_spec = ModuleSpec(name=hier.planner.name, options={**hier.planner.options, "low": low, "high": high})
        hier = hier.model_copy(update={"planner": h_spec, "actor": hier.actor.model_copy(update=deadline)})
        episodes = {}
        runs = [("flat", flat, None), ("hierarchical", hier, None)]
        if routed:
            runs += [("flat+route", flat.model_copy(update={"route": True}), None),
                     ("hierarchical+route", hier.model_copy(update={"route": True}), None)]
        if args.planners:
            runs = [r for r in runs if r[0] in args.planners or r[2] is not None]
        if args.ablate:
            every_step = ModuleSpec(name=h_spec.name, options={**h_spec.options, "replan_every": 1})
            base = config.coarse_world_model
            runs += [
                ("hierarchical", hier.model_copy(update={"planner": every_step}), "new subgoal every step"),
                ("hierarchical", hier, ("refit", base)),
                ("hierarchical", hier, ("no coarse latent variable",
                                        ModuleSpec(name=base.name, options={**base.options, "latent_var_dim": 0}))),
                ("hierarchical", hier, ("chunk mean, no action encoder", ModuleSpec(name=base.name, options={
                    **base.options, "chunk_encoding": "mean", "macro_dim": agent.action_dim}))),
            ]
        for name, spec, ablation in runs:
            if isinstance(ablation, tuple):  # a coarse level refitted on the same replay
                ablation, coarse_spec = ablation
                agent.new_coarse_model(coarse_spec)
                for _ in range(args.refit_updates):
                    info_c = agent.update_coarse()
                print(f"{task} refit ({ablation}): coarse loss {info_c['coarse_pred_loss']:.4f}", flush=True)
            eps = run_pairs(agent, eval_env, pairs, name, spec, seed=2_000_000 + args.seed, max_steps=max_steps)
            if ablation is None:
                episodes[name] = eps
            done = [e for e in eps if e["success"]]
            records.append({
                "task": task, "planner": name, "ablation": ablation, "success_rate": len(done) / len(eps),
                "mean_steps_to_goal": float(np.mean([e["steps"] for e in done])) if done else None,
                "act_ms_median": float(np.median([e["act_ms_median"] for e in eps])), "episodes": len(eps),
                "deadline_ms": args.ms, "max_steps": max_steps, "seed": args.seed, **info,
            })
            r = records[-1]
            print(f"{task} {name:12s} {ablation or '':32s}: success {r['success_rate']:.2f}  steps {r['mean_steps_to_goal']}  "
                  f"act {r['act_ms_median']:.1f} ms", flush=True)
        (out / f"{task}_episodes.json").write_text(json.dumps(episodes))
        draw(task, env, episodes, out / f"{task}_episodes.png")
        env.close()
    previous = json.loads((out / "results.json").read_text()) if (out / "results.json").is_file() else []
    keep = [r for r in previous if not (r["task"] in tasks and r.get("seed") == args.seed)]
    allrec = keep + records
    common.write_json(out / "results.json", allrec)
    with open(out / "results.csv", "w", newline="") as f:
        fields = sorted({k for r in allrec for k in r})
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(allrec)
    print(f"wrote {out / 'results.json'}, {out / 'results.csv'}")


if __name__ == "__main__":
    main()
