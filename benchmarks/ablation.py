"""One results file from training runs that differ from a base config: what each changed, what it scored.

Each run folder is one ``jepa-agent train --config BASE --set ...`` run (its ``config.yaml``,
``eval.json`` and ``metrics.csv``). The variant's name is what its config changes from the base,
read from the config itself, so a row cannot claim a change the run did not make::

    jepa-agent train --config hopper --steps 40000 --out runs/h_cap --set critic.options.hidden_dim=256
    python -m benchmarks.ablation --base hopper runs/h_base runs/h_cap --json benchmarks/results/hopper-v5/ablation_40k.json

Per run: the evaluation's mean and std return (its deterministic episodes at the end of
training), the mean training return over the last ``--tail`` env steps, and the critic's mean
value over the same steps (the updates' ``critic_value``). Where the folder holds an
``audit.json`` (``python -m benchmarks.diagnostics.reward_audit RUN/checkpoint.safetensors
--json RUN/audit.json``), the row adds the critic's value against the Monte-Carlo return of
the planner's audit episodes.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks import common

IGNORED = ("device", "seed")
"""Config keys that are not part of a variant (the seed is its own column)."""


def differences(config: Mapping[str, Any], base: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``key=value`` for every leaf where ``config`` differs from ``base`` (dotted keys, sorted)."""
    out: list[str] = []
    for key in sorted(set(config) | set(base)):
        name = f"{prefix}{key}"
        if name in IGNORED:
            continue
        a, b = config.get(key), base.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping) and "name" in a and a["name"] != b.get("name"):
            out.append(f"{name}={json.dumps(a)}")  # another module: its options are its own, not changes
        elif isinstance(a, Mapping) and isinstance(b, Mapping):
            out += differences(a, b, f"{name}.")
        elif a != b:
            out.append(f"{name}={json.dumps(a)}")
    return out


def tail_means(metrics: Path, tail: int) -> dict[str, float]:
    """Mean training return and critic value over the last ``tail`` env steps of ``metrics.csv``."""
    with metrics.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{metrics} has no rows")
    last = int(float(rows[-1]["step"]))
    out: dict[str, float] = {}
    for key, name in (("train/return", "train_return_tail"), ("update/critic_value", "critic_value_tail")):
        values = [float(r[key]) for r in rows if r.get(key) and int(float(r["step"])) > last - tail]
        out[name] = sum(values) / len(values) if values else math.nan
    return out


def summarise(run: Path, config: Mapping[str, Any], base: Mapping[str, Any], tail: int) -> dict[str, Any]:
    """One row: the run's differences from ``base`` (``config``: its ``config.yaml``) and its scores."""
    for name in ("eval.json", "metrics.csv"):
        if not (run / name).is_file():
            raise ValueError(f"{run} is not a finished training run: {name} is missing")
    evaluation = json.loads((run / "eval.json").read_text())
    changes = differences(config, base)
    return {
        "run": run.name,
        "variant": ", ".join(changes) if changes else "base",
        "changes": changes,
        "seed": config.get("seed"),
        "env_steps": evaluation["env_steps"],
        "updates": evaluation["updates"],
        "eval_episodes": evaluation["episodes"],
        "eval_mean_return": evaluation["mean_return"],
        "eval_std_return": evaluation["std_return"],
        "train_wall_s": evaluation["train_wall_s"],
        "act_ms_median": evaluation["act_ms_median"],
        **tail_means(run / "metrics.csv", tail),
        **audit_columns(run / "audit.json"),
    }


def audit_columns(path: Path) -> dict[str, Any]:
    """The critic's value and the Monte-Carlo return of a reward audit's planner episodes, and
    the audit's returns of the planner, the distilled policy and the critic's own actor (empty
    without an audit)."""
    if not path.is_file():
        return {}
    audit = json.loads(path.read_text())
    critic = audit.get("critic") or {}
    if not critic.get("states"):
        return {}
    returns = {f"audit_{name}_return": audit[name]["mean_return"]
               for name in ("planner", "policy", "critic_actor") if audit.get(name)}
    return {"audit_value_mean": critic["value_mean"], "audit_mc_mean": critic["mc_mean"],
            "audit_value_corr": critic["corr"], **returns}


def base_config(name: str, env: str) -> dict[str, Any]:
    """The base config as a run folder records it in ``config.yaml`` (every field, on the runs' env)."""
    from jepa_agent.configurator.loading import apply_overrides, load_config

    return apply_overrides(load_config(name), {"task.env": env}).model_dump(mode="json")


def collect(runs: Sequence[Path], base: str, tail: int) -> dict[str, Any]:
    """Every run's row against ``base`` (on the runs' one env)."""
    from jepa_agent.configurator import AgentConfig
    from jepa_agent.configurator.loading import read_config_data

    if not runs:
        raise ValueError("name at least one run folder")
    missing = [str(r) for r in runs if not (r / "config.yaml").is_file()]
    if missing:
        raise ValueError(f"no config.yaml in {missing}: name training run folders")
    # validated: a field added after a run was written counts as its default, not as a change
    configs = [AgentConfig.model_validate(read_config_data(r / "config.yaml")).model_dump(mode="json") for r in runs]
    envs = {c["task"]["env"] for c in configs}
    if len(envs) != 1:
        raise ValueError(f"the runs train on different envs {sorted(envs)}; an ablation compares one task")
    env = envs.pop()
    reference = base_config(base, env)
    rows = [summarise(r, c, reference, tail) for r, c in zip(runs, configs, strict=True)]
    return {"base": base, "env": env, "tail_steps": tail, "runs": rows}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = common.parser(__doc__, full=True, json_out="required")
    p.add_argument("runs", nargs="+", type=Path, help="finished training run folders")
    p.add_argument("--base", required=True, help="the config the runs changed (a shipped name or a file)")
    p.add_argument("--tail", type=int, default=5000, help="env steps at the end averaged for the training columns")
    args = p.parse_args(argv)
    if args.tail <= 0:
        p.error(f"--tail must be positive, got {args.tail}")
    try:
        result = collect(args.runs, args.base, args.tail)
    except ValueError as e:
        p.error(str(e))
    common.write_json(args.json, result)
    for r in result["runs"]:
        print(f"{r['eval_mean_return']:8.1f}  train {r['train_return_tail']:7.1f}  {r['run']}: {r['variant']}")
    return result


if __name__ == "__main__":
    main()
