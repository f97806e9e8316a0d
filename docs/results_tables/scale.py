"""Scale, reliability and the reach tasks (docs/results/{scale,reliability,reach}.md)."""

from __future__ import annotations

from typing import Any

import numpy as np

from results_tables.base import iqm_cell, load, md, num, page, rate, sources, table


# --------------------------------------------------------------------------- scale
@table("offline")
def _offline() -> str:
    rel = "offline/results.json"
    recs = load(rel)
    rows = []
    for task, name in (("reach2d", "Reach2D"), ("reach3d", "Reach3D")):
        rs = [r for r in recs if r["task"] == task]
        rows.append([name, f"{rs[0]['dataset_steps']:,} steps (held {rs[0]['random_action_repeat']})",
                     " / ".join(num(r["success_rate"]) for r in rs)
                     + f" (IQM {iqm_cell([r['success_rate'] for r in rs], num)})",
                     f"{np.mean([r['mean_final_distance'] for r in rs]):.4f} m",
                     ", ".join(f"{r['pretrain_wall_s']:.0f} s" for r in rs)])
    return page(md(["env", "dataset (random actions)", "success, seeds " + " / ".join(str(r["seed"]) for r in rs),
                    "mean final distance (mean of seeds)", "pretrain wall"], rows),
                sources(rel, note=f"; {recs[0]['updates']:,} updates, {recs[0]['episodes']} held-out goals"))


@table("throughput")
def _throughput() -> str:
    spec = [("1 (the default)", "throughput/results.json"), ("2", "throughput/results_2threads.json"),
            ("1, the collection planner (what training acts with)", "throughput/results_collect_budget.json")]
    rows = []
    for label, rel in spec:
        d = load(rel)
        sps = d["env_steps_per_s"]
        ups = d["updates_per_s"]
        rows.append([label, *(f"{sps[k]:.0f}" for k in ("1", "4", "16", "64")), f"**{d['speedup_16_vs_1']:.2f}x**",
                     num(ups.get("1"), 1) if ups else "",
                     f"{ups['2']:.1f} ({d['torchrun_speed_ratio']:.2f}x)" if ups else ""])
    head = ["torch threads", "1 env", "4 envs", "16 envs", "64 envs", "16 / 1", "updates/s, 1 process",
            "2 processes (torchrun, gloo)"]
    return page(md(head, rows), sources(*(r for _, r in spec), note="; env steps per second, Reach2D"))


@table("reliability")
def _reliability() -> str:
    rel = "reliability/results.json"
    d = load(rel)
    rows = [
        ["bad inputs (configs, overrides, observations, transitions, env ids, actions, module dims, checkpoints, "
         "commands)", f"{d['bad_inputs_tried']} tried, {d['bad_inputs_clear_error']} one clear error"],
        ["faults injected (" + ", ".join(r["kind"] for r in d["fault_runs"]) + ")",
         f"{d['faults_injected']} injected, {d['faults_survived']} survived and counted"],
        ["crafted pickles planted in " + ", ".join(d["crafted_files_kinds"]),
         f"{d['crafted_files_tried']} tried, {d['crafted_files_ran']} ran, {d['crafted_files_clear_error']} refused "
         "in one line naming the file"],
        ["resume: N steps, save, load, M steps against N+M in one go (" + ", ".join(d["resume_bitwise_equal_by_env"]) + ")",
         "bitwise equal" if d["resume_bitwise_equal"] else "NOT bitwise equal"],
    ]
    for threads in (1, 2):
        alone, busy = _load_pair(d, threads)
        if alone is not None:
            rows.append([f"planner under load (a busy process on the other core), {threads} torch "
                         + ("thread (the default)" if threads == 1 else "threads"),
                         f"{alone:.1f} -> {busy:.1f} ms per action, {busy / alone:.2f}x"])
    rows.append(["soak", _soak(d)])
    return page(md(["check", "measured"], rows), sources(rel, note="; 2 CPU cores, seed 0"))


def _load_pair(d: dict[str, Any], threads: int) -> tuple[float | None, float | None]:
    suffix = "" if threads == 1 else f"_{threads}_threads"
    alone, busy = d.get(f"act_ms_alone{suffix}"), d.get(f"act_ms_loaded{suffix}")
    return alone, busy


def _soak(d: dict[str, Any]) -> str:
    return (f"{d['soak_env_steps']:,} env steps, {d['soak_updates']:,} updates, replay of "
            f"{d['soak_replay_capacity']:,} full at step {d['soak_buffer_full_at']:,}: RSS {d['soak_rss_mb_at_full']:.1f} -> "
            f"{d['soak_rss_mb_end']:.1f} MB ({d['soak_rss_growth_mb']:+.1f} MB), open files "
            f"{d['soak_open_files_at_full']} -> {d['soak_open_files_end']}")


# --------------------------------------------------------------------------- reach
@table("reach2d-main-job")
def _reach_main() -> str:
    rel = "reach/reach2d_seed0.json"
    d = load(rel)
    rows = [["Reach2D", f"{rate(d['success_rate'])} (random policy: {rate(d['random_success_rate'])})",
             f"{d['success_threshold']:.2f} m", f"{d['mean_final_distance']:.4f} m", f"{d['act_ms_median']:.1f}",
             f"{d['train_wall_s']:.0f} s ({d['env_steps']:,} steps)", f"{d['embed_std']:.2f} / {d['embed_rank']:.1f}"]]
    head = ["env", f"success ({d['episodes']} held-out goals)", "threshold", "mean final distance", "act ms (median)",
            "training", "embedding std / rank"]
    return page(md(head, rows), sources(rel, note=" (the run's `eval.json`)"))
