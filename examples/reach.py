"""Train a six-module agent from scratch on a MuJoCo reach task, then reach held-out goals.

    python examples/reach.py                                  # Reach2D, defaults
    python examples/reach.py --env jepa_agent/Reach3D-v0 --out runs/reach3d

Writes to ``--out`` (default ``runs/reach``): ``eval.json``, ``checkpoint.safetensors``,
``config.yaml``, ``history.json`` and ``learning_curve.png``. The run itself is
``agent.app.run.Run``, the same code as ``jepa-agent train --config configs/reach2d.yaml``
(which also writes metrics, TensorBoard logs and videos).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from jepa_agent.agent.app.console import (
    DEFAULT_THREADS,
    THREADS_HELP,
    prepare_process,
    train_and_report,
)
from jepa_agent.agent.app.run import Run, RunOptions, TrainingInterrupted
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import (
    ConfigError,
    apply_overrides,
    load_config,
    parse_override_tokens,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="jepa_agent/Reach2D-v0", help="Gymnasium id of a goal-conditioned env")
    p.add_argument("--steps", type=int, default=None, help="env steps to train (default: per env, see agent.app.run.DEFAULT_STEPS)")
    p.add_argument("--episodes", type=int, default=50, help="held-out evaluation episodes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--out", default="runs/reach", help="output folder")
    p.add_argument("--config", default=None, help="YAML/JSON AgentConfig to start from, or a shipped config's name (reach3d, ...)")
    p.add_argument("--num-envs", type=int, default=8, help="envs collected in lockstep while training")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS, help=THREADS_HELP)
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a config field by dotted key, e.g. --set training.random_steps=2000 (repeatable)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the main job; ``argv`` as on the command line (None: ``sys.argv[1:]``)."""
    args = parse_args(argv)
    prepare_process(args.threads)  # threads, flushed denormals (17 ms -> 10 ms per action)
    console = Console()
    out = Path(args.out)
    try:
        config = load_config(args.config) if args.config else AgentConfig()
        overrides = {"device": args.device, "seed": args.seed, "task.env": args.env}
        config = apply_overrides(config, {**overrides, **parse_override_tokens([f"--{s}" for s in args.set])})
    except ConfigError as err:
        raise SystemExit(f"reach.py: {err}") from None

    run = Run(config, out, RunOptions(steps=args.steps, episodes=args.episodes, num_envs=args.num_envs))
    try:
        train_and_report(run, console, args.threads)  # progress bars, then the results table
    except TrainingInterrupted as stopped:  # Ctrl-C: saved (jepa-agent train --resume continues it)
        raise SystemExit(f"reach.py: {stopped}") from None
    console.print(f"wrote {out / 'eval.json'}, {out / 'checkpoint.safetensors'}, {out / 'learning_curve.png'}")


if __name__ == "__main__":
    main()
