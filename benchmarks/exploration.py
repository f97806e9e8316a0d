"""Exploration at equal env steps: random-only exploration against the epistemic term and practice goals.

    python -m benchmarks.exploration --task reach3d_far --steps 30000 --out runs/exploration
    python -m benchmarks.exploration --task reach3d_far --protocol free --out runs/exploration

Every variant trains the same agent (the task's config with a 5-head ensemble in the world
model) for ``--steps`` env steps. ``random``: exploration by random actions, then the task's
planner; ``term``: the collection planner's cost adds ``training.exploration.epistemic_weight`` (the
ensemble's disagreement, sought), falling to 0 over ``--decay`` of the steps; ``practice``:
``training.exploration.practice_goals`` of the planner's episodes pursue a goal at the frontier
(``--frontier``: a replayed observation where the ensemble disagrees most, or in the
least-visited goal cells) and, once there, explore past it with random actions
(``--beyond``, Go-Explore's return-then-explore), or with probability ``--achieve`` a goal
drawn evenly over the visited cells (LEXA's achiever); ``epistemic``: both.

Two protocols. ``env`` (the default): the planner's other episodes pursue the env's goals,
which already spread the data over the goal distribution. ``free`` (LEXA's: the env's goals
are seen only at evaluation): ``random`` explores by random actions for all the steps and
then makes the same number of updates as the others; the other variants practise their own
goals in every planned episode (``practice_goals`` 1).

Writes ``DIR/results.json``, one record per task, protocol and variant: ``task``,
``protocol``, ``variant``, ``env_steps``, ``coverage`` (visited cells of the goal
distribution, ``agent.coverage``), ``success_rate`` and ``far_success_rate`` (on the quarter
of the held-out goals farthest from the start), the options, and
``DIR/coverage_TASK[_free].png`` (coverage over env steps, and each variant's visited cells
seen from above; a 3-D goal space is drawn as the fraction of each column visited). The
variants run two at a time; ``--reuse`` keeps the variants already in ``DIR``.
``--reeval N`` evaluates the trained variants in ``DIR`` again on N held-out goals (the
same seeds, first N), with ``eval_N.json`` next to their ``eval.json``, and reports those:
a far quarter of 50 goals is 12 of them, one goal 0.08.

    python -m benchmarks.exploration --task reach3d_far --out runs/exploration --variants random term \
        practice epistemic --reuse --reeval 200
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks import common
from benchmarks.common import ROOT

TASKS = {**common.TASKS, "pointmaze_large": "configs/pointmaze_large_explore.yaml"}
EPISODES = {"pointmaze_large": 20}  # evaluation episodes (800 steps each there); 50 elsewhere
VARIANTS = ("random", "term", "practice", "epistemic")
REFIT_LR = 3e-4  # --refit-lr by default: Agent.refit_predictor's own default learning rate


def run_name(task: str, protocol: str, variant: str) -> str:
    return f"{task}_{variant}" if protocol == "env" else f"{task}_{protocol}_{variant}"


def train_variant(args: argparse.Namespace, out: Path) -> None:
    """One variant's run, in this process (the parent starts one process per variant)."""
    from jepa_agent.configurator.loading import apply_overrides

    variant, free = args.variant, args.protocol == "free"
    over: dict = {"world_model.ensemble_heads": 5, "seed": args.seed}
    if variant in ("term", "epistemic"):
        over |= {"training.exploration.epistemic_weight": args.weight,
                 "training.exploration.epistemic_decay_steps": int(args.decay * args.steps)}
    if variant in ("practice", "epistemic") or (free and variant != "random"):
        over |= {"training.exploration.practice_goals": 1.0 if free else args.practice,
                 "training.exploration.practice_frontier": args.frontier, "training.exploration.practice_explore": args.beyond == "on",
                 "training.exploration.practice_achieve": args.achieve}
    if free and variant == "random":
        over |= {"training.random_steps": args.steps}
    base = common.task_config(TASKS[args.task], args.set)
    config = apply_overrides(base, over)
    episodes = args.episodes or EPISODES.get(args.task, 50)
    with common.trained(config, out, args.steps, episodes=episodes) as (run, _):
        if free and variant == "random":  # as many updates as the planner's variants make
            tcfg = base.training
            updates = tcfg.pretrain_updates + int(tcfg.updates_per_step * max(0, args.steps - tcfg.random_steps))
            common.train_on(run.agent, updates, adapt=True)
            run.agent.save(out / "checkpoint.safetensors", resume=True)  # the agent evaluated (and --reeval'd), updates included
        run.evaluate()
        cov = run.agent.coverage
        if cov is not None:  # the visited region, for the figure
            centres = cov.cell_centres()
            (out / "coverage_cells.json").write_text(json.dumps({
                "centres": centres.tolist(), "visits": cov.visits(centres).tolist(), "width": cov.width.tolist(),
                "start": np.asarray(run.eval_env.reset(seed=0)[0]["achieved_goal"]).tolist(),
            }))


def reevaluate(run: Path, episodes: int, file: str, overrides: list[str] = (), more_updates: int = 0,
               more_lr: float = 1.0, refit_predictor: int = 0, refit_lr: float = REFIT_LR) -> None:
    """Evaluate a trained variant's checkpoint on ``episodes`` held-out goals (the seeds the
    run's own evaluation began with) and write ``run/file``; ``overrides`` (``KEY=VALUE``)
    change its task for this evaluation (its replay is loaded with them: a route needs it);
    ``more_updates`` trains every module that many more steps on the run's replay first, at
    its learning rates times ``more_lr``; ``refit_predictor`` fits the world model's predictor
    alone that many steps at ``refit_lr`` in the target encoder's space (``Agent.refit_predictor``),
    after them. ``world_model.options.*`` overrides go to the world model instead (options that
    keep its weights: ``Agent.load``'s ``world_model_options``)."""
    from jepa_agent.agent.agent import Agent
    from jepa_agent.agent.app.run import EVAL_SEED, evaluate_agent, make_env
    from jepa_agent.configurator.loading import split_world_model_options

    wm_options, overrides = split_world_model_options(overrides)
    agent = Agent.load(run / "checkpoint.safetensors", resume=bool(overrides) or more_updates > 0 or refit_predictor > 0,
                       world_model_options=wm_options)
    _, more_s = common.train_on(agent, more_updates, lr_scale=more_lr)
    refit = agent.refit_predictor(refit_predictor, refit_lr) if refit_predictor else {}
    env = make_env(agent.config)
    if overrides:  # the task changes here; evaluate_agent sets each episode's goal
        task = common.task_with(agent.config, overrides)
        _, info = env.reset(seed=0)
        goal = info.get("goal_observation") or env.unwrapped.goal_observation() if agent.goal_kind == "observation" else None
        agent.reset(task, goal=goal)
    try:
        result, _ = evaluate_agent(agent, env, episodes, EVAL_SEED + agent.config.seed)
    finally:
        env.close()
    summary = {"env_steps": agent.env_steps, "episodes": episodes,
               **{k: result[k] for k in ("success_rate", "success_rate_final", "success_rate_any", "act_ms_median")},
               "train_wall_s": json.loads((run / "eval.json").read_text()).get("train_wall_s"),
               "more_updates": more_updates, "more_lr": more_lr, "more_updates_s": more_s,
               "refit_predictor": refit_predictor, "refit_lr": refit_lr, **refit, "records": result["records"]}
    common.write_json(run / file, summary, indent=1)


def draw_region(ax, cells: dict, title: str) -> None:
    """The support's cells seen from above (x, y; a 3-D goal space is projected: a column is
    drawn as the fraction of its cells visited), coloured by whether they were visited."""
    from matplotlib.patches import Rectangle

    centres, visits = np.asarray(cells["centres"]), np.asarray(cells["visits"])
    w = np.asarray(cells["width"][:2])
    columns: dict[tuple, tuple[np.ndarray, list]] = {}
    for c, v in zip(centres[:, :2], visits > 0, strict=True):
        columns.setdefault(tuple(np.floor(c / w).astype(int)), (c, []))[1].append(v)
    for c, vs in columns.values():
        frac = float(np.mean(vs))
        ax.add_patch(Rectangle(tuple(c - w / 2), w[0], w[1], facecolor=(1 - frac, 0.35 + 0.4 * frac, 1 - 0.6 * frac),
                               edgecolor="white", linewidth=0.5))
    start = np.asarray(cells["start"])
    ax.plot(start[0], start[1], "k*", markersize=10)
    ax.set(title=title, aspect="equal")
    ax.autoscale_view()


def far_quarter(task: str, records: list[dict]) -> float:
    """Success on the quarter of the evaluation episodes whose goal is farthest from the start."""
    from jepa_agent.agent.environments import make_env

    env = make_env(common.task_config(TASKS[task]))
    far = common.far_quarter(common.goal_distances(env, [r["seed"] for r in records]))
    env.close()
    return float(np.mean([records[i]["success"] for i in far]))


def coverage_curve(run: Path) -> list[tuple[int, float]]:
    eps = json.loads((run / "history.json").read_text())["episodes"]
    return [(e["env_steps"], e["coverage"]) for e in eps if "coverage" in e]


def main(argv: Sequence[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    p = common.parser(__doc__)
    p.add_argument("--task", choices=list(TASKS), default="reach3d_far")
    p.add_argument("--protocol", choices=("env", "free"), default="env",
                   help="env: the planner also pursues the env's goals; free: only its own (LEXA's protocol)")
    p.add_argument("--steps", type=int, default=30_000)
    p.add_argument("--out", required=True)
    p.add_argument("--weight", type=float, default=-10.0, help="training.exploration.epistemic_weight of the term variants")
    p.add_argument("--decay", type=float, default=0.5, help="fraction of the steps over which the weight falls to 0")
    p.add_argument("--practice", type=float, default=0.5,
                   help="training.exploration.practice_goals of the practice variants (1 with --protocol free)")
    p.add_argument("--frontier", choices=("disagreement", "sparse"), default="sparse",
                   help="training.exploration.practice_frontier of the practice variants")
    p.add_argument("--achieve", type=float, default=0.0,
                   help="training.exploration.practice_achieve of the practice variants: the fraction of practice goals drawn "
                        "evenly over the visited cells (LEXA's achiever) instead of at the frontier")
    p.add_argument("--beyond", choices=("on", "off"), default="on",
                   help="training.exploration.practice_explore of the practice variants: random actions once the goal is reached")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=["random", "epistemic"])
    p.add_argument("--parallel", type=int, default=2)
    p.add_argument("--reuse", action="store_true", help="keep the variants whose run is already in --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--episodes", type=int, help="evaluation episodes (default 50; 20 on the maze)")
    p.add_argument("--reeval", type=int, metavar="N",
                   help="evaluate the variants already trained in --out again on N held-out goals (implies --reuse)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides for every variant")
    p.add_argument("--eval-set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="with --reeval: task overrides for the re-evaluation only (e.g. task.route=true; the "
                        "checkpoint's replay is loaded with it) or world model options that keep its weights "
                        "(world_model.options.ensemble_mix=0.5), written as eval_N_TAG.json")
    p.add_argument("--eval-tag", default="set", help="TAG of the --eval-set re-evaluation's file")
    p.add_argument("--more-updates", type=int, default=0, metavar="M",
                   help="with --reeval: M more updates of every module on the variant's own replay before it is "
                        "evaluated (the same env steps, trained longer), written as eval_N_moreM.json")
    p.add_argument("--more-lr", type=float, default=1.0, metavar="F",
                   help="with --more-updates: those updates at the learning rates times F (eval_N_moreM_lrF.json)")
    p.add_argument("--refit-predictor", type=int, default=0, metavar="R",
                   help="with --reeval: R steps fitting the world model's predictor alone in the target encoder's "
                        "space (Agent.refit_predictor) before it is evaluated, written as eval_N_refitR.json; "
                        "pair it with --eval-set world_model.options.plan_encoder=target")
    p.add_argument("--refit-lr", type=float, default=REFIT_LR, help="with --refit-predictor: its Adam learning rate")
    p.add_argument("--variant", help=argparse.SUPPRESS)  # internal: run one variant in this process
    args = p.parse_args(argv)
    if not args.more_lr > 0 or (args.more_lr != 1.0 and not args.more_updates):
        raise SystemExit(f"--more-lr must be > 0 and goes with --more-updates; got {args.more_lr}")
    if args.refit_predictor < 0 or not args.refit_lr > 0:
        raise SystemExit(f"--refit-predictor must be >= 0 and --refit-lr > 0; got {args.refit_predictor}, {args.refit_lr}")
    out = Path(args.out).resolve()
    name = lambda variant: run_name(args.task, args.protocol, variant)  # noqa: E731
    if args.variant:
        common.setup(flush_denormal=True)
        train_variant(args, out / name(args.variant))
        return
    common.setup()
    out.mkdir(parents=True, exist_ok=True)
    if args.reeval is not None:
        args.reuse = True
        missing = [v for v in args.variants if not (out / name(v) / "checkpoint.safetensors").is_file()]
        if missing or args.reeval < 4:
            raise SystemExit(f"--reeval needs N >= 4 and trained variants in {out}; got N={args.reeval}, "
                             f"without a checkpoint: {missing}")
    kept = [v for v in args.variants if args.reuse and (out / name(v) / "eval.json").is_file()]
    pending, running = [v for v in args.variants if v not in kept], []
    while pending or running:
        while pending and len(running) < args.parallel:
            variant = pending.pop(0)
            cmd = [sys.executable, "-m", "benchmarks.exploration", *argv, "--variant", variant]
            log = open(out / f"{name(variant)}.log", "w")
            running.append((variant, subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log)))
        variant, proc = running.pop(0)
        if proc.wait() != 0:
            raise SystemExit(f"exploration: {variant} failed; see {out / f'{name(variant)}.log'}")

    eval_file = "eval.json" if args.reeval is None else f"eval_{args.reeval}.json"
    if args.eval_set:
        if args.reeval is None:
            raise SystemExit("--eval-set goes with --reeval N")
        eval_file = f"eval_{args.reeval}_{args.eval_tag}.json"
    if args.more_updates:
        if args.reeval is None:
            raise SystemExit("--more-updates goes with --reeval N")
        eval_file = eval_file.replace(".json", f"_more{args.more_updates}.json")
        if args.more_lr != 1.0:
            eval_file = eval_file.replace(".json", f"_lr{args.more_lr:g}.json")
    if args.refit_predictor:
        if args.reeval is None:
            raise SystemExit("--refit-predictor goes with --reeval N")
        eval_file = eval_file.replace(".json", f"_refit{args.refit_predictor}.json")
        if args.refit_lr != REFIT_LR:
            eval_file = eval_file.replace(".json", f"_rlr{args.refit_lr:g}.json")
    for variant in args.variants if args.reeval is not None else ():
        if not (out / name(variant) / eval_file).is_file():
            reevaluate(out / name(variant), args.reeval, eval_file, args.eval_set, args.more_updates, args.more_lr,
                       args.refit_predictor, args.refit_lr)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jepa_agent.configurator.loading import load_config

    shown = [v for v in VARIANTS if (out / name(v) / "coverage_cells.json").is_file()]
    fig, axes = plt.subplots(1, 1 + len(shown), figsize=(6 + 4 * len(shown), 4), squeeze=False)
    ax = axes[0, 0]
    for k, variant in enumerate(shown):
        cells = json.loads((out / name(variant) / "coverage_cells.json").read_text())
        draw_region(axes[0, k + 1], cells, f"{variant}: visited cells (green; * start)")
    records = []
    for variant in VARIANTS:
        run = out / name(variant)
        if not (run / "eval.json").is_file():
            continue
        covered = coverage_curve(run)
        ax.plot([c[0] for c in covered], [c[1] for c in covered], label=variant)
        if variant not in args.variants:
            continue
        summary = json.loads((run / eval_file).read_text())
        tcfg = load_config(run / "config.yaml").training
        records.append({
            "task": args.task, "protocol": args.protocol, "variant": variant, "env_steps": summary["env_steps"],
            "coverage": covered[-1][1] if covered else None, "success_rate": summary["success_rate"],
            "far_success_rate": far_quarter(args.task, summary["records"]), "seed": args.seed,
            "epistemic_weight": tcfg.exploration.epistemic_weight, "epistemic_decay_steps": tcfg.exploration.epistemic_decay_steps,
            "practice_goals": tcfg.exploration.practice_goals, "practice_frontier": tcfg.exploration.practice_frontier,
            "practice_explore": tcfg.exploration.practice_explore, "practice_achieve": tcfg.exploration.practice_achieve,
            "probe_encoder_weight": tcfg.probe_encoder_weight,
            "train_wall_s": summary.get("train_wall_s"), "eval_set": args.eval_set,
            "more_updates": summary.get("more_updates", 0), "more_lr": summary.get("more_lr", 1.0),
            "refit_predictor": summary.get("refit_predictor", 0), "refit_lr": summary.get("refit_lr", REFIT_LR),
        })
        r = records[-1]
        print(f"{args.task} {args.protocol} {variant:9s}: coverage {r['coverage']:.3f}  success {r['success_rate']:.2f}  "
              f"far-quarter success {r['far_success_rate']:.2f}")
    ax.set(xlabel="env steps", ylabel="goal-space coverage", title=f"{args.task} ({args.protocol}): coverage",
           ylim=(0, 1))
    ax.legend()
    fig.tight_layout()
    png = out / f"coverage_{args.task}{'' if args.protocol == 'env' else '_' + args.protocol}.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    previous = json.loads((out / "results.json").read_text()) if (out / "results.json").is_file() else []
    keep = [r for r in previous if not (r["task"] == args.task and r.get("seed") == args.seed
                                        and r.get("protocol", "env") == args.protocol
                                        and r["variant"] in args.variants
                                        and r.get("eval_set", []) == args.eval_set
                                        and r.get("more_updates", 0) == args.more_updates
                                        and r.get("more_lr", 1.0) == args.more_lr
                                        and r.get("refit_predictor", 0) == args.refit_predictor
                                        and r.get("refit_lr", REFIT_LR) == args.refit_lr)]
    common.write_json(out / "results.json", keep + records)
    print(f"wrote {out / 'results.json'}, {png}")


if __name__ == "__main__":
    main()
