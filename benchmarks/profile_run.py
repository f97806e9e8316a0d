"""Where a training run's time goes: milliseconds per env step in planning, updates, simulation and the rest.

    python -m benchmarks.profile_run --config hopper --steps 3000 --json benchmarks/results/hopper-v5/profile.json

Trains the config's agent through its random phase and pretraining plus ``--warmup`` planner
steps (not timed), then times ``--steps`` more env steps of ``agent.train`` on ``--num-envs``
envs with wall-clock timers around the three parts of a collection step: the agent's action
(``Agent._act``: the planner's batched plan for the B envs, or the exploration planner's),
the learner's updates (``Learner.update``) and the envs' ``step``. What remains is the loop
itself (replay writes, exploration noise, bookkeeping). One torch thread by default: run it
alone on a core for numbers to quote.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks import common

PARTS = ("plan", "update", "simulate")


class Timer:
    """Seconds and calls accumulated per part."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self.calls = dict.fromkeys(PARTS, 0)
        self.on = False

    def wrap(self, part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return fn(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[part] += time.perf_counter() - t0
                self.calls[part] += 1

        return timed


def profile(config: Any, steps: int, num_envs: int, warmup: int) -> dict[str, Any]:
    """Train ``config``'s agent untimed to ``random_steps + warmup`` env steps, then time ``steps`` more."""
    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_env

    timer = Timer()
    envs = [make_env(config) for _ in range(num_envs)]
    for env in envs:
        env.step = timer.wrap("simulate", env.step)
    agent = Agent.from_config(config, envs[0])
    agent._act = timer.wrap("plan", agent._act)
    agent.learner.update = timer.wrap("update", agent.learner.update)
    agent.train(envs, config.training.random_steps + warmup)
    updates0, steps0 = agent.updates, agent.env_steps
    timer.on = True
    t0 = time.perf_counter()
    agent.train(envs, steps)
    wall = time.perf_counter() - t0
    timer.on = False
    n = agent.env_steps - steps0
    ms = {part: 1000 * timer.seconds[part] / n for part in PARTS}
    ms["other"] = 1000 * wall / n - sum(ms.values())
    for env in envs:
        env.close()
    return {
        "env": config.task.env, "num_envs": num_envs, "env_steps": n, "wall_s": wall,
        "ms_per_env_step": 1000 * wall / n, "ms_per_env_step_by_part": ms,
        "plan_calls": timer.calls["plan"], "ms_per_plan_call": 1000 * timer.seconds["plan"] / max(timer.calls["plan"], 1),
        "updates": agent.updates - updates0,
        "ms_per_update": 1000 * timer.seconds["update"] / max(agent.updates - updates0, 1),
        "minutes_per_100k_env_steps": wall / n * 100_000 / 60,
        "planner": config.task.planner.name, "horizon": config.task.actor.horizon,
        "updates_per_step": config.training.updates_per_step, "batch_size": config.training.batch_size,
        "window": config.training.window,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = common.parser(__doc__, full=True, json_out="optional", threads=1, sets=True)
    p.add_argument("--config", required=True, help="a shipped config's name or a config file")
    p.add_argument("--steps", type=int, default=3000, help="env steps timed (default 3000)")
    p.add_argument("--warmup", type=int, default=1000, help="planner env steps before the timing (default 1000)")
    p.add_argument("--num-envs", type=int, default=8, help="envs collected in lockstep (default 8, the CLI's)")
    args = p.parse_args(argv)
    for flag in ("steps", "num_envs"):
        if getattr(args, flag) <= 0:
            p.error(f"--{flag.replace('_', '-')} must be positive, got {getattr(args, flag)}")
    if args.warmup < 0:
        p.error(f"--warmup must be >= 0, got {args.warmup}")
    from jepa_agent.configurator.loading import apply_overrides, load_config

    common.setup(args.threads)
    config = load_config(args.config)
    if args.set:
        config = apply_overrides(config, common.overrides(args.set))
    result = profile(config, args.steps, args.num_envs, args.warmup)
    result["threads"] = args.threads
    result["set"] = list(args.set)  # what the profiled config changed from --config
    result["config"] = args.config
    parts = result["ms_per_env_step_by_part"]
    print(f"{result['env']}: {result['ms_per_env_step']:.2f} ms per env step "
          f"({result['minutes_per_100k_env_steps']:.1f} min per 100k) on {args.num_envs} envs: "
          + ", ".join(f"{k} {v:.2f}" for k, v in parts.items()))
    print(f"  {result['ms_per_plan_call']:.1f} ms per plan call ({result['plan_calls']}), "
          f"{result['ms_per_update']:.1f} ms per update ({result['updates']})")
    if args.json:
        common.write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
