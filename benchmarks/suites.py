"""Benchmark suites: which envs, at which budget, against which targets; and their summary.

``python -m benchmarks.sample_efficiency --suite mujoco`` trains every method on every env of
:data:`SUITES` ``["mujoco"]`` at its budget, each env into its own folder under ``--out``, and
after each env rewrites the suite's summary there (:func:`write_summary`):

``suite.json``   per env and method: the final evaluation's interquartile mean over seeds, its
                 95% bootstrap interval (``benchmarks/stats.py``), the seeds, the target, and
                 the published agents' numbers at the same step count
                 (``benchmarks/published_100k.csv``); per method, the IQM of target-normalised
                 scores over the envs with a stratified-bootstrap interval
``suite.md``     the same as a Markdown table

``python -m benchmarks.sample_efficiency --summarize DIR`` rebuilds them from ``DIR/*/results.json``
(envs or seeds run as separate processes into the same ``DIR``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common
from benchmarks.stats import bootstrap_ci, iqm

SUITES: dict[str, dict[str, int]] = {
    "mujoco": {
        "Hopper-v5": 100_000, "Walker2d-v5": 100_000, "HalfCheetah-v5": 100_000, "Ant-v5": 100_000,
        "Reacher-v5": 30_000, "Pusher-v5": 50_000,
    },
}
"""Env id -> training env steps, per suite."""

TARGETS: dict[str, float] = {
    "Hopper-v5": 2250.0, "Walker2d-v5": 3100.0, "HalfCheetah-v5": 7900.0, "Ant-v5": 2800.0,
    "Reacher-v5": -3.75, "Pusher-v5": -25.0,
}
"""The return each env's final evaluation should reach (the best published agents' at 100k on
the locomotion tasks; the solved thresholds elsewhere)."""

EVALUATIONS_PER_RUN = 10
"""A suite env is evaluated every ``budget // EVALUATIONS_PER_RUN`` env steps by default."""


def folder_name(env: str) -> str:
    """The folder of one env's results under the suite's ``--out``: its id with ``/`` as ``-``."""
    return env.replace("/", "-")


def final_returns(records: Sequence[Mapping[str, Any]], method: str) -> dict[int, float]:
    """Each seed's return at its last evaluation, for ``method``: ``{seed: mean_return}``."""
    last: dict[int, Mapping[str, Any]] = {}
    for r in records:
        if r["method"] == method and (r["seed"] not in last or r["env_steps"] >= last[r["seed"]]["env_steps"]):
            last[r["seed"]] = r
    return {seed: float(r["mean_return"]) for seed, r in sorted(last.items())}


def cell(values: Sequence[float]) -> dict[str, Any]:
    """IQM, 95% bootstrap interval and count of per-seed values."""
    lo, hi = bootstrap_ci(values)
    return {"iqm": iqm(values), "ci95": [lo, hi], "seeds": len(values), "values": [float(v) for v in values]}


def normalised(value: float, env: str) -> float:
    """A return as a fraction of the env's target, signed so that 1 is the target and higher is
    better (a negative target, a cost-like return, divides the other way)."""
    target = TARGETS[env]
    return value / target if target > 0 else target / value


def summarize(folder: str | Path) -> dict[str, Any]:
    """The suite's summary from ``folder/*/results.json`` (see the module's docstring)."""
    folder = Path(folder)
    paths = sorted(folder.glob("*/results.json"))
    if not paths:
        raise FileNotFoundError(f"no results: expected {folder}/<env>/results.json from a --suite run")
    envs: dict[str, Any] = {}
    methods: set[str] = set()
    for path in paths:
        records = json.loads(path.read_text())
        if not records:
            continue
        env = records[0]["env"]
        steps = max(r["env_steps"] for r in records)
        entry: dict[str, Any] = {"env_steps": steps, "target": TARGETS.get(env), "methods": {}, "published": {}}
        for method in sorted({r["method"] for r in records}):
            finals = final_returns(records, method)
            entry["methods"][method] = {**cell(list(finals.values())), "seed_ids": list(finals)}
            methods.add(method)
        budget = next((b for suite in SUITES.values() for e, b in suite.items() if e == env), steps)
        for agent, values in sorted(common.published(env, budget).items()):
            entry["published"][agent] = cell(values)
        ours, sac = entry["methods"].get("ours"), entry["methods"].get("sac")
        if ours and sac:
            entry["ours_vs_sac"] = ("ahead" if ours["ci95"][0] > sac["ci95"][1]
                                    else "behind" if ours["ci95"][1] < sac["ci95"][0] else "overlapping")
        envs[env] = entry
    overall = {}
    for method in sorted(methods):
        per_env = [[normalised(v, env) for v in e["methods"][method]["values"]]
                   for env, e in envs.items() if method in e["methods"] and env in TARGETS]
        if per_env:
            lo, hi = bootstrap_ci(per_env)  # stratified over envs
            overall[method] = {"iqm_of_target": iqm(np.concatenate([np.asarray(v) for v in per_env])),
                               "ci95": [lo, hi], "envs": len(per_env)}
    return {"envs": envs, "overall": overall}


def _fmt(c: Mapping[str, Any] | None) -> str:
    if c is None:
        return "-"
    lo, hi = c["ci95"]
    return f"{c['iqm']:.1f} [{lo:.1f}, {hi:.1f}] ({c['seeds']})"


def markdown(summary: Mapping[str, Any]) -> str:
    """The summary as Markdown: one row per env, ours and SAC, the target and the published agents."""
    methods = sorted({m for e in summary["envs"].values() for m in e["methods"]})
    agents = sorted({a for e in summary["envs"].values() for a in e["published"]})
    header = ["env", "steps", "target", *methods, *(["ours vs sac"] if {"ours", "sac"} <= set(methods) else []),
              *(f"{a} (published)" for a in agents)]
    lines = ["Final evaluation: interquartile mean over seeds [95% bootstrap interval] (seeds). "
             "Published agents ran Gym v4 envs; ours run v5.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for env, e in summary["envs"].items():
        row = [env, str(e["env_steps"]), "-" if e["target"] is None else f"{e['target']:g}",
               *(_fmt(e["methods"].get(m)) for m in methods)]
        if {"ours", "sac"} <= set(methods):
            row.append(e.get("ours_vs_sac", "-"))
        row += [_fmt(e["published"].get(a)) for a in agents]
        lines.append("| " + " | ".join(row) + " |")
    if summary["overall"]:
        lines += ["", "Over the envs (each seed's return as a fraction of its env's target; stratified bootstrap):", ""]
        for method, o in summary["overall"].items():
            lo, hi = o["ci95"]
            lines.append(f"- {method}: IQM {o['iqm_of_target']:.3f} of target [{lo:.3f}, {hi:.3f}] over {o['envs']} env(s)")
    return "\n".join(lines) + "\n"


def write_summary(folder: str | Path) -> dict[str, Any]:
    """Write ``suite.json`` (with its provenance) and ``suite.md`` into ``folder``; return the summary."""
    from jepa_agent.memory import atomic_write_text

    summary = summarize(folder)
    common.write_json(Path(folder) / "suite.json", summary, indent=1)
    atomic_write_text(Path(folder) / "suite.md", markdown(summary))
    return summary
