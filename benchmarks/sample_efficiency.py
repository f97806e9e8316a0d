"""Sample efficiency: our agent and Stable-Baselines3 SAC on one env, same seeds, same env steps.

    python -m benchmarks.sample_efficiency --env Reacher-v5 --steps 30000 --seeds 0,1,2 \\
        --eval-every 5000 --methods ours,sac --out runs/se_reacher
    python -m benchmarks.sample_efficiency --merge runs/se_a runs/se_b --out runs/se_all
    python -m benchmarks.sample_efficiency --suite mujoco --seeds 0,1,2 --out runs/suite
    python -m benchmarks.sample_efficiency --summarize runs/suite

Each method trains once per seed, chunk by chunk, and is evaluated after every
``--eval-every`` env steps (and at ``--steps``) on ``--eval-episodes`` episodes of a
separate eval env. Both methods are evaluated by the library's one episode loop
(``agent.loops.evaluate``; SAC's model in a ``PolicyController``) on the same held-out
episode seeds (``EVAL_SEED + 10_000 * seed + i``; training never resets with those):
actions are deterministic (SAC's mean action; our agent's task mode without exploration
noise).

- **SAC**: ``SAC("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **kwargs)`` with
  ``--sac-recipe``'s hyperparameters (:data:`SAC_RECIPES`): by default the SAC paper's for
  MuJoCo after 10,000 uniformly random steps, as the published SAC baselines ran it;
  ``sb3`` is SB3's defaults (learning from the 100th step). Trained with
  ``model.learn(..., reset_num_timesteps=False)`` up to each evaluation step. A
  dict-observation goal env (Gymnasium-Robotics ``PointMaze_UMaze-v3``, our
  ``jepa_agent/Reach2D-v0``) gets ``MultiInputPolicy`` and a ``HerReplayBuffer`` (4 sampled
  goals, ``future``). SB3's HER cannot sample before the first episode ends, so there
  ``learning_starts`` is at least the episode length.
- **ours**: ``Agent.from_config`` on ``--config`` (else the defaults for the env: the
  reward tasks' recipe, ``configs/reward.yaml``, on a reward-defined env) with
  ``task.env`` and ``seed`` set, trained with ``agent.train`` on ``--num-envs`` envs in
  lockstep (see :func:`run_ours` for the contract it relies on). ``agent.train`` may pass
  an evaluation step by up to one step of the envs; each chunk aims at the absolute step
  (overshoot does not add up) and the records hold the agent's own ``env_steps``.

Writes to ``--out``:

==========================  ============================================================
``results.json``            one record per method, seed and evaluation: method, env, seed,
                            env_steps, mean_return, std_return, success_rate (null when
                            the env reports no ``is_success``/``success``), wall_s (that
                            method-seed run so far, training and evaluations); rewritten
                            after every evaluation, so a stopped run keeps what it has
``results.csv``             the same records
``learning_curves.png``     return (and success rate) vs env steps: mean over seeds,
                            min-max range shaded
``args.json``               the arguments, the eval seeds, SAC's settings, versions
``ours_seed{S}.pt``         our agent after its latest evaluation (a checkpoint for
                            ``jepa-agent eval``)
==========================  ============================================================

and prints a table of mean ± std over seeds per method and evaluation. ``--merge`` combines
the results of runs made as separate processes (seeds or methods in parallel) into one
folder with the same files and table.

``--suite mujoco`` runs every env of the suite (``benchmarks/suites.py``: Hopper, Walker2d,
HalfCheetah and Ant at 100k, Reacher at 30k, Pusher at 50k; ``--envs`` picks some), each
into ``--out/<env>/`` with the files above, evaluated every tenth of its budget unless
``--eval-every`` is given, and after each env writes ``suite.json`` and ``suite.md``: the
interquartile mean over seeds of the final evaluation with its 95% bootstrap interval, beside
the target and the published agents' numbers. ``--summarize DIR`` rebuilds them (suite envs
run as separate processes into one ``DIR``).
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from benchmarks import common
from benchmarks.suites import EVALUATIONS_PER_RUN, SUITES, folder_name, write_summary
from jepa_agent.agent.loops import Controller, PolicyController
from jepa_agent.agent.loops import evaluate as run_episodes
from jepa_agent.memory import atomic_write_text

METHODS = ("ours", "sac")
"""Valid ``--methods`` names."""
EVAL_SEED = 1_000_000
"""Evaluation episode i of a run with seed s resets with ``EVAL_SEED + 10_000 * s + i``."""
RECORD_KEYS = ("method", "env", "seed", "env_steps", "mean_return", "std_return", "success_rate", "wall_s")
"""Columns of results.json / results.csv, in order."""
SB3_LEARNING_STARTS = 100
"""SB3 SAC's default ``learning_starts``."""
SAC_RECIPES: dict[str, dict[str, Any]] = {
    # Haarnoja et al. 2018 ("Soft Actor-Critic Algorithms and Applications", Table 1), with the
    # 10,000 uniformly random first steps of the common MuJoCo setups (Spinning Up, RL Zoo's
    # Hopper/HalfCheetah/Walker2d/Ant, and the SAC baselines of the MR.Q and SimbaV2 papers).
    # SB3's defaults equal it except that SAC learns from the 100th step on, from a buffer that
    # holds only the first few (short, falling) episodes.
    "published": dict(learning_rate=3e-4, buffer_size=1_000_000, learning_starts=10_000, batch_size=256,
                      tau=0.005, gamma=0.99, train_freq=1, gradient_steps=1, ent_coef="auto",
                      target_entropy="auto", policy_kwargs=dict(net_arch=[256, 256])),
    "sb3": dict(learning_starts=SB3_LEARNING_STARTS),
}
"""``--sac-recipe`` -> SAC's keyword arguments (a goal env adds HER's)."""

Report = Callable[[int, Controller, gym.Env], None]
"""Called by a runner at each evaluation point with (env steps so far, what acts, its eval env)."""


# --------------------------------------------------------------------------- envs
def make_env(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> gym.Env:
    """``gym.make(env_id, **env_kwargs)`` after registering our and the robotics envs."""
    from jepa_agent.agent.environments import register_optional_suites

    register_optional_suites(env_id)
    return gym.make(env_id, **dict(env_kwargs or {}))


def is_goal_env(env: gym.Env) -> bool:
    """A dict observation with achieved/desired goals and a ``compute_reward``: HER applies."""
    space = env.observation_space
    keys = {"observation", "achieved_goal", "desired_goal"}
    return isinstance(space, gym.spaces.Dict) and keys <= set(space.spaces) and hasattr(env.unwrapped, "compute_reward")


# --------------------------------------------------------------------------- evaluation
def evaluate(controller: Controller, env: gym.Env, episodes: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Run ``episodes`` episodes of ``controller`` (our agent, or a baseline's model in a
    ``PolicyController``: :func:`sac_controller`); episode ``i`` resets with ``seed + i``. The
    library's one episode loop (``agent.loops.evaluate``): our agent gets each episode's goal
    there. Returns the undiscounted return of every episode ``(episodes,)`` and its
    final-step success ``(episodes,)``, or None for the success when some episode did not
    report one (neither ``is_success`` nor ``success`` in its last info).
    """
    records = run_episodes(controller, env, episodes, seed=seed)["records"]
    success = np.asarray([r["success_final"] for r in records], dtype=float)
    return np.asarray([r["return"] for r in records], dtype=float), None if np.isnan(success).any() else success


def sac_controller(model: Any) -> PolicyController:
    """An SB3 model's deterministic action (SAC's mean action) for the episode loop: its
    ``predict`` takes the envs' batched observations as they come. (B, A)"""
    return PolicyController(lambda obs: model.predict(obs, deterministic=True)[0])


def eval_points(steps: int, every: int) -> list[int]:
    """Env steps to evaluate at: every, 2 every, ..., and ``steps`` itself."""
    points = list(range(every, steps + 1, every))
    return points if points and points[-1] == steps else [*points, steps]


def eval_seed(seed: int) -> int:
    """First evaluation episode seed of a run with ``seed`` (shared by all methods)."""
    return EVAL_SEED + 10_000 * seed


# --------------------------------------------------------------------------- options
@dataclass(frozen=True)
class Options:
    """The validated command line."""

    env: str
    steps: int
    seeds: tuple[int, ...]
    eval_every: int
    methods: tuple[str, ...]
    out: Path
    config: Any  # an AgentConfig (its task.env_kwargs are used for both methods' envs)
    config_path: str | None
    eval_episodes: int
    threads: int
    num_envs: int
    sac_learning_starts: int
    """Resolved: the flag, else the recipe's (HER: at least one episode)."""
    sac_her: bool
    overrides: tuple[str, ...] = ()
    """The --set items applied to ``config``."""
    sac_recipe: str = "published"
    """A key of :data:`SAC_RECIPES`."""

    @property
    def eval_points(self) -> list[int]:
        return eval_points(self.steps, self.eval_every)


def _int_list(text: str, name: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--{name} must be comma-separated integers like 0,1,2, got {text!r}") from None
    if not values:
        raise ValueError(f"--{name} needs at least one value, got {text!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"--{name} has duplicates: {text!r}")
    if min(values) < 0:
        raise ValueError(f"--{name} must be non-negative, got {text!r}")
    return values


def _methods(text: str) -> tuple[str, ...]:
    names = tuple(m.strip() for m in text.split(",") if m.strip())
    if not names:
        raise ValueError(f"--methods needs at least one of {', '.join(METHODS)}, got {text!r}")
    unknown = [m for m in names if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method {unknown[0]!r}; known: {', '.join(METHODS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"--methods has duplicates: {text!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default=None, help="Gymnasium id (Reacher-v5, jepa_agent/Reach2D-v0, PointMaze_UMaze-v3)")
    p.add_argument("--suite", default=None, choices=sorted(SUITES),
                   help="run every env of a suite at its budget instead of --env (benchmarks/suites.py)")
    p.add_argument("--envs", default=None, help="with --suite: a comma-separated subset of its envs")
    p.add_argument("--steps", type=int, default=None,
                   help="training env steps per method and seed (with --suite: each env's budget unless given)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    p.add_argument("--eval-every", type=int, default=None,
                   help=f"evaluate every this many env steps (<= --steps; with --suite: steps / {EVALUATIONS_PER_RUN} unless given)")
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated subset of {', '.join(METHODS)}")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--config", default=None, help="our agent's config file (YAML/JSON); task.env and seed are set from the flags")
    p.add_argument("--eval-episodes", type=int, default=10, help="episodes per evaluation (default 10)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--num-envs", type=int, default=8, help="envs our agent collects in lockstep (default 8; SAC uses 1)")
    p.add_argument("--sac-recipe", default="published", choices=sorted(SAC_RECIPES),
                   help="SAC's hyperparameters: published (the SAC paper's for MuJoCo, 10k uniform random steps "
                        "first; default) or sb3 (Stable-Baselines3's defaults: learning starts after 100 steps)")
    p.add_argument("--sac-learning-starts", type=int, default=None,
                   help="SAC's learning_starts (default: the recipe's; with HER at least one episode)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="our agent's config overrides on top of --config (repeatable), e.g. --set cost.probe_weight=2")
    return p


def validate(args: argparse.Namespace) -> Options:
    """Check every argument (and that the env can be made) before anything trains."""
    from jepa_agent.agent.environments import default_config
    from jepa_agent.configurator.loading import apply_overrides, load_config, parse_override_tokens

    methods = _methods(args.methods)
    if "sac" in methods:
        try:
            import stable_baselines3  # noqa: F401
        except ImportError:
            raise ValueError("--methods sac needs stable-baselines3: pip install -e '.[bench]'") from None
    seeds = _int_list(args.seeds, "seeds")
    if args.env is None:
        raise ValueError("give --env ID, or --suite NAME")
    if args.steps is None or args.eval_every is None:
        raise ValueError("--steps and --eval-every are needed with --env")
    if args.envs is not None:
        raise ValueError("--envs needs --suite")
    if args.steps <= 0:
        raise ValueError(f"--steps must be positive, got {args.steps}")
    if args.eval_every <= 0:
        raise ValueError(f"--eval-every must be positive, got {args.eval_every}")
    if args.eval_every > args.steps:
        raise ValueError(f"--eval-every must be <= --steps={args.steps}, got {args.eval_every}")
    for flag in ("eval_episodes", "threads", "num_envs"):
        if getattr(args, flag) <= 0:
            raise ValueError(f"--{flag.replace('_', '-')} must be positive, got {getattr(args, flag)}")
    if args.eval_episodes > 10_000:  # eval seeds of seed s are EVAL_SEED + 10_000 s + i
        raise ValueError(f"--eval-episodes must be <= 10000 (the eval seed ranges of two seeds would overlap), got {args.eval_episodes}")
    if args.sac_learning_starts is not None and args.sac_learning_starts < 0:
        raise ValueError(f"--sac-learning-starts must be >= 0, got {args.sac_learning_starts}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out must be a folder, got the file {out}")

    sets = parse_override_tokens([f"--{item}" for item in args.set])
    if args.config:
        config = apply_overrides(load_config(args.config), sets)
    else:  # the defaults for the env: the reward tasks' recipe on a reward-defined env
        config = default_config({**sets, "task.env": args.env})
    env = make_env(args.env, config.task.env_kwargs)
    try:
        if "ours" in methods:
            config = apply_overrides(config, {"task.env": args.env})  # fails early on a bad task
        her = is_goal_env(env)
        horizon = env.spec.max_episode_steps if env.spec is not None else None
    finally:
        env.close()
    learning_starts = args.sac_learning_starts
    if "sac" in methods and her and horizon is not None:
        if learning_starts is None:
            learning_starts = max(SAC_RECIPES[args.sac_recipe]["learning_starts"], horizon)
        elif learning_starts < horizon:
            raise ValueError(
                f"--sac-learning-starts must be >= the episode length {horizon} with HER on {args.env} "
                f"(SB3's HerReplayBuffer cannot sample before an episode ends), got {learning_starts}"
            )
    return Options(
        env=args.env, steps=args.steps, seeds=seeds, eval_every=args.eval_every, methods=methods, out=out,
        config=config, config_path=args.config, eval_episodes=args.eval_episodes, threads=args.threads,
        num_envs=args.num_envs,
        sac_learning_starts=SAC_RECIPES[args.sac_recipe]["learning_starts"] if learning_starts is None else learning_starts,
        sac_her=her, overrides=tuple(args.set), sac_recipe=args.sac_recipe,
    )


def suite_options(args: argparse.Namespace) -> list[Options]:
    """One validated :class:`Options` per env of ``--suite`` (or of its ``--envs`` subset), each
    at the suite's budget unless ``--steps`` is given, into ``--out/<env>``."""
    budgets = SUITES[args.suite]
    envs = list(budgets) if args.envs is None else [e.strip() for e in args.envs.split(",") if e.strip()]
    unknown = [e for e in envs if e not in budgets]
    if unknown or not envs:
        raise ValueError(f"--envs must name envs of the {args.suite} suite ({', '.join(budgets)}), got {args.envs!r}")
    out = []
    for env in envs:
        steps = budgets[env] if args.steps is None else args.steps
        every = args.eval_every if args.eval_every is not None else max(1, steps // EVALUATIONS_PER_RUN)
        one = argparse.Namespace(**{**vars(args), "env": env, "steps": steps, "eval_every": min(every, steps),
                                    "envs": None, "out": str(Path(args.out) / folder_name(env))})
        out.append(validate(one))
    return out


def parse_args(argv: Sequence[str] | None = None) -> Options | list[Options]:
    """Parse and validate; a bad argument exits with argparse's usage and the reason. A
    ``--suite`` gives one :class:`Options` per env."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return suite_options(args) if args.suite else validate(args)
    except ValueError as err:  # ConfigError is a ValueError
        parser.error(str(err))
        raise  # unreachable: parser.error exits


# --------------------------------------------------------------------------- runners
def run_ours(opts: Options, seed: int, report: Report, on_steps: Callable[[int], None]) -> None:
    """Train our agent on ``opts.env`` for ``opts.steps``, calling ``report`` at each eval point.

    The contract with the agent (``agent.agent.Agent``):

    - ``Agent.from_config(config, env)`` with ``config.task.env`` = the env id, ``config.seed``;
    - ``agent.train(envs, steps, callback=)`` on ``num_envs`` envs in lockstep collects
      ``steps`` more env steps (give or take one step of the envs), counted in
      ``agent.env_steps``; the callback gets a dict with ``env_steps`` whenever an episode ends;
    - ``agent.loops.evaluate(agent, env, episodes, seed=)`` runs the eval episodes: it resets
      the agent with each episode's goal (none for a reward-defined task) and acts in the
      task's mode, without exploration noise.
    """
    from jepa_agent.agent.agent import Agent
    from jepa_agent.configurator.loading import apply_overrides

    config = apply_overrides(opts.config, {"task.env": opts.env, "seed": seed})
    train_envs = [make_env(opts.env, config.task.env_kwargs) for _ in range(opts.num_envs)]
    eval_env = make_env(opts.env, config.task.env_kwargs)
    agent = Agent.from_config(config, eval_env)
    try:
        for target in opts.eval_points:
            if agent.env_steps < target:  # aim at the absolute step: an overshoot does not add up
                agent.train(train_envs, target - agent.env_steps, callback=lambda d: on_steps(d["env_steps"]))
            report(agent.env_steps, agent, eval_env)
            # the latest agent, to evaluate again under other settings (`jepa-agent eval`)
            agent.save(opts.out / f"ours_seed{seed}.pt")
    finally:
        for env in [*train_envs, eval_env]:
            env.close()


def sac_kwargs(opts: Options) -> dict[str, Any]:
    """``SAC(policy, env, seed=, verbose=0, device="cpu", **sac_kwargs(opts))``: the recipe's
    hyperparameters, the resolved ``learning_starts`` and, on a goal env, HER."""
    # a deep copy: SB3 writes into the policy_kwargs it is given
    kwargs: dict[str, Any] = {**copy.deepcopy(SAC_RECIPES[opts.sac_recipe]), "learning_starts": opts.sac_learning_starts}
    if opts.sac_her:
        from stable_baselines3 import HerReplayBuffer

        kwargs["replay_buffer_class"] = HerReplayBuffer
        kwargs["replay_buffer_kwargs"] = dict(n_sampled_goal=4, goal_selection_strategy="future")
    return kwargs


def run_sac(opts: Options, seed: int, report: Report, on_steps: Callable[[int], None]) -> None:
    """Train SB3 SAC (``--sac-recipe``'s hyperparameters) on ``opts.env``, calling ``report`` at each eval point."""
    from stable_baselines3 import SAC
    from stable_baselines3.common.callbacks import BaseCallback

    class StepCallback(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % 50 == 0:
                on_steps(self.num_timesteps)
            return True

    env = make_env(opts.env, opts.config.task.env_kwargs)
    eval_env = make_env(opts.env, opts.config.task.env_kwargs)
    policy = "MultiInputPolicy" if isinstance(env.observation_space, gym.spaces.Dict) else "MlpPolicy"
    model = SAC(policy, env, seed=seed, verbose=0, device="cpu", **sac_kwargs(opts))
    callback = StepCallback()
    try:
        for target in opts.eval_points:
            model.learn(target - model.num_timesteps, callback=callback, reset_num_timesteps=False)
            report(model.num_timesteps, sac_controller(model), eval_env)
    finally:
        env.close()
        eval_env.close()


RUNNERS = {"ours": run_ours, "sac": run_sac}


# --------------------------------------------------------------------------- results
def write_results(records: Sequence[Mapping[str, Any]], out: Path) -> None:
    """results.json (with its provenance beside it) and results.csv, each replaced atomically."""
    common.write_json(out / "results.json", list(records), indent=1)
    rows = io.StringIO(newline="")
    writer = csv.DictWriter(rows, fieldnames=RECORD_KEYS)
    writer.writeheader()
    for r in records:
        writer.writerow({k: "" if r[k] is None else r[k] for k in RECORD_KEYS})
    atomic_write_text(out / "results.csv", rows.getvalue())


def by_eval(records: Sequence[Mapping[str, Any]]) -> dict[str, list[list[Mapping[str, Any]]]]:
    """Records per method, grouped by evaluation index (the i-th evaluation of every seed)."""
    out: dict[str, list[list[Mapping[str, Any]]]] = {}
    counters: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r["method"], r["seed"])
        i = counters.get(key, 0)
        counters[key] = i + 1
        groups = out.setdefault(r["method"], [])
        while len(groups) <= i:
            groups.append([])
        groups[i].append(r)
    return out


def plot_curves(records: Sequence[Mapping[str, Any]], path: Path, title: str) -> None:
    """Return (and success rate, when reported) vs env steps: mean over seeds, min-max shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = by_eval(records)
    has_success = any(r["success_rate"] is not None for r in records)
    fig, axes = plt.subplots(1, 2 if has_success else 1, figsize=(11 if has_success else 6, 4), squeeze=False)
    panels = [("mean_return", "return (eval, deterministic)")]
    if has_success:
        panels.append(("success_rate", "success rate"))
    for ax, (key, label) in zip(axes[0], panels, strict=True):
        for c, (method, evals) in enumerate(groups.items()):
            rows = [[r for r in g if r[key] is not None] for g in evals]
            rows = [g for g in rows if g]
            if not rows:
                continue
            x = np.array([np.mean([r["env_steps"] for r in g]) for g in rows])
            v = [np.array([r[key] for r in g], dtype=float) for g in rows]
            seeds = len({r["seed"] for g in rows for r in g})
            ax.plot(x, [a.mean() for a in v], color=f"C{c}", marker="o", ms=3, label=f"{method} ({seeds} seeds)")
            ax.fill_between(x, [a.min() for a in v], [a.max() for a in v], color=f"C{c}", alpha=0.2, lw=0)
        ax.set(xlabel="env steps", ylabel=label, title=f"{title}: {label}")
        if key == "success_rate":
            ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pm(values: Sequence[float], fmt: str) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():{fmt}} ± {a.std():{fmt}}"


def summary_table(records: Sequence[Mapping[str, Any]], title: str):
    """A rich table: per method and evaluation, mean ± std over seeds (std with ddof 0)."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("method", "env steps", "seeds", "return (mean ± std over seeds)", "success", "wall s"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for method, evals in by_eval(records).items():
        for g in evals:
            steps = sorted({r["env_steps"] for r in g})
            shown = str(steps[0]) if len(steps) == 1 else f"{steps[0]}-{steps[-1]}"
            success = [r["success_rate"] for r in g]
            table.add_row(
                method, shown, str(len(g)), _pm([r["mean_return"] for r in g], ".2f"),
                "-" if any(s is None for s in success) else _pm(success, ".2f"),
                f"{np.mean([r['wall_s'] for r in g]):.0f}",
            )
    return table


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "torch": torch.__version__, "gymnasium": gym.__version__}
    try:
        import stable_baselines3

        out["stable_baselines3"] = stable_baselines3.__version__
    except ImportError:
        pass
    return out


# --------------------------------------------------------------------------- main
def run(opts: Options) -> list[dict[str, Any]]:
    """Train and evaluate every method on every seed; write and return the records."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    opts.out.mkdir(parents=True, exist_ok=True)
    common.write_json(opts.out / "args.json", {
        "env": opts.env, "steps": opts.steps, "seeds": list(opts.seeds), "eval_every": opts.eval_every,
        "eval_points": opts.eval_points, "methods": list(opts.methods), "config": opts.config_path,
        "set": list(opts.overrides),
        "eval_episodes": opts.eval_episodes, "eval_seeds": {s: eval_seed(s) for s in opts.seeds},
        "threads": opts.threads, "num_envs": opts.num_envs,
        "sac": {"recipe": opts.sac_recipe, "learning_starts": opts.sac_learning_starts, "her": opts.sac_her},
        "versions": _versions(),
    }, indent=1)
    console = Console()
    records: list[dict[str, Any]] = []
    runs = [(seed, method) for seed in opts.seeds for method in opts.methods]  # seeds outer: a stopped
    # run has both methods on the same seeds
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        overall = progress.add_task("all runs", total=len(runs) * opts.steps)
        done_steps = 0
        for seed, method in runs:
            task = progress.add_task(f"{method} seed {seed}", total=opts.steps)
            t0 = time.perf_counter()

            def on_steps(env_steps: int, task=task, offset=done_steps) -> None:
                progress.update(task, completed=min(env_steps, opts.steps))
                progress.update(overall, completed=offset + min(env_steps, opts.steps))

            def report(env_steps: int, controller: Controller, env: gym.Env, method=method, seed=seed, t0=t0,
                       on_steps=on_steps) -> None:
                on_steps(env_steps)
                returns, success = evaluate(controller, env, opts.eval_episodes, eval_seed(seed))
                record = {
                    "method": method, "env": opts.env, "seed": seed, "env_steps": int(env_steps),
                    "mean_return": float(returns.mean()), "std_return": float(returns.std()),
                    "success_rate": None if success is None else float(success.mean()),
                    "wall_s": time.perf_counter() - t0,
                }
                records.append(record)
                write_results(records, opts.out)
                ok = "" if success is None else f", success {record['success_rate']:.2f}"
                console.log(f"{method} seed {seed} @ {env_steps} steps: return {record['mean_return']:.2f} "
                            f"± {record['std_return']:.2f}{ok} ({record['wall_s']:.0f} s)")

            RUNNERS[method](opts, seed, report, on_steps)
            done_steps += opts.steps
            progress.update(task, completed=opts.steps)
            progress.update(overall, completed=done_steps)
            plot_curves(records, opts.out / "learning_curves.png", opts.env)
    plot_curves(records, opts.out / "learning_curves.png", opts.env)
    console.print(summary_table(records, f"{opts.env}: {opts.eval_episodes} eval episodes per point, "
                                         f"{len(opts.seeds)} seed(s)"))
    console.print(f"results in {opts.out}/results.json, results.csv, learning_curves.png")
    return records


def merge(folders: Sequence[str], out: str) -> list[dict[str, Any]]:
    """Combine the results.json of several runs of this script (seeds or methods run as
    separate processes) into ``out``: results.json, results.csv, learning_curves.png, table."""
    from rich.console import Console

    records: list[dict[str, Any]] = []
    for folder in folders:
        path = Path(folder) / "results.json"
        if not path.is_file():
            raise SystemExit(f"benchmarks.sample_efficiency --merge: no results.json in {folder}")
        records += json.loads(path.read_text())
    envs_seen = sorted({r["env"] for r in records})
    if len(envs_seen) != 1:
        raise SystemExit(f"benchmarks.sample_efficiency --merge: the runs must share one env, got {envs_seen}")
    records.sort(key=lambda r: (r["method"], r["seed"], r["env_steps"]))
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    write_results(records, target)
    plot_curves(records, target / "learning_curves.png", envs_seen[0])
    Console().print(summary_table(records, f"{envs_seen[0]}: merged from {len(folders)} runs"))
    return records


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--merge"]:
        # python -m benchmarks.sample_efficiency --merge DIR [DIR ...] --out DIR
        if "--out" not in argv or argv.index("--out") + 2 != len(argv):
            raise SystemExit("usage: python -m benchmarks.sample_efficiency --merge DIR [DIR ...] --out DIR")
        return merge(argv[1:argv.index("--out")], argv[-1])
    if argv[:1] == ["--summarize"]:
        # python -m benchmarks.sample_efficiency --summarize DIR
        if len(argv) != 2:
            raise SystemExit("usage: python -m benchmarks.sample_efficiency --summarize DIR")
        return summarize_suite(argv[1])
    opts = parse_args(argv)
    if isinstance(opts, Options):
        common.setup(opts.threads)
        return run(opts)
    common.setup(opts[0].threads)
    records: list[dict[str, Any]] = []
    for one in opts:  # env by env; the summary is rewritten after each, so a stopped suite keeps what it has
        records += run(one)
        summarize_suite(one.out.parent)
    return records


def summarize_suite(folder: str | Path) -> list[dict[str, Any]]:
    """Rewrite ``folder``'s suite.json and suite.md from its envs' results; print the table;
    return every env's records."""
    from rich.console import Console

    try:
        write_summary(folder)
    except FileNotFoundError as err:
        raise SystemExit(f"benchmarks.sample_efficiency --summarize: {err}") from None
    Console().print(Path(folder, "suite.md").read_text())
    return [r for path in sorted(Path(folder).glob("*/results.json")) for r in json.loads(path.read_text())]


if __name__ == "__main__":
    main()
