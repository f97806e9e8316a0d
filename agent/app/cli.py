"""The ``jepa-agent`` command line (an edge of the library: it may print).

    jepa-agent train --config configs/reach2d.yaml            # = python examples/reach.py
    jepa-agent train --config configs/reach2d.yaml --actor.planner=mppi --actor.samples=512
    jepa-agent eval runs/reach/checkpoint.safetensors --episodes 50 --video 2
    jepa-agent collect --config configs/reach2d.yaml --steps 10000 --out runs/data/replay.npz
    jepa-agent show configs/reach2d.yaml | runs/reach/checkpoint.safetensors | --schema
    jepa-agent bench --planners cem mppi --models oracle
    jepa-agent configs                                         # the shipped configs: --config reacher
    jepa-agent --version

Any config field can be overridden as ``--dotted.key=value`` (see ``configurator/loading.py`` for
the short forms such as ``--actor.planner``); a misspelled key fails before anything runs.
``--config`` takes a file or the name of a config that ships with the package (``--config
reacher``; ``jepa-agent configs`` lists them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jepa_agent import __version__
from jepa_agent.agent.app.console import (
    DEFAULT_THREADS,
    THREADS_HELP,
    _budget,
    _console,
    _setup_logging,
    count,
    eval_progress,
    positive,
    prepare_process,
    progress_bar,
    summary_table,
    train_and_report,
    trust_code_flag,
)
from jepa_agent.agent.app.show import configs_parser, run_configs, run_show, show_parser

if TYPE_CHECKING:  # rich, torch and the modules are imported lazily so `--help` stays fast
    from rich.console import Console


# --------------------------------------------------------------------------- helpers
def _config_from(args: argparse.Namespace, overrides: dict[str, Any]) -> Any:
    """The config file with ``--set`` items and ``--key=value`` overrides; without a file, the
    defaults for the env they name (the reward tasks' recipe for a reward-defined env:
    ``agent.environments.default_config``)."""
    from jepa_agent.agent.environments import default_config
    from jepa_agent.configurator.loading import apply_overrides, load_config, parse_override_tokens

    sets = parse_override_tokens([f"--{item}" for item in getattr(args, "set", []) or []])
    if getattr(args, "config", None):
        return apply_overrides(load_config(args.config), {**sets, **overrides})
    return default_config({**sets, **overrides})


def _checkpoint_config(agent: Any, overrides: dict[str, Any], command: str) -> Any:
    """A loaded agent's config with task overrides (planner, budget, horizon, cost weights);
    anything else would describe modules other than the checkpoint's, so it is refused."""
    from jepa_agent.configurator.loading import ConfigError, apply_overrides

    fixed = [k for k in overrides if not k.startswith(("task.", "actor.", "planner", "cost.", "env"))]
    if fixed:
        raise ConfigError(f"a checkpoint's modules are fixed: only task keys can change in {command}, got {fixed}")
    return apply_overrides(agent.config, overrides)


def _env_name(env_id: str) -> str:
    """The env's name in an id, without its module or namespace: ``my_lab.envs:jepa/Arm-v0`` -> ``Arm-v0``."""
    return env_id.rpartition(":")[2].split("/")[-1]


CONFIG_HELP = "YAML/JSON AgentConfig, or a shipped config's name (jepa-agent configs lists them)"


def _default_out(kind: str, env_id: str) -> Path:
    return Path("runs") / f"{_env_name(env_id)}-{kind}-{time.strftime('%Y%m%d-%H%M%S')}"


# --------------------------------------------------------------------------- train
def train_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = "Train an agent, evaluate it on held-out goals, write a run folder."
    p.add_argument("--config", help=f"{CONFIG_HELP} (default: the reward recipe, configs/reward.yaml, for a reward-defined env; else the built-in defaults)")
    p.add_argument("--out", help="run folder (default runs/<env>-train-<time>)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue a stopped run from its folder, exactly (its config and options; --steps may raise the budget)")
    trust_code_flag(p)
    p.add_argument("--steps", type=positive, help="training env steps in all (default: per env, agent.app.run.DEFAULT_STEPS; 30k for others)")
    p.add_argument("--episodes", type=positive, default=50, help="held-out evaluation episodes")
    p.add_argument("--num-envs", type=positive, default=8, help="envs collected in lockstep")
    p.add_argument("--threads", type=positive, default=DEFAULT_THREADS, help=THREADS_HELP)
    p.add_argument("--log", default="csv", help="metric backends: csv, tensorboard, both (csv,tensorboard) or none")
    p.add_argument("--video", type=count, default=2, metavar="N", help="evaluation episodes recorded to videos/ (0: none)")
    p.add_argument("--no-plan-path", action="store_true", help="do not draw the imagined plan in the videos")
    p.add_argument("--checkpoint-every", type=count, default=0, metavar="STEPS", help="also save checkpoints/step_*.safetensors")
    p.add_argument("--save-every", type=count, default=10_000, metavar="STEPS",
                   help="env steps between resumable saves of checkpoint.safetensors (0: at the end and on Ctrl-C)")
    p.add_argument("--log-every", type=positive, default=1000, metavar="STEPS", help="env steps between metric rows")
    p.add_argument("--eval-env", metavar="ID", help="evaluate on this Gymnasium id (default: the training env)")
    p.add_argument("--dataset", metavar="ID_OR_PATH",
                   help="fill the replay buffer from this Minari dataset first, then train online")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="same as --KEY=VALUE")
    return p


def run_train(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from jepa_agent.agent.app.metrics import parse_backends, require
    from jepa_agent.agent.app.run import Run, RunOptions
    from jepa_agent.configurator.loading import ConfigError

    if args.resume:
        return resume_train(args, overrides)
    config = _config_from(args, overrides)
    try:
        backends = parse_backends(args.log)
    except ValueError as err:
        raise ConfigError(f"--log: {err}") from None
    require(backends)  # a missing tensorboard fails here, before anything runs
    prepare_process(args.threads)
    console = _console()
    _setup_logging(console)
    out = Path(args.out) if args.out else _default_out("train", config.task.env)
    options = RunOptions(
        steps=args.steps, episodes=args.episodes, num_envs=args.num_envs, log=backends,
        videos=args.video, plan_path=not args.no_plan_path, checkpoint_every=args.checkpoint_every,
        save_every=args.save_every, log_every=args.log_every, eval_env=args.eval_env,
    )
    run = Run(config, out, options)
    if args.dataset:
        from jepa_agent.agent.app.dataset import fill_replay, load_minari, require_minari

        require_minari("--dataset")
        added = fill_replay(run.agent.replay, load_minari(args.dataset))
        console.print(f"replay filled from {args.dataset}: {added} steps, {run.agent.replay.num_episodes} episodes")
    train_and_report(run, console, args.threads)
    _report_written(console, out)
    return 0


def resume_train(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    """``train --resume RUN_DIR``: the run's own config and options; only --steps may change."""
    from jepa_agent.agent.app.run import Run
    from jepa_agent.configurator.loading import ConfigError

    given = [f"--{k}" for k in overrides] + (["--config"] if args.config else []) + (["--out"] if args.out else [])
    if given:
        raise ConfigError(f"--resume continues a run with its own config and folder; drop {', '.join(given)}")
    prepare_process(args.threads)
    console = _console()
    _setup_logging(console)
    run = Run.resume(args.resume, steps=args.steps, trust_code=args.trust_code)
    train_and_report(run, console, args.threads)
    _report_written(console, run.out)
    return 0


def _report_written(console: Console, out: Path) -> None:
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and not p.parent.name.endswith(".resume"))
    console.print(f"wrote {out}/: {', '.join(written)}")


# --------------------------------------------------------------------------- eval
def eval_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = "Evaluate a checkpoint on held-out goals; --TASK.KEY=VALUE changes the task (planner, horizon...)."
    p.add_argument("checkpoint", help="checkpoint.safetensors written by train")
    p.add_argument("--episodes", type=positive, default=50)
    p.add_argument("--seed", type=int, help="episode i resets with 1_000_000 + seed + i (default: the checkpoint's seed)")
    p.add_argument("--out", help="folder for eval.json and videos (default: <checkpoint folder>/eval)")
    p.add_argument("--device", help="cpu | cuda | cuda:N (default: the checkpoint's)")
    p.add_argument("--threads", type=positive, default=DEFAULT_THREADS, help=THREADS_HELP)
    p.add_argument("--video", type=count, default=0, metavar="N", help="episodes recorded to videos/")
    p.add_argument("--num-envs", type=positive, default=1,
                   help="envs evaluated at once, one batched plan per step for all (videos need 1)")
    p.add_argument("--no-plan-path", action="store_true")
    trust_code_flag(p)
    return p


def run_eval(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from jepa_agent.agent.agent import Agent
    from jepa_agent.agent.app.run import (
        EVAL_SEED,
        evaluate_agent,
        evaluation_scores,
        make_env,
        random_baseline,
    )
    from jepa_agent.agent.collection import reset_envs
    from jepa_agent.agent.provenance import provenance
    from jepa_agent.configurator.loading import ConfigError

    prepare_process(args.threads)
    console = _console()
    _setup_logging(console)
    agent = Agent.load(args.checkpoint, device=args.device, trust_code=args.trust_code)
    config = _checkpoint_config(agent, overrides, "eval")
    out = Path(args.out) if args.out else Path(args.checkpoint).parent / "eval"
    out.mkdir(parents=True, exist_ok=True)
    if args.num_envs > 1 and args.video > 0:
        raise ConfigError(f"--video records one env; got --num-envs {args.num_envs} (use --num-envs 1 to record)")
    envs = [make_env(config, render=args.video > 0) for _ in range(args.num_envs)]
    env = envs[0] if len(envs) == 1 else envs
    _, goal = reset_envs(agent, envs[:1], 0)
    agent.reset(config.task, goal=goal)  # the (possibly new) planner and horizon
    seed = EVAL_SEED + (config.seed if args.seed is None else args.seed)
    console.print(f"[bold]jepa-agent eval[/] {args.checkpoint} on {config.task.env}: {args.episodes} episodes, "
                  f"planner {config.task.planner.name}, horizon {config.task.actor.horizon}")
    with progress_bar(console) as progress:
        result, videos = evaluate_agent(
            agent, env, args.episodes, seed, videos=args.video, video_dir=out / "videos",
            plan_path=not args.no_plan_path, on_progress=eval_progress(progress, args.episodes),
        )
    baseline = random_baseline(envs[0], args.episodes, seed)
    summary = {
        "checkpoint": str(args.checkpoint),
        "env": config.task.env,
        **evaluation_scores(result, envs[0], baseline),
        "episodes": result["episodes"],
        "env_steps": agent.env_steps,
        "updates": agent.updates,
        "act_ms_median": result["act_ms_median"],
        "act_ms_p90": result["act_ms_p90"],
        "planner": config.task.planner.name,
        "horizon": config.task.actor.horizon,
        "device": str(agent.device),
        "seed": seed - EVAL_SEED,
        **({"videos": [str(p) for p in videos]} if videos else {}),
        "provenance": provenance(agent.device),
        "records": result["records"],
    }
    (out / "eval.json").write_text(json.dumps(summary, indent=2))
    for e in envs:
        e.close()
    console.print(summary_table(summary, f"{config.task.env}: {args.episodes} held-out goals"))
    console.print(f"wrote {out / 'eval.json'}" + "".join(f", {p}" for p in videos))
    return 0


# --------------------------------------------------------------------------- collect
def collect_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = "Run a policy in an env and save the experience as a replay buffer (.npz)."
    p.add_argument("--config", help=f"{CONFIG_HELP}, for the env (with --policy random)")
    p.add_argument("--checkpoint", help="act with this agent (its planner or policy)")
    p.add_argument("--policy", choices=("random", "plan", "policy"),
                   help="random actions, the planner (mode 2) or the mode-1 policy (default: plan with "
                   "--checkpoint, else random)")
    p.add_argument("--steps", type=positive, default=10_000)
    p.add_argument("--num-envs", type=positive, default=8)
    p.add_argument("--exploration-std", type=float, default=0.0, help="action noise, fraction of the half-range")
    p.add_argument("--seed", type=int, help="seed of the first resets and the random actions (default: the config's)")
    p.add_argument("--out", help="replay file (default runs/<env>-collect-<time>/replay.npz); with --format "
                   "minari, the folder the dataset goes in (default: the local Minari store)")
    p.add_argument("--format", choices=("npz", "minari"), default="npz",
                   help="npz: our replay file; minari: a Minari dataset (what pretrain --dataset reads)")
    p.add_argument("--dataset-id", help="the Minari dataset id (default jepa_agent/<env>-<policy>-v0)")
    p.add_argument("--overwrite", action="store_true", help="replace a Minari dataset of the same id")
    p.add_argument("--threads", type=positive, default=DEFAULT_THREADS, help=THREADS_HELP)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="same as --KEY=VALUE")
    trust_code_flag(p)
    return p


def run_collect(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from jepa_agent.agent.agent import Agent
    from jepa_agent.agent.app.run import collect, make_env, make_vector_env, write_provenance
    from jepa_agent.agent.collection import reset_envs
    from jepa_agent.agent.provenance import provenance
    from jepa_agent.configurator.loading import ConfigError

    prepare_process(args.threads)
    console = _console()
    _setup_logging(console)
    if args.checkpoint:
        if args.config:
            raise ConfigError("give --config or --checkpoint, not both (a checkpoint carries its config)")
        agent = Agent.load(args.checkpoint, trust_code=args.trust_code)
        config = _checkpoint_config(agent, overrides, "collect")
    else:
        config = _config_from(args, overrides)
        agent = None
    policy = args.policy or ("plan" if args.checkpoint else "random")
    if policy != "random" and agent is None:
        raise ConfigError(f"--policy {policy} needs --checkpoint (an untrained agent has nothing to plan with)")
    envs = make_vector_env(config, args.num_envs)
    if agent is None:
        agent = Agent.from_config(config, envs)
    elif config.task != agent.task:
        one = make_env(config)
        _, goal = reset_envs(agent, [one], 0)
        one.close()
        agent.reset(config.task, goal=goal)  # the (possibly new) planner and horizon
    minari_id = None
    if args.format == "minari":
        name = _env_name(config.task.env).rsplit("-v", 1)[0].lower()
        minari_id = args.dataset_id or f"jepa_agent/{name}-{policy}-v0"
        out = Path(args.out) if args.out else None
        from jepa_agent.agent.app.dataset import check_dataset_id_option

        check_dataset_id_option(minari_id)
    else:
        out = Path(args.out) if args.out else _default_out("collect", config.task.env) / "replay.npz"
        out.parent.mkdir(parents=True, exist_ok=True)
    seed = config.seed if args.seed is None else args.seed
    where = minari_id if out is None else out
    console.print(f"[bold]jepa-agent collect[/] {args.steps} steps of {policy} on {config.task.env} -> {where}")
    with progress_bar(console) as progress:
        task = progress.add_task("collect", total=args.steps, info="")
        start, t0 = agent.env_steps, time.perf_counter()

        def on_collect(d: dict) -> None:
            sps = (d["env_steps"] - start) / max(time.perf_counter() - t0, 1e-9)
            info = f"{sps:5.0f} steps/s  success {d['success']:.2f}  {d['episodes']} episodes"
            progress.update(task, completed=d["env_steps"] - start, info=info)

        replay = collect(agent, envs, args.steps, policy=policy, exploration_std=args.exploration_std,
                         seed=seed, on_progress=on_collect)
    if minari_id is not None:
        from jepa_agent.agent.app.dataset import write_minari

        written = write_minari(
            replay, minari_id, observation_space=envs.single_observation_space, action_space=envs.single_action_space,
            env_id=config.task.env, path=out, author="jepa-agent collect", overwrite=args.overwrite,
            description=f"{args.steps} steps of {policy} actions on {config.task.env} (seed {seed})",
        )
        console.print(f"wrote Minari dataset {minari_id} at {written}: {replay.num_episodes} episodes, "
                      f"{replay.num_steps} steps (pretrain --dataset {written})")
    else:
        replay.save(out)
        console.print(f"wrote {out}: {replay.num_episodes} episodes, {replay.num_steps} steps")
        if not args.out:  # the run folder is ours (a given --out may be any folder): say what made it
            write_provenance(out.parent / "provenance.json", provenance(agent.device))
    envs.close()
    return 0


# --------------------------------------------------------------------------- pretrain
def pretrain_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = (
        "Train the world model, critic, policy and probe offline on a Minari dataset (no env step), then "
        "evaluate zero-shot on held-out goals. Under torchrun each process trains on its shard of the data."
    )
    p.add_argument("--dataset", required=True, metavar="ID_OR_PATH", help="a Minari dataset folder or a local id")
    p.add_argument("--config", help=f"{CONFIG_HELP} (default: the reward recipe, configs/reward.yaml, for a reward-defined env; else the built-in defaults)")
    p.add_argument("--steps", type=positive, default=5000, help="gradient updates (each on training.batch_size windows)")
    p.add_argument("--out", help="run folder (default runs/<env>-pretrain-<time>)")
    p.add_argument("--episodes", type=count, default=50, help="held-out evaluation episodes (0: none)")
    p.add_argument("--num-envs", type=positive, default=1, help="envs evaluated at once")
    p.add_argument("--shards", type=positive,
                   help="one process: draw each batch as this many ranks would (default: the number of processes)")
    p.add_argument("--seed", type=int, help="seed of the batches and the evaluation (default: the config's)")
    p.add_argument("--threads", type=positive, default=DEFAULT_THREADS, help=THREADS_HELP)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="same as --KEY=VALUE")
    return p


def run_pretrain(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    import torch

    from jepa_agent.agent.agent import Agent, resolve_device
    from jepa_agent.agent.app.dataset import require_minari
    from jepa_agent.agent.app.pretrain import load_offline, pretrain
    from jepa_agent.agent.app.run import (
        EVAL_SEED,
        evaluate_agent,
        evaluation_scores,
        make_env,
        random_baseline,
    )
    from jepa_agent.agent.distributed import init_from_env
    from jepa_agent.agent.provenance import provenance
    from jepa_agent.configurator.loading import ConfigError

    require_minari("pretrain")
    config = _config_from(args, overrides)
    prepare_process(args.threads)
    device = resolve_device(config.device)
    group = init_from_env(device)
    if group is not None and device.type == "cuda":
        device = torch.device("cuda", group.local_rank)
        torch.cuda.set_device(device)
        config = config.model_copy(update={"device": str(device)})
    if group is not None and args.shards not in (None, group.world_size):
        raise ConfigError(f"--shards {args.shards} differs from the {group.world_size} processes of torchrun")
    main = group is None or group.is_main
    console = _console(quiet=not main)
    _setup_logging(console)
    world = group.world_size if group is not None else (args.shards or 1)
    seed = config.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else _default_out("pretrain", config.task.env)
    try:
        data = load_offline(args.dataset, world_size=world, ranks=[group.rank] if group is not None else None)
        env = make_env(config)
        agent = Agent.from_config(config, env)
        console.print(f"[bold]jepa-agent pretrain[/] {args.steps} updates on {args.dataset} ({data.info['episodes']} "
                      f"episodes, {data.info['steps']} steps) over {world} shard(s), device {agent.device}, out {out}")
        with progress_bar(console) as progress:
            task = progress.add_task("pretrain", total=args.steps, info="")

            def on_progress(d: dict) -> None:
                progress.update(task, completed=d["update"],
                                info=f"{d['updates_per_s']:5.1f} updates/s  pred loss {d['loss']:.4f}")

            result = pretrain(agent, data, args.steps, seed=seed, group=group, on_progress=on_progress if main else None)
        if main:
            out.mkdir(parents=True, exist_ok=True)
            config.save(out / "config.yaml")
            agent.save(out / "checkpoint.safetensors")
        summary: dict[str, Any] = {
            **data.info, "processes": group.world_size if group else 1, "shards": world,
            "env_steps": agent.env_steps, "updates": result["updates"], "wall_s": result["wall_s"],
            "updates_per_s": result["updates_per_s"], "parameter_digest": result["parameter_digest"], "ranks_identical": result.get("ranks_identical"),
            "first_pred_loss": result["records"][0].get("pred_loss"), "last_pred_loss": result["records"][-1].get("pred_loss"),
        }
        if main and args.episodes > 0:
            eval_seed = EVAL_SEED + seed
            envs = [env, *(make_env(config) for _ in range(args.num_envs - 1))]  # evaluate resets the agent
            with progress_bar(console) as progress:
                evaluation, _ = evaluate_agent(agent, envs if len(envs) > 1 else envs[0], args.episodes, eval_seed,
                                               on_progress=eval_progress(progress, args.episodes))
            baseline = random_baseline(envs[0], args.episodes, eval_seed)
            summary.update(evaluation_scores(evaluation, envs[0], baseline))
            summary.update(act_ms_median=evaluation["act_ms_median"], act_ms_p90=evaluation["act_ms_p90"],
                           records=evaluation["records"])
            for e in envs[1:]:
                e.close()
        if main:
            summary["provenance"] = provenance(agent.device)
            (out / "pretrain.json").write_text(json.dumps(summary, indent=2))
            if args.episodes > 0:
                console.print(summary_table({k: v for k, v in summary.items() if k != "records"},
                                            f"{config.task.env}: pretrained offline, {args.episodes} held-out goals"))
            console.print(f"{result['updates']} updates in {result['wall_s']:.1f} s "
                          f"({result['updates_per_s']:.1f} updates/s on {summary['processes']} process(es))")
            console.print(f"wrote {out}/: config.yaml, checkpoint.safetensors, pretrain.json")
        env.close()
        if group is not None:
            group.barrier()
    finally:
        if group is not None:
            group.close()
    return 0


# --------------------------------------------------------------------------- bench
def bench_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or argparse.ArgumentParser(prog="jepa-agent bench")
    p.description = ("Planners x envs x model (oracle or a checkpoint) x budget x seeds, closed loop. "
                     "Flags replace the values of --config.")
    p.add_argument("--config", help="YAML/JSON BenchConfig with the grid, or a shipped one's name (e.g. bench_oracle)")
    p.add_argument("--planners", nargs="+", help="registered names or import paths (default: cem mppi)")
    p.add_argument("--envs", nargs="+", help="Gymnasium ids (default: jepa_agent/Reach2D-v0)")
    p.add_argument("--models", nargs="+", help="'oracle' and/or checkpoint paths (default: oracle)")
    p.add_argument(
        "--budgets", nargs="+", type=_budget,
        help="planner/actor options per budget, e.g. samples=128,iterations=2,horizon=15 or deadline_s=0.02",
    )
    p.add_argument("--seeds", nargs="+", type=int, help="(default: 0)")
    p.add_argument("--episodes", type=positive, help="episodes per seed (default: 10)")
    p.add_argument("--out", help="(default: runs/bench)")
    p.add_argument("--threads", type=positive, default=DEFAULT_THREADS, help=THREADS_HELP)
    return p


# --------------------------------------------------------------------------- main
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], argparse.ArgumentParser]]] = {
    "train": ("train an agent and evaluate it (a run folder)", train_parser),
    "eval": ("evaluate a checkpoint on held-out goals", eval_parser),
    "bench": ("benchmark planners closed-loop", bench_parser),
    "collect": ("run a policy and save the experience (.npz or a Minari dataset)", collect_parser),
    "pretrain": ("train offline on a Minari dataset (torchrun for several processes), evaluate zero-shot", pretrain_parser),
    "show": ("print a config, a checkpoint's summary or the config reference", show_parser),
    "configs": ("list the configs that ship with the package (--config NAME)", configs_parser),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jepa-agent", description="jepa-agent command line",
        epilog="Override any config field with --dotted.key=value, e.g. --actor.planner=mppi --actor.samples=512.",
    )
    parser.add_argument("--version", action="version", version=f"jepa-agent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, build) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, allow_abbrev=False)
        build(command)
        command.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser


def error_line(err: BaseException) -> str:
    """One line for an error: its message with the whitespace folded, named by its type
    where the type says something the message may not (``FileNotFoundError: ...``)."""
    text = " ".join(str(err).split())
    if isinstance(err, KeyError) and len(err.args) == 1:
        text = f"missing key {err.args[0]!r}"
    name = type(err).__name__
    if type(err) is ValueError:  # the library's own refusals: the message says it all
        return text or name
    return f"{name}: {text}" if text else name


def main(argv: Sequence[str] | None = None) -> int:
    from jepa_agent.agent.app.metrics import MissingExtra
    from jepa_agent.configurator.loading import ConfigError, parse_override_tokens

    # Import paths in configs ("my_lab.planners:Annealed") resolve from the current folder,
    # as they would under `python -m`.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    # Headless rendering (videos, pixel observations): EGL unless the caller chose a backend
    # (MUJOCO_GL=osmesa is the software fallback). MuJoCo reads it once, at first import,
    # which is after this line. The CLI is an edge; the library never edits os.environ.
    os.environ.setdefault("MUJOCO_GL", "egl")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench" and extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    runners = {"train": run_train, "eval": run_eval, "collect": run_collect, "pretrain": run_pretrain, "show": run_show,
               "configs": run_configs}
    try:
        if args.command == "bench":
            from jepa_agent.agent.app.bench import run_bench

            return run_bench(args)
        overrides = parse_override_tokens(extra)
        return runners[args.command](args, overrides)
    except (ConfigError, MissingExtra) as err:  # messages written for the command line
        return _fail(args.command, f"error: {err}", 2)
    except KeyboardInterrupt as err:  # Ctrl-C: training saves the agent first (TrainingInterrupted)
        return _fail(args.command, str(err) or "interrupted", 130)
    except Exception as err:  # the library's errors: one line, the traceback with --debug
        if args.debug:
            raise
        return _fail(args.command, f"error: {error_line(err)} (--debug shows the traceback)", 1)


def _fail(command: str, message: str, status: int) -> int:
    """Print ``jepa-agent COMMAND: MESSAGE`` on stderr as plain text; return the exit status."""
    _console(stderr=True, highlight=False, soft_wrap=True).print(f"jepa-agent {command}: {message}", markup=False)
    return status


if __name__ == "__main__":
    sys.exit(main())
