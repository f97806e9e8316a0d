"""The ``jepa-agent`` command line (an edge of the library: it may print).

    jepa-agent train --config configs/reach2d.yaml            # = python examples/reach.py
    jepa-agent train --config configs/reach2d.yaml --actor.planner=mppi --actor.samples=512
    jepa-agent eval runs/reach/checkpoint.safetensors --episodes 50 --video 2
    jepa-agent collect --config configs/reach2d.yaml --steps 10000 --out runs/data/replay.npz
    jepa-agent show configs/reach2d.yaml | runs/reach/checkpoint.safetensors | --schema
    jepa-agent bench --planners cem mppi --models oracle
    jepa-agent --version

Any config field can be overridden as ``--dotted.key=value`` (see ``configurator/loading.py`` for
the short forms such as ``--actor.planner``); a misspelled key fails before anything runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from jepa_agent import __version__

if TYPE_CHECKING:  # rich, torch and the modules are imported lazily so `--help` stays fast
    from rich.console import Console
    from rich.progress import Progress


# --------------------------------------------------------------------------- helpers
def _budget(text: str) -> dict:
    """``"samples=256,iterations=3"`` -> ``{"samples": 256, "iterations": 3}``."""
    out = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"a budget is KEY=VALUE[,KEY=VALUE...], got {text!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def positive(text: str) -> int:
    """An argparse type: an int >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def count(text: str) -> int:
    """An argparse type: an int >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def prepare_process(threads: int) -> None:
    """Process-wide settings an edge may make: torch threads and denormals.

    Trained MLPs can produce subnormal floats in the planner's hot loop; on x86 CPUs they
    cost ~100 cycles each (measured here: 17 ms -> 10 ms per action), so they are flushed.
    (Headless rendering: :func:`main` defaults ``MUJOCO_GL`` to ``egl``; without a GL
    context the videos are skipped with a warning.)
    """
    import torch

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)


DEFAULT_THREADS = 1
"""torch CPU threads of every command. Two threads spin-wait on each other whenever another
process holds a core: on a 2-core machine with a second job running, the planner took 340 ms
per action with 2 threads against 16 ms with 1, and a pixel-agent update 2.9 s against
0.16 s. On a machine of your own, ``--threads N`` raises it."""
THREADS_HELP = "torch CPU threads (default 1: robust when other processes share the cores)"


def rebuild_thread_pool(threads: int) -> None:
    """After many backward passes torch's CPU thread pool can be left in a state where two
    threads run the planner's small ops slower than one (measured: rollout 4.3 ms vs
    1.9 ms). Re-setting the thread count rebuilds the pool."""
    import torch

    torch.set_num_threads(1)
    torch.set_num_threads(threads)


def _console(**kwargs: Any) -> Console:
    from rich.console import Console

    return Console(**kwargs)


def _emit(text: str) -> None:
    """Plain text to stdout (YAML, JSON, Markdown): no markup, no highlighting, no wrapping."""
    _console(markup=False, highlight=False, soft_wrap=True, emoji=False).print(text, end="")


def _setup_logging(console: Console) -> None:
    from rich.logging import RichHandler

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(RichHandler(console=console, show_path=False, show_time=False))
    root.setLevel(logging.INFO)
    for noisy in ("matplotlib", "PIL", "imageio", "OpenGL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def progress_bar(console: Console) -> Progress:
    """The rich progress bar of training, evaluation and collection."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
    )
    return Progress(*columns, console=console)


def train_progress(progress: Progress, console: Console, total: int) -> Callable[[dict], None]:
    """A ``Run.train`` callback: env steps per second, success of the last 20 episodes, losses."""
    task = progress.add_task("train", total=total, info="")
    t0 = time.perf_counter()

    def on_train(d: dict) -> None:
        u = d["last_update"]
        info = f"{d['phase']:7s} {d['steps_per_s']:5.0f} steps/s  " + _score(d)
        if u:
            info += f"  pred {u['pred_loss']:.4f}  std {u['embed_std']:.2f}  rank {u.get('embed_rank', float('nan')):.1f}"
        progress.update(task, completed=d["env_steps"], info=info)
        if not console.is_terminal:  # logs to a file: one plain line per episode batch
            console.print(f"{d['env_steps']:6d} steps  {time.perf_counter() - t0:6.0f} s  {info}", soft_wrap=True)

    return on_train


def _score(d: dict) -> str:
    """Success where the env reports it, else the return (reward-defined tasks)."""
    if math.isfinite(d.get("success", float("nan"))):
        return f"success {d['success']:.2f}"
    return f"return {d.get('return', float('nan')):.2f}"


def eval_progress(progress: Progress, total: int) -> Callable[[dict], None]:
    """An ``Agent.evaluate`` callback: episodes done, success so far, steps per second."""
    task = progress.add_task("evaluate", total=total, info="")
    t0 = time.perf_counter()

    def on_eval(d: dict) -> None:
        sps = d["env_steps"] / max(time.perf_counter() - t0, 1e-9)
        progress.update(task, completed=d["episode"], info=f"{sps:5.0f} steps/s  " + _score(d))

    return on_eval


def summary_table(summary: dict[str, Any], title: str) -> Any:
    """The results table of an evaluation (``eval.json``'s main numbers)."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    threshold = summary.get("success_threshold")
    within = f" (within {threshold:.3f} m)" if threshold is not None else ""
    finite = lambda x: x is not None and math.isfinite(x)  # noqa: E731
    if finite(summary.get("success_rate")):
        table.add_row("success rate" + (f" ({summary['success']})" if "success" in summary else ""),
                      f"{summary['success_rate']:.2f}{within}")
        if finite(summary.get("success_rate_any")) and finite(summary.get("success_rate_final")):
            table.add_row("success at the final step / any step",
                          f"{summary['success_rate_final']:.2f} / {summary['success_rate_any']:.2f}")
    table.add_row("return (mean ± std)", f"{summary['mean_return']:.2f} ± {summary.get('std_return', float('nan')):.2f}")
    if finite(summary.get("mean_final_distance")):
        table.add_row("mean final distance", f"{summary['mean_final_distance']:.4f} m")
    random_parts = [f"return {summary['random_mean_return']:.2f}"] if "random_mean_return" in summary else []
    if finite(summary.get("random_success_rate")):
        random_parts.append(f"success {summary['random_success_rate']:.2f}")
    if finite(summary.get("random_mean_final_distance")):
        random_parts.append(f"distance {summary['random_mean_final_distance']:.4f} m")
    table.add_row("random policy", ", ".join(random_parts))
    table.add_row("act ms (median / p90)", f"{summary['act_ms_median']:.1f} / {summary['act_ms_p90']:.1f}")
    table.add_row("env steps / updates", f"{summary['env_steps']} / {summary['updates']}")
    if "train_wall_s" in summary:
        table.add_row("train wall s / total wall s", f"{summary['train_wall_s']:.0f} / {summary['total_wall_s']:.0f}")
    if "embed_std" in summary:
        table.add_row(
            "embedding std / effective rank",
            f"{summary['embed_std']:.3f} / {summary['embed_rank']:.1f} of {summary['latent_dim']}",
        )
    return table


@contextlib.contextmanager
def deferred_interrupt(console: Console | None = None) -> Iterator[Callable[[], bool]]:
    """While the block runs, the first Ctrl-C asks training to stop at the end of its step
    (it then saves the run and raises TrainingInterrupted); a second one interrupts at once.
    Yields the ``stop`` callable :meth:`Run.train` polls. Outside the main thread nothing
    is installed and ``stop`` stays False."""
    requested = False

    def handler(signum: int, frame: Any) -> None:
        nonlocal requested
        if requested:
            raise KeyboardInterrupt
        requested = True
        if console is not None:
            console.print("stopping at the end of this step to save the run (Ctrl-C again: stop now, unsaved)")

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: requested
    finally:
        signal.signal(signal.SIGINT, previous)


def train_and_report(run: Any, console: Console, threads: int) -> dict[str, Any]:
    """Train and evaluate a :class:`~agent.app.run.Run` under progress bars; print the results table."""
    env, episodes = run.config.task.env, run.options.episodes
    done = f" from {run.agent.env_steps}" if run.agent.env_steps else ""
    console.print(f"[bold]jepa-agent[/] on {env}: {run.steps} env steps{done}, device {run.agent.device}, out {run.out}")
    try:
        with progress_bar(console) as progress, deferred_interrupt(console) as stop:
            run.train(on_progress=train_progress(progress, console, run.steps), stop=stop)
            rebuild_thread_pool(threads)
            summary = run.evaluate(on_progress=eval_progress(progress, episodes))
    finally:
        run.close()
    console.print(summary_table(summary, f"{env}: {episodes} held-out goals"))
    return summary


def _config_from(args: argparse.Namespace, overrides: dict[str, Any]) -> Any:
    """The config file (or the defaults) with ``--set`` items and ``--key=value`` overrides."""
    from jepa_agent.configurator import AgentConfig
    from jepa_agent.configurator.loading import apply_overrides, load_config, parse_override_tokens

    config = load_config(args.config) if getattr(args, "config", None) else AgentConfig()
    sets = parse_override_tokens([f"--{item}" for item in getattr(args, "set", []) or []])
    return apply_overrides(config, {**sets, **overrides})


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


def _trust_code_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust-code", action="store_true",
                   help="load a checkpoint whose config calls code it names (a frozen encoder's factory); "
                        "only for files whose source you trust")


def _default_out(kind: str, env_id: str) -> Path:
    return Path("runs") / f"{_env_name(env_id)}-{kind}-{time.strftime('%Y%m%d-%H%M%S')}"


# --------------------------------------------------------------------------- train
def train_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = "Train an agent, evaluate it on held-out goals, write a run folder."
    p.add_argument("--config", help="YAML/JSON AgentConfig (default: the built-in defaults)")
    p.add_argument("--out", help="run folder (default runs/<env>-train-<time>)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue a stopped run from its folder, exactly (its config and options; --steps may raise the budget)")
    _trust_code_flag(p)
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
        from jepa_agent.agent.app.dataset import fill_replay, load_minari

        _require_minari("--dataset")
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
    _trust_code_flag(p)
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
    _, goal = agent.reset_envs(envs[:1], 0)
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
    p.add_argument("--config", help="YAML/JSON AgentConfig for the env (with --policy random)")
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
    _trust_code_flag(p)
    return p


def run_collect(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from jepa_agent.agent.agent import Agent
    from jepa_agent.agent.app.run import collect, make_env, make_vector_env, write_provenance
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
        _, goal = agent.reset_envs([one], 0)
        one.close()
        agent.reset(config.task, goal=goal)  # the (possibly new) planner and horizon
    minari_id = None
    if args.format == "minari":
        name = _env_name(config.task.env).rsplit("-v", 1)[0].lower()
        minari_id = args.dataset_id or f"jepa_agent/{name}-{policy}-v0"
        out = Path(args.out) if args.out else None
        _check_minari_id(minari_id)
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


def _check_minari_id(dataset_id: str) -> None:
    """Refuse a bad id before collecting (and before minari is imported: it is the data extra)."""
    from jepa_agent.agent.app.dataset import _check_dataset_id
    from jepa_agent.configurator.loading import ConfigError

    _require_minari("--format minari")

    try:
        _check_dataset_id(dataset_id)
    except ValueError as err:
        raise ConfigError(f"--dataset-id: {err}") from None


def _require_minari(what: str) -> None:
    from jepa_agent.configurator.loading import ConfigError

    try:
        import minari  # noqa: F401
    except ImportError:
        raise ConfigError(f"{what} needs minari: pip install -e '.[data]'") from None


# --------------------------------------------------------------------------- pretrain
def pretrain_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = (
        "Train the world model, critic, policy and probe offline on a Minari dataset (no env step), then "
        "evaluate zero-shot on held-out goals. Under torchrun each process trains on its shard of the data."
    )
    p.add_argument("--dataset", required=True, metavar="ID_OR_PATH", help="a Minari dataset folder or a local id")
    p.add_argument("--config", help="YAML/JSON AgentConfig (default: the built-in defaults)")
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

    _require_minari("pretrain")
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


# --------------------------------------------------------------------------- show
def show_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.description = "Print a resolved config, a checkpoint's summary, or the config reference (--schema)."
    p.add_argument("path", nargs="?", help="a .yaml/.json config or a .safetensors checkpoint (default: the defaults)")
    p.add_argument("--schema", action="store_true", help="print the config reference (Markdown)")
    p.add_argument("--readme", metavar="PAGE.md", help="with --schema: rewrite that page's generated section (docs/reference/config.md)")
    p.add_argument("--json", action="store_true", help="JSON instead of YAML / Markdown")
    _trust_code_flag(p)
    return p


def run_show(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    from jepa_agent.configurator import AgentConfig
    from jepa_agent.configurator.loading import apply_overrides, load_config

    if args.schema:
        from jepa_agent.agent.app.reference import config_reference, update_readme

        if args.readme:
            changed = update_readme(args.readme)
            _emit(f"{args.readme}: config reference {'updated' if changed else 'already up to date'}\n")
        elif args.json:
            _emit(json.dumps(AgentConfig.model_json_schema(), indent=2) + "\n")
        else:
            _emit(config_reference())
        return 0
    if args.path and Path(args.path).suffix in (".safetensors", ".pt", ".pth", ".ckpt"):
        from jepa_agent.agent.app.run import checkpoint_summary
        from jepa_agent.configurator.loading import ConfigError

        if overrides:
            raise ConfigError(f"show prints a checkpoint as saved; overrides {sorted(overrides)} do not apply")

        info = checkpoint_summary(args.path, trust_code=args.trust_code)
        if args.json:
            _emit(json.dumps(info, indent=2) + "\n")
            return 0
        config, params = info.pop("config"), info.pop("parameters")
        lines = [yaml.safe_dump(info, sort_keys=False), "parameters:\n"]
        lines += [f"  {name}: {n:,}\n" for name, n in params.items()]
        lines += [f"  total: {sum(params.values()):,}\n", yaml.safe_dump({"config": config}, sort_keys=False)]
        _emit("".join(lines))
        return 0
    config = load_config(args.path) if args.path else AgentConfig()
    config = apply_overrides(config, overrides)
    data = config.model_dump(mode="json")
    _emit(json.dumps(data, indent=2) + "\n" if args.json else yaml.safe_dump(data, sort_keys=False))
    return 0


# --------------------------------------------------------------------------- bench
def bench_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or argparse.ArgumentParser(prog="jepa-agent bench")
    p.description = ("Planners x envs x model (oracle or a checkpoint) x budget x seeds, closed loop. "
                     "Flags replace the values of --config.")
    p.add_argument("--config", help="YAML/JSON BenchConfig with the grid (e.g. configs/bench_oracle.yaml)")
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


def run_bench(args: argparse.Namespace) -> int:
    from rich.table import Table

    from jepa_agent.agent.app.bench import benchmark, write_results
    from jepa_agent.agent.app.bench_config import BenchConfig
    from jepa_agent.configurator.loading import load_config, validate_config

    grid = load_config(args.config, model=BenchConfig) if getattr(args, "config", None) else BenchConfig()
    given = {k: getattr(args, k, None) for k in BenchConfig.model_fields}
    grid = validate_config(grid.model_dump() | {k: v for k, v in given.items() if v is not None},
                           source="bench flags", model=BenchConfig)
    prepare_process(args.threads)
    console = _console()
    table = Table(title="planner benchmark")
    for col in ("planner", "env", "model", "budget", "success", "final dist", "act ms", "iters"):
        table.add_column(col, justify="right" if col in ("success", "final dist", "act ms", "iters") else "left")

    def on_record(r) -> None:
        console.print(
            f"{r.planner:9s} {r.env:24s} {Path(r.model).name:12s} {r.budget}  success {r.success_rate:.2f}  "
            f"{r.act_ms_median:.1f} ms"
        )
        table.add_row(
            r.planner, r.env, Path(r.model).name, ",".join(f"{k}={v}" for k, v in r.budget.items()) or "default",
            f"{r.success_rate:.2f}", f"{r.mean_final_distance:.4f}", f"{r.act_ms_median:.1f}", f"{r.iterations_mean:.1f}",
        )

    records = benchmark(grid.planners, grid.envs, grid.models, grid.budgets, grid.seeds, grid.episodes,
                        on_record=on_record)
    out = Path(grid.out)
    write_results(records, out)
    console.print(table)
    console.print(f"wrote {out / 'results.json'}, {out / 'results.csv'}, {out / 'pareto.png'}, {out / 'provenance.json'}")
    return 0


# --------------------------------------------------------------------------- main
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], argparse.ArgumentParser]]] = {
    "train": ("train an agent and evaluate it (a run folder)", train_parser),
    "eval": ("evaluate a checkpoint on held-out goals", eval_parser),
    "bench": ("benchmark planners closed-loop", bench_parser),
    "collect": ("run a policy and save the experience (.npz or a Minari dataset)", collect_parser),
    "pretrain": ("train offline on a Minari dataset (torchrun for several processes), evaluate zero-shot", pretrain_parser),
    "show": ("print a config, a checkpoint's summary or the config reference", show_parser),
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
    runners = {"train": run_train, "eval": run_eval, "collect": run_collect, "pretrain": run_pretrain, "show": run_show}
    try:
        if args.command == "bench":
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
