"""Reliability: bad input, faults, exact resume, training under load, and a soak run.

    python -m benchmarks.reliability --json runs/reliability.json              # soak: 50,000 env steps
    python -m benchmarks.reliability --json runs/reliability.json --soak-steps 5000

Six checks, each reported in the JSON file (and printed as a table):

- **Bad input.** ``benchmarks.bad_inputs``' cases: ``--cases`` generated bad inputs (configs,
  overrides, observations, transitions, env ids, actions, module sizes, checkpoints, replay
  files, the ``jepa-agent`` commands), each of which must get one clear error line naming what
  was wrong. ``bad_inputs_tried`` / ``bad_inputs_clear_error``; the failures are listed.
- **Faults.** Short training runs (Reach2D, a tiny agent, 2 envs, 300 env steps), each with
  one kind of fault injected twice: an env that raises in ``step``, returns a NaN
  observation or reward, a MuJoCo state that goes unstable, a planner whose candidate costs
  are NaN, a module that raises while acting, a non-finite world-model loss, an update
  that raises. Survived: training reached its steps, the faults were counted under their
  kind, and the replay buffer and the weights hold only finite numbers.
- **Crafted files.** ``benchmarks.crafted_files``' cases: a pickle that would run a
  shell command, planted in checkpoints, resume states, replay buffers, frozen-encoder
  files, Minari datasets and model folders. ``crafted_files_ran`` must be 0 and every case
  refused in one line naming the file.
- **Resume.** Training N steps, saving with ``resume=True``, loading in a fresh agent and
  training M more ends with the same parameters, bit for bit, as N+M steps in one go (a
  goal task on Reach2D and a reward task with terminations on Hopper-v5).
- **Under load.** The median planner latency per action of an agent with the default
  config and thread count (``agent.app.console.DEFAULT_THREADS``) on Reacher-v5, alone and while
  busy processes hold all cores but one (3 alternations of 60 actions each, pooled); also
  with 2 threads under the same load, for contrast.
- **Soak.** ``--soak-steps`` env steps of ``Run.train`` (Reach2D, a small agent, a replay
  buffer of ``--soak-capacity`` steps): resident memory and open files measured after
  every 1,000 steps; the growth from the first measurement after the buffer is full to the
  end is reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from benchmarks import bad_inputs, common, crafted_files
from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.agent.app.cli import error_line
from jepa_agent.agent.app.console import DEFAULT_THREADS, prepare_process
from jepa_agent.envs.faults import InjectFaults


# --------------------------------------------------------------------------- faults
def weights(a: Agent) -> list[torch.Tensor]:
    """Every learned tensor of the agent's modules (the critic's target network's too)."""
    mods = (a.world_model, a.critic, a.critic._target() if a.critic else None, a.policy, a.probe, a.task_cost)
    return [t for mod in mods if mod is not None for t in mod.state_dict().values() if isinstance(t, torch.Tensor)]


def _finite(agent: Agent) -> bool:
    batch = agent.replay.sample(256, 1, rng=np.random.default_rng(0))
    arrays = [*batch["obs"].values(), batch["actions"], batch["costs"]]
    return all(np.isfinite(a).all() for a in arrays if a.dtype.kind == "f") and all(torch.isfinite(w).all() for w in weights(agent))


def inject(kind: str, steps: int = 300) -> dict[str, Any]:
    """Train with one kind of fault injected twice; what was counted and whether it survived."""
    agent = common.tiny_agent()
    envs_ = [gym.make(common.REACH), gym.make(common.REACH)]
    expected = {"env_error": "raise", "nonfinite_obs": "nan", "nonfinite_reward": "nan_reward", "sim_unstable": "explode"}
    injected = 2
    if kind in expected:
        envs_[0] = InjectFaults(envs_[0], {30: expected[kind], 120: expected[kind]})
    elif kind == "act_error":
        real, calls = agent.collect_actor.act, []

        def act(*a, **kw):
            calls.append(1)
            if len(calls) in (5, 40):
                raise RuntimeError("a user module failed")
            return real(*a, **kw)

        agent.collect_actor.act = act
    elif kind == "nonfinite_loss":
        real_loss, n = agent.world_model.loss, []

        def loss(batch, **kw):
            value, info = real_loss(batch, **kw)
            n.append(1)
            return (value * float("nan") if len(n) in (3, 30) else value), info

        agent.world_model.loss = loss
    elif kind == "update_error":
        real_critic, m = agent.critic.loss, []

        def critic_loss(batch):
            m.append(1)
            if len(m) in (2, 20):
                raise ValueError("a user critic failed")
            return real_critic(batch)

        agent.critic.loss = critic_loss
    elif kind == "nonfinite_cost":
        for actor in {id(agent.actor): agent.actor, id(agent.collect_actor): agent.collect_actor}.values():
            planner, evaluate = actor.planner, actor.planner.evaluate
            seen = []

            def nan_costs(problem, actions, z=None, _evaluate=evaluate, _planner=planner, _seen=seen):
                costs = _evaluate(problem, actions, z)
                _seen.append(1)
                if len(_seen) in (3, 25):
                    costs = costs.clone()
                    costs[:, ::2] = float("nan")
                    return _planner._rank_nonfinite_last(costs)
                return costs

            planner.evaluate = nan_costs
    else:
        raise ValueError(f"unknown fault kind {kind!r}")
    error = None
    try:
        agent.train(envs_, steps)
    except Exception as err:
        error = error_line(err)
    counted = agent.faults.get(kind, 0)
    survived = error is None and agent.env_steps >= steps and counted == injected and _finite(agent)
    return {"kind": kind, "injected": injected, "counted": counted, "survived": survived,
            "error": error, "faults": dict(agent.faults)}


FAULT_KINDS = ["env_error", "nonfinite_obs", "nonfinite_reward", "sim_unstable", "nonfinite_cost", "act_error",
               "nonfinite_loss", "update_error"]


def run_faults() -> dict[str, Any]:
    records = [inject(kind) for kind in FAULT_KINDS]
    return {
        "faults_injected": sum(r["injected"] for r in records),
        "faults_survived": sum(r["injected"] for r in records if r["survived"]),
        "fault_runs": records,
    }


# --------------------------------------------------------------------------- resume
def resume_equal(env_id: str, folder: Path, n: int = 230, m: int = 170) -> bool:
    over = {"task.env": env_id, **({} if env_id.startswith("jepa_agent/") else {"task.objective": "reward"})}
    straight = common.tiny_agent(n + m, **over)
    first = common.tiny_agent(n, **over)
    first.save(folder / "resume.pt", resume=True)
    resumed = Agent.load(folder / "resume.pt", resume=True)
    resumed.train(resumed.envs, m)
    same = all(torch.equal(x, y) for x, y in zip(weights(straight), weights(resumed), strict=True))
    return same and (straight.env_steps, straight.updates) == (resumed.env_steps, resumed.updates)


# --------------------------------------------------------------------------- under load
BUSY = "import time\nend = time.time() + {s}\nwhile time.time() < end:\n    pass\n"


def act_times_ms(agent: Agent, env: gym.Env, threads: int, acts: int) -> list[float]:
    """ms per planner action (the agent's default planner and budget), after 3 warm-up acts."""
    torch.set_num_threads(threads)
    obs, _ = env.reset(seed=0)
    agent.reset()
    times = []
    for _ in range(acts + 3):
        t0 = time.perf_counter()
        action = agent.act(obs)
        times.append((time.perf_counter() - t0) * 1e3)
        obs, *_ = env.step(action)
    return times[3:]


def under_load(acts: int = 60, trials: int = 3, *, two_threads: bool = True) -> dict[str, Any]:
    """Median ms per action alone and with busy processes on all cores but one, for the
    default thread count and (``two_threads``: the ``*_2_threads`` keys) for 2 threads;
    ``trials`` alternations of alone and loaded blocks of ``acts`` actions, pooled (other
    tenants of a shared machine come and go)."""
    cores = os.cpu_count() or 1
    busy_n = max(1, cores - 1)
    counts = (DEFAULT_THREADS, 2) if two_threads else (DEFAULT_THREADS,)
    agent, env, _ = common.reacher_agent()
    times: dict[tuple[int, str], list[float]] = {}
    for _ in range(trials):
        for threads in counts:
            times.setdefault((threads, "alone"), []).extend(act_times_ms(agent, env, threads, acts))
        procs = [subprocess.Popen([sys.executable, "-c", BUSY.format(s=600)]) for _ in range(busy_n)]
        try:
            time.sleep(0.3)
            for threads in counts:
                times.setdefault((threads, "loaded"), []).extend(act_times_ms(agent, env, threads, acts))
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
    torch.set_num_threads(DEFAULT_THREADS)
    med = {k: float(np.median(v)) for k, v in times.items()}
    out = {
        "cores": cores, "busy_processes": busy_n, "default_threads": DEFAULT_THREADS, "load_trials": trials,
        "act_ms_alone": med[DEFAULT_THREADS, "alone"], "act_ms_loaded": med[DEFAULT_THREADS, "loaded"],
        "load_slowdown": med[DEFAULT_THREADS, "loaded"] / med[DEFAULT_THREADS, "alone"],
    }
    if two_threads:
        out |= {"act_ms_alone_2_threads": med[2, "alone"], "act_ms_loaded_2_threads": med[2, "loaded"],
                "load_slowdown_2_threads": med[2, "loaded"] / med[2, "alone"]}
    return out


# --------------------------------------------------------------------------- soak
def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def soak(steps: int, capacity: int, folder: Path) -> dict[str, Any]:
    from jepa_agent.agent.app.run import Run, RunOptions

    config = common.tiny_config(**{"replay.capacity": capacity, "seed": 0})
    run = Run(config, folder / "soak", RunOptions(steps=steps, num_envs=4, episodes=1, log=("csv",), save_every=10_000,
                                                 log_every=250))
    samples: list[dict[str, float]] = []

    def on_progress(d: dict[str, Any]) -> None:
        samples.append({"env_steps": d["env_steps"], "rss_mb": rss_mb(), "open_files": open_files(),
                        "replay_steps": run.agent.replay.num_steps})

    t0 = time.perf_counter()
    run.train(on_progress=on_progress)
    wall = time.perf_counter() - t0
    run.close()
    full = [s for s in samples if s["replay_steps"] >= capacity - 200]
    base = full[0] if full else samples[0]
    return {
        "soak_env_steps": run.agent.env_steps,
        "soak_updates": run.agent.updates,
        "soak_wall_s": wall,
        "soak_replay_capacity": capacity,
        "soak_buffer_full_at": base["env_steps"] if full else None,
        "soak_rss_mb_at_full": base["rss_mb"],
        "soak_rss_mb_end": samples[-1]["rss_mb"],
        "soak_rss_growth_mb": samples[-1]["rss_mb"] - base["rss_mb"],
        "soak_rss_peak_mb": max(s["rss_mb"] for s in samples),
        "soak_open_files_at_full": base["open_files"],
        "soak_open_files_end": samples[-1]["open_files"],
        "soak_open_files_growth": samples[-1]["open_files"] - base["open_files"],
        "soak_samples": samples,
    }


# --------------------------------------------------------------------------- main
def run_all(soak_steps: int, soak_capacity: int, seed: int = 0, cases: int | None = None,
            load_acts: int = 60) -> dict[str, Any]:
    prepare_process(DEFAULT_THREADS)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        out |= bad_inputs.run(seed, folder, cases)
        out |= run_faults()
        out["resume_bitwise_equal_by_env"] = {e: resume_equal(e, folder) for e in (common.REACH, "Hopper-v5")}
        out["resume_bitwise_equal"] = all(out["resume_bitwise_equal_by_env"].values())
        out |= crafted_files.run(folder / "crafted")
        out["checks_wall_s"] = time.perf_counter() - t0
        out |= under_load(load_acts)
        out |= soak(soak_steps, soak_capacity, folder)
    return out  # the machine and the versions: the results file's provenance (common.write_json)


TARGETS = [
    ("bad_inputs_clear_error", lambda r: r["bad_inputs_clear_error"] == r["bad_inputs_tried"] >= 200,
     "== bad_inputs_tried >= 200"),
    ("faults_survived", lambda r: r["faults_survived"] == r["faults_injected"], "== faults_injected"),
    ("resume_bitwise_equal", lambda r: r["resume_bitwise_equal"], "true"),
    ("crafted_files_ran", lambda r: r["crafted_files_ran"] == 0 and r["crafted_files_tried"] >= 10, "== 0 of >= 10"),
    ("crafted_files_clear_error", lambda r: r["crafted_files_clear_error"] == r["crafted_files_tried"],
     "== crafted_files_tried"),
    ("load_slowdown", lambda r: r["load_slowdown"] <= 2.0, "<= 2"),
    ("soak_rss_growth_mb", lambda r: r["soak_rss_growth_mb"] < 100, "< 100"),
    ("soak_open_files_growth", lambda r: r["soak_open_files_growth"] <= 0, "<= 0"),
]


def main_(argv: Sequence[str] | None = None) -> int:
    p = common.parser(__doc__, full=True, json_out="optional")
    p.add_argument("--soak-steps", type=int, default=50_000, help="env steps of the soak run (default 50,000)")
    p.add_argument("--soak-capacity", type=int, default=10_000, help="replay capacity of the soak run (env steps)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated bad inputs")
    args = p.parse_args(argv)
    result = run_all(args.soak_steps, args.soak_capacity, args.seed)
    if args.json:
        common.write_json(args.json, result)
    common.show(result, ["bad_inputs_tried", "bad_inputs_clear_error", "faults_injected", "faults_survived",
                         "resume_bitwise_equal", "crafted_files_tried", "crafted_files_ran", "crafted_files_clear_error",
                         "act_ms_alone", "act_ms_loaded", "load_slowdown", "load_slowdown_2_threads", "soak_env_steps",
                         "soak_rss_growth_mb", "soak_open_files_growth", "soak_wall_s"])
    for failure in result["bad_input_failures"]:
        print("unclear:", failure)
    return 0 if common.targets_met(result, TARGETS) else 1


if __name__ == "__main__":
    sys.exit(main_())
