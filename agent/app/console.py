"""What the command line reads and shows, and how it prepares its process: argument types,
torch threads, logging, rich progress bars and results tables, and Ctrl-C that saves a run
before it stops. The
commands (``cli``) and the examples share it; it is an edge of the library, so it may print
and set process-wide state."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # rich and torch are imported lazily so `--help` stays fast
    from rich.console import Console
    from rich.progress import Progress


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


def trust_code_flag(p: argparse.ArgumentParser) -> None:
    """Add ``--trust-code`` (load a checkpoint whose config names code to call)."""
    p.add_argument("--trust-code", action="store_true",
                   help="load a checkpoint whose config calls code it names (a frozen encoder's factory); "
                        "only for files whose source you trust")
