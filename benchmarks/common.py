"""What the benchmark scripts share: the process setup, the command line's common flags, the
task configs, training and training on, the far quarter of a reach task's goals, and the
result files.

Every script runs from the repository root as a module: ``python -m benchmarks.NAME``, or
``python -m benchmarks.diagnostics.NAME`` for the diagnostics of one investigation each.
Importing this module selects headless MuJoCo rendering (``MUJOCO_GL=egl``, unless it is
set), which MuJoCo reads when it is first imported: a script imports it before the library.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("MUJOCO_GL", "egl")

__all__ = [
    "REACH", "ROOT", "TASKS", "TINY", "Target", "far_quarter", "goal_distances", "overrides", "parser", "reacher_agent", "setup", "show",
    "spearman", "targets_met", "task_config", "task_with", "tiny_agent", "tiny_config", "trained", "train_on", "write_json",
]

ROOT = Path(__file__).resolve().parents[1]
"""The repository root (the scripts' configs are read from ``ROOT / "configs"``)."""

TASKS = {"reach2d": "configs/reach2d.yaml", "reach3d": "configs/reach3d.yaml", "reach3d_far": "configs/reach3d_far.yaml"}
"""The reach tasks' configs, by the name ``--task`` takes."""

REACH = "jepa_agent/Reach2D-v0"
"""The env of the tiny agents' checks."""

TINY = {
    "encoder.latent_dim": 8, "encoder.hidden_dim": 32, "world_model.hidden_dim": 32, "critic.hidden_dim": 32,
    "policy.hidden_dim": 32, "probe.hidden_dim": 32, "training.batch_size": 16, "training.random_steps": 100,
    "training.pretrain_updates": 5, "actor.samples": 16, "actor.iterations": 1, "actor.horizon": 5,
    "training.exploration.planner.samples": 16, "training.exploration.planner.iterations": 1, "device": "cpu", "seed": 2,
}
"""Overrides of the default config for a tiny agent that trains in seconds (the checks of
``reliability`` and ``crafted_files``)."""


# --------------------------------------------------------------------------- process
def setup(threads: int = 1, *, flush_denormal: bool = False) -> None:
    """Begin a benchmark's process: ``threads`` torch threads (one by default: two threads on
    two cores another process shares spin-wait on each other, DESIGN.md) and, with
    ``flush_denormal``, denormal floats flushed to zero (tiny values in long training runs
    otherwise slow every matmul)."""
    import torch

    torch.set_num_threads(threads)
    if flush_denormal:
        torch.set_flush_denormal(True)


def parser(doc: str | None, *, full: bool = False, json_out: str | None = None, seed: bool = False,
           threads: int | None = None, sets: bool = False) -> argparse.ArgumentParser:
    """The script's argument parser, described by its docstring (the first line, or all of it
    with ``full``), with the flags most scripts take: ``--json`` (``json_out`` ``"optional"``
    or ``"required"``: where to write the results), ``--seed``, ``--threads`` (default
    ``threads``) and ``--set KEY=VALUE ...`` (config overrides, :func:`overrides`)."""
    doc = doc or ""
    p = argparse.ArgumentParser(description=doc if full else doc.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    if json_out is not None:
        p.add_argument("--json", required=json_out == "required", help="write the results here")
    if seed:
        p.add_argument("--seed", type=int, default=0)
    if threads is not None:
        p.add_argument("--threads", type=int, default=threads, help=f"torch threads (default {threads})")
    if sets:
        p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides")
    return p


# --------------------------------------------------------------------------- configs
def overrides(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` items (a ``--set`` flag's) as a config override mapping."""
    from jepa_agent.configurator.loading import parse_override_tokens

    return parse_override_tokens([f"--{item}" for item in items])


def task_config(task: str | os.PathLike[str], sets: Sequence[str] = (), over: Mapping[str, Any] | None = None):
    """The ``AgentConfig`` of a task (a name of :data:`TASKS`, or a config file's path under
    :data:`ROOT`), with the ``sets`` items (``KEY=VALUE``) and then ``over`` applied."""
    from jepa_agent.configurator.loading import apply_overrides, load_config

    config = load_config(ROOT / TASKS.get(str(task), str(task)))
    if sets:
        config = apply_overrides(config, overrides(sets))
    return apply_overrides(config, dict(over)) if over else config


def task_with(config: Any, items: Sequence[str]) -> Any:
    """``config.task`` with the ``KEY=VALUE`` items applied (None without any): an evaluation
    under other settings of an agent's own task."""
    from jepa_agent.configurator.loading import apply_overrides

    return apply_overrides(config, overrides(items)).task if items else None


def tiny_config(**over: Any) -> Any:
    """The default config (Reach2D) with :data:`TINY` and ``over`` (dotted keys) applied."""
    from jepa_agent.configurator import AgentConfig
    from jepa_agent.configurator.loading import apply_overrides

    return apply_overrides(AgentConfig(), {**TINY, **over})


def reacher_agent() -> tuple[Any, Any, np.ndarray]:
    """An agent of the default config on Reacher-v5 (a reward task), reset; its env reset
    with seed 0, and that first observation."""
    import gymnasium as gym

    from jepa_agent.agent import Agent
    from jepa_agent.configurator import AgentConfig
    from jepa_agent.configurator.loading import apply_overrides

    config = apply_overrides(AgentConfig(), {"task.env": "Reacher-v5", "task.objective": "reward", "device": "cpu"})
    env = gym.make("Reacher-v5")
    agent = Agent.from_config(config, env)
    obs, _ = env.reset(seed=0)
    agent.reset()
    return agent, env, obs


def tiny_agent(steps: int = 0, **over: Any) -> Any:
    """An agent of :func:`tiny_config` (``over`` applied) on its task's env, trained ``steps``
    env steps on two envs of it."""
    import gymnasium as gym

    from jepa_agent import envs  # noqa: F401  (registers the reach envs)
    from jepa_agent.agent import Agent

    config = tiny_config(**over)
    agent = Agent.from_config(config, gym.make(config.task.env))
    if steps:
        agent.train([gym.make(config.task.env) for _ in range(2)], steps)
    return agent


# --------------------------------------------------------------------------- training
@contextlib.contextmanager
def trained(config: Any, out: Path, steps: int, *, episodes: int = 0) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A ``Run`` of ``config`` in ``out`` trained for ``steps`` env steps (CSV logs, no
    videos; ``episodes``: its evaluation's, for ``run.evaluate()``), and what the training
    took (``train_env_steps``, ``train_wall_s``, ``updates``); the run is closed on exit."""
    from jepa_agent.agent.app.run import Run, RunOptions

    run = Run(config, out, RunOptions(steps=steps, episodes=episodes, videos=0, log=("csv",)))
    try:
        start = time.perf_counter()
        run.train()
        info = {"train_env_steps": run.agent.env_steps, "train_wall_s": time.perf_counter() - start,
                "updates": run.agent.updates}
        yield run, info
    finally:
        run.close()


def train_on(agent: Any, updates: int, *, lr_scale: float = 1.0, adapt: bool = False, every: int = 0,
             label: str = "") -> tuple[dict[str, float], float]:
    """Continued training: ``updates`` more updates of every module on the agent's own replay,
    at its learning rates times ``lr_scale`` (left so afterwards). ``adapt`` first fits the
    input normalisation (an agent that has only collected). Every ``every`` updates it
    prints the prediction loss (after ``label``). Returns the last update's metrics and the
    updates' wall time in seconds."""
    if lr_scale != 1.0:
        for optim in agent.learner.optimizers.values():
            for group in optim.param_groups:
                group["lr"] *= lr_scale
    if adapt:
        agent.adapt()
    info: dict[str, float] = {}
    start = time.perf_counter()
    for i in range(updates):
        info = agent.update()
        if every and i % every == 0:
            print(f"{label} update {i}: pred loss {info['pred_loss']:.5f}", flush=True)
    return info, time.perf_counter() - start


# --------------------------------------------------------------------------- goals
def goal_distances(env: Any, seeds: Sequence[int]) -> np.ndarray:
    """How far each episode's goal lies from where it starts (``desired_goal`` against
    ``achieved_goal`` of the first observation), episode ``i`` reset with ``seeds[i]``. (N,)"""
    out = []
    for seed in seeds:
        obs, _ = env.reset(seed=int(seed))
        out.append(float(np.linalg.norm(obs["desired_goal"] - obs["achieved_goal"])))
    return np.asarray(out)


def far_quarter(distances: Sequence[float]) -> np.ndarray:
    """The indices, in ascending order, of the quarter (at least one) of the episodes whose
    goal is farthest from the start (``distances``: :func:`goal_distances`'s). (N // 4,)"""
    d = np.asarray(distances, dtype=float)
    return np.sort(np.argsort(d, kind="stable")[len(d) - max(1, len(d) // 4):])


# --------------------------------------------------------------------------- statistics
def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of ``x`` and ``y`` (N,) (ties ranked by position)."""
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


# --------------------------------------------------------------------------- results
def show(result: Mapping[str, Any], keys: Sequence[str]) -> None:
    """Print ``keys`` of ``result``, one a line (floats with two decimals)."""
    for key in keys:
        v = result[key]
        print(f"{key:28s} {v:.2f}" if isinstance(v, float) and not np.isnan(v) else f"{key:28s} {v}")


Target = tuple[str, Callable[[Mapping[str, Any]], bool], str]
"""A result's target: its name, whether a result meets it, and what it asks (``"<= 2"``)."""


def targets_met(result: Mapping[str, Any], targets: Sequence[Target]) -> bool:
    """Print whether ``result`` meets each target; True if it meets them all."""
    met = True
    for name, ok, asked in targets:
        passed = bool(ok(result))
        met &= passed
        print(f"target {name} {asked}: {'met' if passed else 'NOT met'}")
    return met


def write_json(path: str | os.PathLike[str], data: Any, *, device: str | None = "cpu", indent: int = 2) -> Path:
    """Write ``data`` as JSON at ``path`` (folders made), atomically: a stopped run leaves the
    old file or the new one, never half of one. A dict gets a ``provenance`` entry (the code,
    the library versions and the machine that measured it, ``agent.provenance``); a list of
    records gets it beside it, in ``NAME.provenance.json``."""
    from jepa_agent.agent.provenance import provenance
    from jepa_agent.memory import atomic_write_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = provenance(device)
    if isinstance(data, Mapping):
        data = {**data, "provenance": record}
    else:
        atomic_write_text(path.with_name(f"{path.stem}.provenance.json"), json.dumps(record, indent=2))
    return atomic_write_text(path, json.dumps(data, indent=indent))


# --------------------------------------------------------------------------- published numbers
PUBLISHED = Path(__file__).resolve().parent / "published_100k.csv"
"""Published agents' returns, one row per seed, each naming its source (its ``published_env``
says the Gymnasium version it ran on: v4 where our runs use v5)."""


def published(env: str, steps: int = 100_000) -> dict[str, list[float]]:
    """Per-seed returns of the published agents on ``env`` (our id, e.g. ``Hopper-v5``) at
    ``steps`` env steps: ``{agent: [return of each seed]}``, empty where none is recorded."""
    import csv

    out: dict[str, list[float]] = {}
    with PUBLISHED.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["env"] == env and int(row["env_steps"]) == steps:
                out.setdefault(row["agent"], []).append(float(row["return"]))
    return out
