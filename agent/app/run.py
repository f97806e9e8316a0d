"""Runs: train an agent and evaluate it on held-out goals, writing one run folder.

Shared by ``jepa-agent train|eval|collect|show`` and ``examples/reach.py``; it logs and
never prints (progress goes to the callbacks the caller passes). A run folder holds:

===========================  ==========================================================
``config.yaml``              the resolved config (every field, defaults included)
``run.json``                 the run's options (:class:`RunOptions`), read by :meth:`Run.resume`
``provenance.json``          the package version, git commit, library versions, device and
                             time of the process that started the run (each resume adds
                             its own under ``resumed``; :mod:`agent.provenance`)
``checkpoint.safetensors``            the trained agent, resumable (``checkpoints/step_*.safetensors`` every N
                             steps, weights only)
``checkpoint.resume/``       the replay buffer and running episodes it resumes from
``history.json``             every training episode; the updates (at most 5,000 records)
``learning_curve.png``       success, distance, return, losses, embedding std and rank
``eval.json``                held-out success, distances, act latency, a random baseline,
                             the evaluating process's ``provenance``
``metrics.csv``              one row per batch of episodes (``log=("csv",)``)
``tensorboard/``             the same scalars for TensorBoard (``log=("tensorboard",)``)
``videos/eval_*.mp4``        evaluation episodes with the goal and the imagined plan
===========================  ==========================================================
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from jepa_agent.agent.agent import Agent
from jepa_agent.agent.app.metrics import MetricsLogger, learning_curve
from jepa_agent.agent.app.video import EpisodeRecorder, plan_path_source
from jepa_agent.agent.collection import latest_metrics, nanmean
from jepa_agent.agent.coverage import GoalCoverage
from jepa_agent.agent.environments import make_env, make_vector_env
from jepa_agent.agent.evaluation import PolicyController, evaluate
from jepa_agent.agent.provenance import provenance
from jepa_agent.configurator import AgentConfig
from jepa_agent.memory import ReplayBuffer, atomic_write_text

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_STEPS",
    "EVAL_SEED",
    "Run",
    "RunOptions",
    "checkpoint_summary",
    "collect",
    "default_steps",
    "evaluate_agent",
    "learning_curve",
    "make_env",
    "make_vector_env",
    "random_baseline",
    "write_provenance",
]

DEFAULT_STEPS = {
    "jepa_agent/Reach2D-v0": 20_000,
    "jepa_agent/Reach3D-v0": 30_000,
    "Reacher-v5": 30_000,
    "Pusher-v5": 50_000,
    "HalfCheetah-v5": 100_000,
    "Hopper-v5": 100_000,
    "PointMaze_UMaze-v3": 50_000,
}
"""Training env steps per env id when none are given (30k for other envs)."""
EVAL_SEED = 1_000_000
"""Evaluation episode i resets with ``EVAL_SEED + seed + i``: goals training never saw
(training seeds its first reset with ``seed * 10_000``, then lets the env's RNG run on)."""

Progress = Callable[[dict[str, Any]], None]


def default_steps(env_id: str) -> int:
    return DEFAULT_STEPS.get(env_id, 30_000)


def random_baseline(env: gym.Env, episodes: int, seed: int) -> dict[str, float]:
    """Uniform random actions on the same held-out episodes (:func:`agent.evaluation.evaluate`
    with a random policy): the floor to beat. Success and final distance are NaN where the
    env does not report them."""
    rng = np.random.default_rng(seed)
    low, high = env.action_space.low, env.action_space.high

    def act(obs: Any) -> np.ndarray:  # one env: (1, A)
        return rng.uniform(low, high, (1, *low.shape)).astype(np.float32)

    result = evaluate(PolicyController(act), env, episodes, seed=seed)
    return {k: result[k] for k in ("success_rate", "mean_final_distance", "mean_return", "std_return")}


def eval_config(config: AgentConfig, env_id: str | None, env_kwargs: dict[str, Any] | None) -> AgentConfig:
    """The config of the evaluation env: the task's, with another env id or options."""
    update: dict[str, Any] = {}
    if env_id is not None:
        update["env"] = env_id
    if env_kwargs is not None:
        update["env_kwargs"] = env_kwargs
    if not update:
        return config
    return config.model_copy(update={"task": config.task.model_copy(update=update)})


def evaluation_scores(result: dict[str, Any], env: gym.Env, baseline: dict[str, float]) -> dict[str, Any]:
    """The scores of ``eval.json``: success (by the task's criterion, final and any step),
    return, distances, the env's success threshold where it has one, and the random
    baseline's success and return."""
    threshold = getattr(env.unwrapped, "success_threshold", None)
    return {
        "success_rate": result["success_rate"],
        "success_rate_final": result["success_rate_final"],
        "success_rate_any": result["success_rate_any"],
        "success_threshold": None if threshold is None else float(threshold),
        "mean_final_distance": result["mean_final_distance"],
        "mean_return": result["mean_return"],
        "std_return": result["std_return"],
        "random_success_rate": baseline["success_rate"],
        "random_mean_final_distance": baseline["mean_final_distance"],
        "random_mean_return": baseline["mean_return"],
    }


def _is_goal_env(env: gym.Env) -> bool:
    spaces = getattr(env.observation_space, "spaces", None)
    return isinstance(spaces, Mapping) and "achieved_goal" in spaces and "desired_goal" in spaces


MAX_UPDATE_RECORDS = 5000
"""The run's history keeps at most this many update records (memory and ``history.json``
stay bounded over millions of updates); the learning curve needs no more."""


def thin_updates(records: list[dict[str, float]], limit: int = MAX_UPDATE_RECORDS) -> list[dict[str, float]]:
    """Past ``limit`` records, merge neighbours in pairs (the mean of each metric over the
    pair; ``update`` and ``env_steps`` of the later one) until at most ``limit`` remain:
    older stretches of a long run are kept at a coarser resolution, never dropped."""
    while len(records) > limit:
        merged = []
        for a, b in zip(records[0::2], records[1::2], strict=False):
            keys = dict.fromkeys([*a, *b])
            merged.append({
                k: b[k] if k in ("update", "env_steps") else nanmean([r[k] for r in (a, b) if k in r])
                for k in keys if k in ("update", "env_steps") or any(k in r for r in (a, b))
            })
        if len(records) % 2:
            merged.append(records[-1])
        records = merged
    return records


def batch_metrics(episodes: Sequence[dict], updates: Sequence[dict], recent: Sequence[dict]) -> dict[str, float]:
    """Scalars of one batch of training episodes: episode means, update means, recent success."""
    out = {
        "train/success": nanmean([e["success"] for e in episodes]),
        "train/success_recent": nanmean([e["success"] for e in recent]),
        "train/return": nanmean([e["return"] for e in episodes]),
        "train/final_distance": nanmean([e["final_distance"] for e in episodes]),
        "train/random_phase": float(any(e["random"] for e in episodes)),
    }
    keys = dict.fromkeys(k for u in updates for k in u if k not in ("update", "env_steps"))
    for key in keys:
        out[f"update/{key}"] = nanmean([u[key] for u in updates if key in u])
    return out


def evaluate_agent(
    agent: Agent,
    env: gym.Env,
    episodes: int,
    seed: int,
    *,
    videos: int = 0,
    video_dir: str | Path | None = None,
    plan_path: bool = True,
    on_progress: Progress | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """``agent.evaluate`` on ``episodes`` held-out goals, recording the first ``videos``.

    ``env``: one env, or a list of B envs evaluated at once (one batched plan per step;
    videos need one env). ``on_progress`` gets ``episode, episodes, success, env_steps``
    after every episode. The recorder only renders, so the returned results are those of an
    unrecorded run. Returns (the evaluation dict, the video paths).
    """
    envs = list(env) if isinstance(env, Sequence) else [env]
    recorder = None
    if videos > 0:
        if len(envs) > 1:
            raise ValueError(f"videos record one env; got {len(envs)} envs (evaluate with one env to record)")
        if video_dir is None:
            raise ValueError("videos > 0 needs a video_dir")
        source = plan_path_source(agent, envs[0]) if plan_path else None
        envs[0] = recorder = EpisodeRecorder(envs[0], video_dir, episodes=videos, plan_points=source, prefix="eval")
    counters = [_StepCounter(e) for e in envs]
    callback = None
    if on_progress is not None:
        def callback(d: dict[str, Any]) -> None:
            on_progress({**d, "env_steps": sum(c.steps for c in counters)})
    result = agent.evaluate(counters if len(counters) > 1 else counters[0], episodes, seed=seed, callback=callback)
    if recorder is not None:
        recorder.finish()
        if len(recorder.paths) < videos:
            log.info("%d of %d videos written: %s", len(recorder.paths), videos,
                     "the renderer could not start" if recorder.failed else f"only {episodes} episode(s) evaluated")
        return result, list(recorder.paths)
    return result, []


class _StepCounter(gym.Wrapper):
    """Counts env steps (for the evaluation's steps per second)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.steps = 0

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self.steps += 1
        return self.env.step(action)


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C: the run as it was is saved at ``path`` (resume it with
    :meth:`Run.resume`), or, when the stop came in the middle of a step, nothing was saved
    (``path`` None) and ``last`` is the newest checkpoint (None if there is none)."""

    def __init__(self, path: Path | None, env_steps: int, last: Path | None = None) -> None:
        if path is not None:
            message = f"interrupted at {env_steps} env steps; the agent is saved at {path} (continue it with --resume {path.parent})"
        else:
            message = (f"interrupted in the middle of step {env_steps}: nothing saved; "
                       + (f"the last checkpoint is {last}" if last is not None else "no checkpoint was written yet"))
        super().__init__(message)
        self.path, self.env_steps, self.last = path, env_steps, last


@dataclass(frozen=True)
class RunOptions:
    """What a run does besides the agent's config (the budget, logs, videos)."""

    steps: int | None = None
    """Training env steps in all (a resumed run counts those done); None: ``DEFAULT_STEPS``
    for the env."""
    episodes: int = 50
    """Held-out evaluation episodes."""
    num_envs: int = 8
    """Envs collected in lockstep while training."""
    coverage_cells: int = 10
    """Cells per axis of the goal space for the coverage metric of goal envs (0: off)."""
    log: tuple[str, ...] = ()
    """Metric backends: ``csv``, ``tensorboard``."""
    videos: int = 0
    """Evaluation episodes recorded to ``videos/``."""
    plan_path: bool = True
    """Draw the imagined end-effector path in the videos."""
    checkpoint_every: int = 0
    """Also save ``checkpoints/step_*.safetensors`` every this many env steps (0: only the final one)."""
    save_every: int = 10_000
    """Env steps between resumable saves of ``checkpoint.safetensors`` (with its replay buffer and
    running episodes); 0: only at the end and on Ctrl-C."""
    log_every: int = 1000
    """Env steps between rows of metrics and progress updates."""
    eval_env: str | None = None
    """Gymnasium id to evaluate on (None: the task's env)."""
    eval_env_kwargs: dict[str, Any] | None = None
    """Keyword arguments of the evaluation env (None: the task's ``env_kwargs``)."""


class Run:
    """Train, then evaluate, writing one run folder (see the module docstring).

    ``Run(config, out, options)`` writes ``config.yaml``, ``run.json`` (the options) and
    ``provenance.json``, and builds the envs and the agent; :meth:`train` and :meth:`evaluate` do the rest;
    :meth:`resume` continues a stopped run from its folder. Between the two the caller may
    touch global state the library leaves alone (``examples/reach.py`` rebuilds torch's
    thread pool).
    """

    def __init__(
        self, config: AgentConfig, out: str | Path, options: RunOptions = RunOptions(), *, agent: Agent | None = None
    ) -> None:
        self.config, self.options = config, options
        self.out = Path(out)
        self.steps = options.steps if options.steps is not None else default_steps(config.task.env)
        self.eval_seed = EVAL_SEED + config.seed
        # envs and agent first: a run refused for its env or config leaves no folder behind
        if agent is not None and agent.envs is not None:
            self.train_envs = agent.envs
        else:
            self.train_envs = make_vector_env(config, options.num_envs)
        self.eval_env = make_env(eval_config(config, options.eval_env, options.eval_env_kwargs), render=options.videos > 0)
        self.agent = agent if agent is not None else Agent.from_config(config, self.train_envs)
        self.out.mkdir(parents=True, exist_ok=True)
        config.save(self.out / "config.yaml")
        (self.out / "run.json").write_text(json.dumps(dataclasses.asdict(options), indent=2))
        resumed = agent is not None
        write_provenance(self.out / "provenance.json", provenance(self.agent.device), resumed=resumed)
        if not resumed and options.coverage_cells and _is_goal_env(self.eval_env):
            probe_env = make_env(config)
            self.agent.coverage = GoalCoverage.from_env(probe_env, samples=500, cells=options.coverage_cells)
            probe_env.close()
        self.metrics = MetricsLogger(self.out, options.log, resume_at=self.agent.env_steps if resumed else None)
        history = self.out / "history.json"
        self.history: dict[str, list] = (
            json.loads(history.read_text()) if resumed and history.is_file() else {"episodes": [], "updates": []}
        )
        self.diagnostics: dict[str, float] = {}
        self.train_wall_s = 0.0
        self.last_saved: Path | None = None
        self._t0 = time.perf_counter()

    @classmethod
    def resume(cls, out: str | Path, *, steps: int | None = None, trust_code: bool = False) -> Run:
        """Continue the run in folder ``out`` from its ``checkpoint.safetensors`` (replay buffer, RNG
        streams, running episodes and all): :meth:`train` then goes on to ``steps`` env
        steps in all (default: the run's own budget) exactly as the unstopped run would have.
        ``trust_code`` as in :meth:`Agent.load`.
        """
        out = Path(out)
        checkpoint = out / "checkpoint.safetensors"
        if not checkpoint.is_file():
            raise FileNotFoundError(f"{out} holds no checkpoint.safetensors to resume from")
        agent = Agent.load(checkpoint, resume=True, trust_code=trust_code)
        saved = out / "run.json"
        fields = json.loads(saved.read_text()) if saved.is_file() else {}
        fields["log"] = tuple(fields.get("log", ()))
        if steps is not None:
            fields["steps"] = steps
        options = RunOptions(**fields)
        return cls(agent.config, out, options, agent=agent)

    def train(self, on_progress: Progress | None = None, *, stop: Callable[[], bool] | None = None) -> dict[str, list]:
        """Collect and learn until ``steps`` env steps; save the checkpoint and the learning curve.

        ``on_progress`` gets ``env_steps, target, updates, phase, success, steps_per_s,
        last_update`` after every batch of episodes. ``stop`` is asked before every step;
        when it says True (the command line's Ctrl-C handler), the run is saved and
        :class:`TrainingInterrupted` raised. A ``KeyboardInterrupt`` that arrives between
        steps does the same; one in the middle of a step saves nothing (the state is half
        written) and says where the last checkpoint is.
        """
        self._t0 = time.perf_counter()
        try:
            self._train_until(self.steps, on_progress, stop)
        except KeyboardInterrupt:
            if not self.agent.between_steps:
                raise TrainingInterrupted(None, self.agent.env_steps, self.last_saved) from None
            raise TrainingInterrupted(self._save(), self.agent.env_steps) from None
        if stop is not None and self.agent.env_steps < self.steps:
            raise TrainingInterrupted(self._save(), self.agent.env_steps)
        self.train_wall_s = time.perf_counter() - self._t0
        self.diagnostics = self.agent.diagnostics()
        self._save()
        learning_curve(self.history, self.out / "learning_curve.png")
        return self.history

    def _save(self) -> Path:
        """Write the agent with everything resuming needs (atomically) and the history so
        far; return the checkpoint's path."""
        path = self.agent.save(self.out / "checkpoint.safetensors", resume=True)
        atomic_write_text(self.out / "history.json", json.dumps(self.history))
        self.last_saved = path
        return path

    def _train_until(self, target: int, on_progress: Progress | None, stop: Callable[[], bool] | None) -> None:
        agent, envs, opts, history = self.agent, self.train_envs, self.options, self.history
        t0, start = self._t0, agent.env_steps
        next_checkpoint = agent.env_steps + opts.checkpoint_every
        next_save = agent.env_steps + opts.save_every
        while agent.env_steps < target:
            if stop is not None and stop():
                return
            offset = time.perf_counter() - t0
            # One call per log_every steps: Agent.train continues the envs' running episodes
            # across calls, so the chunks do exactly what a single long call does (a test
            # checks it), with metrics in between.
            # rows at multiples of log_every, also in a run resumed between them
            part = agent.train(envs, min(opts.log_every - agent.env_steps % opts.log_every, target - agent.env_steps), stop=stop)
            if stop is not None and stop():
                history["episodes"] += part["episodes"]
                history["updates"] += part["updates"]
                return
            for e in part["episodes"]:
                e["wall_s"] += offset
            history["episodes"] += part["episodes"]
            history["updates"] += part["updates"]
            history["updates"] = thin_updates(history["updates"])
            elapsed = max(time.perf_counter() - t0, 1e-9)
            recent = history["episodes"][-20:]
            scalars = batch_metrics(part["episodes"], part["updates"], recent)
            scalars |= {"train/steps_per_s": (agent.env_steps - start) / elapsed,
                        "train/updates": agent.updates, "train/wall_s": elapsed}
            scalars |= {f"faults/{kind}": float(n) for kind, n in agent.faults.items()}
            if agent.coverage is not None:
                scalars["train/coverage"] = agent.coverage.fraction
            self.metrics.log(agent.env_steps, scalars)
            if opts.checkpoint_every and agent.env_steps >= next_checkpoint:
                agent.save(self.out / "checkpoints" / f"step_{agent.env_steps:07d}.safetensors")
                next_checkpoint += opts.checkpoint_every
            if opts.save_every and agent.env_steps >= next_save and agent.env_steps < target:
                self._save()
                next_save += opts.save_every
            if on_progress is not None:
                on_progress({
                    "env_steps": agent.env_steps,
                    "target": target,
                    "updates": agent.updates,
                    "phase": "random" if agent.exploring_randomly else "planner",
                    "success": scalars["train/success_recent"],
                    "return": nanmean([e["return"] for e in recent]),
                    "steps_per_s": scalars["train/steps_per_s"],
                    "last_update": latest_metrics(history["updates"][-60:]),
                })

    def evaluate(self, on_progress: Progress | None = None) -> dict[str, Any]:
        """Evaluate on held-out goals, compare with random actions, write ``eval.json``."""
        opts, agent = self.options, self.agent
        result, videos = evaluate_agent(
            agent, self.eval_env, opts.episodes, self.eval_seed, videos=opts.videos,
            video_dir=self.out / "videos", plan_path=opts.plan_path, on_progress=on_progress,
        )
        total_wall_s = time.perf_counter() - self._t0
        baseline = random_baseline(self.eval_env, opts.episodes, self.eval_seed)
        summary = {
            "env": self.eval_env.spec.id if self.eval_env.spec is not None else self.config.task.env,
            "objective": agent.configurator.objective,
            **evaluation_scores(result, self.eval_env, baseline),
            "episodes": result["episodes"],
            "env_steps": agent.env_steps,
            "updates": agent.updates,
            "train_wall_s": self.train_wall_s,
            "total_wall_s": total_wall_s,
            "act_ms_median": result["act_ms_median"],
            "act_ms_p90": result["act_ms_p90"],
            "planner": agent.task.planner.name,
            "horizon": agent.task.actor.horizon,
            "embed_std": self.diagnostics.get("embed_std", float("nan")),
            "embed_rank": self.diagnostics.get("embed_rank", float("nan")),
            "latent_dim": agent.world_model.latent_dim,
            "device": str(agent.device),
            "seed": self.config.seed,
            **({"videos": [str(p) for p in videos]} if videos else {}),
            "provenance": provenance(agent.device),
            "records": result["records"],
        }
        (self.out / "eval.json").write_text(json.dumps(summary, indent=2))
        self.metrics.log(agent.env_steps, {
            "eval/success_rate": summary["success_rate"],
            "eval/mean_final_distance": summary["mean_final_distance"],
            "eval/mean_return": summary["mean_return"],
            "eval/act_ms_median": summary["act_ms_median"],
            "eval/random_success_rate": summary["random_success_rate"],
            "eval/random_mean_return": summary["random_mean_return"],
        })
        return summary

    def close(self) -> None:
        self.metrics.close()
        self.train_envs.close()
        self.eval_env.close()


def collect(
    agent: Agent,
    envs: Any,
    steps: int,
    *,
    policy: str = "random",
    exploration_std: float = 0.0,
    seed: int = 0,
    on_progress: Progress | None = None,
) -> ReplayBuffer:
    """Run a policy in ``envs`` (a vector env, or a list of envs stepped as one) for ``steps``
    env steps; return the agent's replay.

    ``policy``: ``random`` (uniform actions held for ``training.exploration.random_repeat``
    steps, as training explores), ``plan`` (the agent's planner, mode 2) or ``policy``
    (its mode-1 policy). ``exploration_std`` adds Gaussian noise (fraction of the half-range)
    to the planner's or policy's actions. Nothing is learned. ``seed`` seeds the random
    actions and the envs' first reset (later resets let each env's RNG run on, as training
    does), so a collection repeats.
    """
    agent.collect(envs, steps, policy=policy, exploration_std=exploration_std, seed=seed, callback=on_progress)
    return agent.replay


def parameter_counts(agent: Agent) -> dict[str, int]:
    """Parameters per module: the encoder, the world model's predictor (without the
    encoder), its EMA target encoder, the critic, the policy and the probe."""
    def count(module: Any, exclude: frozenset[int] | set[int] = frozenset()) -> int:
        return sum(p.numel() for p in module.parameters() if id(p) not in exclude) if module is not None else 0

    enc = {id(p) for p in agent.encoder.parameters()}
    target = getattr(agent.world_model, "target_encoder", None)
    tgt = {id(p) for p in target.parameters()} if target is not None else set()
    return {
        "encoder": count(agent.encoder),
        "world_model": count(agent.world_model, enc | tgt),
        "target_encoder (EMA)": count(target),
        "critic": count(agent.critic),
        "policy": count(agent.policy),
        "probe": count(agent.probe),
    }


def checkpoint_summary(path: str | Path, *, trust_code: bool = False) -> dict[str, Any]:
    """What a checkpoint holds: env, env steps, updates, spaces, parameters per module, config
    and the provenance it was saved with."""
    from jepa_agent.agent.checkpoint import read_checkpoint, restore_agent

    state = read_checkpoint(path)  # read once: the agent and its provenance come from it
    agent = restore_agent(Agent, state, Path(path), device="cpu", trust_code=trust_code, world_model_options=None)
    saved_with = state.get("provenance")
    return {
        "checkpoint": str(path),
        "env": agent.config.task.env,
        "env_steps": agent.env_steps,
        "updates": agent.updates,
        "input_shapes": {k: list(v) for k, v in agent.input_shapes.items()},
        "action_dim": agent.action_dim,
        "latent_dim": agent.world_model.latent_dim,
        "parameters": parameter_counts(agent),
        **({"provenance": saved_with} if saved_with else {}),
        "config": agent.config.model_dump(mode="json"),
    }


def write_provenance(path: str | Path, record: dict[str, Any], *, resumed: bool = False) -> None:
    """Write a run folder's ``provenance.json``: ``record`` for a new run; for a resumed one,
    the record of the process that started it, with ``record`` appended to its ``resumed``
    list (a run continued by other code or on another machine says so)."""
    path = Path(path)
    if resumed and path.is_file():
        first = json.loads(path.read_text())
        record = {**first, "resumed": [*first.get("resumed", []), record]}
    atomic_write_text(path, json.dumps(record, indent=2))


