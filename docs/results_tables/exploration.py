"""Exploration (docs/results/exploration.md)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from results_tables.base import (
    EF,
    RESULTS,
    find,
    iqm_cell,
    load,
    md,
    num,
    page,
    pair,
    rate,
    sources,
    table,
)

# --------------------------------------------------------------------------- exploration
DAMPED = ["task.cost.effort_weight=0.1", "task.cost.smoothness_weight=0.1"]
MIX = ["world_model.options.ensemble_mix=0.5"]
TARGET_MIX = ["world_model.options.plan_encoder=target", "world_model.options.ensemble_mix=0.5"]


@table("epistemic-signal")
def _signal() -> str:
    files = ["epistemic/signal_reach2d.json", "epistemic/signal_reach2d_seed1.json"]
    runs = [load(f) for f in files]
    rows = []
    for key, label in (("ensemble_disagreement", "ensemble disagreement (5 heads)"),
                       ("latent_sample_spread", "latent variable sample spread (8 samples)")):
        rho = " / ".join(num(r[key]["spearman_with_distance"]) for r in runs)
        ratio = " / ".join(f"{r[key]['far_over_near']:.1f}x" for r in runs)
        rows.append((label, rho, ratio))
    return page(md(["measure", "Spearman with distance (seed 0 / 1)", "farthest / nearest quarter (seed 0 / 1)"], rows),
                sources(*files))


def exploration_rows(rel: str, labels: dict[str, str], **match: Any) -> list[list[str]]:
    return [[label, num(r["coverage"], 3), rate(r["success_rate"]), rate(r["far_success_rate"])]
            for variant, label in labels.items() for r in [find(rel, variant=variant, **match)]]


@table("exploration-reach3d")
def _reach3d() -> str:
    labels = {"random": "random only", "term": "epistemic term (weight -100, to 0 over 15k steps)",
              "practice": "practice goals (0.5)", "epistemic": "both"}
    rows = exploration_rows("exploration/results.json", labels, task="reach3d")
    return page(md(["variant", "coverage", "success", "far-quarter success"], rows),
                sources("exploration/results.json", note="; 50 held-out goals, seed 0"))


@table("exploration-reach3d-far")
def _reach3d_far() -> str:
    labels = {"random": "random only", "term": "epistemic term, weight -10",
              "practice": "practice goals 0.5", "epistemic": "both (weight -100, practice 0.5)"}
    rows = []
    for variant, label in labels.items():
        r50 = find("exploration/results.json", task="reach3d_far", variant=variant)
        r200 = find("exploration/results_reach3d_far_200.json", variant=variant)
        rows.append([label, num(r50["coverage"], 3), pair(r50), pair(r200)])
    return page(md(["variant", "coverage", "success / far quarter, 50 goals", "the same, 200 goals"], rows),
                sources("exploration/results.json", "exploration/results_reach3d_far_200.json", note="; seed 0"))


@table("exploration-free")
def _free() -> str:
    rows = []
    for label, explore in (("practice goals (sparse frontier) + term, `--beyond off`", False),
                           ("practice goals (sparse frontier) + term, then explore past the goal (`--beyond on`)", True)):
        r = find(f"{EF}/results.json", variant="epistemic", practice_explore=explore)
        rows.append([label, num(r["coverage"], 3), pair(r)])
    random = find(f"{EF}/results.json", variant="random")
    rows.insert(0, ["random only", num(random["coverage"], 3), pair(random)])
    r200 = {v: find(f"{EF}/results_200.json", variant=v) for v in ("random", "epistemic")}
    rows[0].append(pair(r200["random"]))
    rows[1].append("")
    rows[2].append(pair(r200["epistemic"]))
    return page(md(["variant", "coverage", "success / far quarter, 50 goals", "the same, 200 goals"], rows),
                sources(f"{EF}/results.json", f"{EF}/results_200.json", note="; seed 0"))


@table("exploration-achiever")
def _achiever() -> str:
    spec = [
        ("random only", "30k", "results_200.json", {"variant": "random"}),
        ("frontier practice + term", "30k", "results_200.json", {"variant": "epistemic"}),
        ("frontier + achiever 0.5 + term", "30k", "results_achieve_beyond_200.json", {}),
        ("frontier + achiever 0.5 + term, the achiever holding its goal (commit 2500c57)", "30k",
         "results_achieve_hold_200.json", {}),
        ("frontier + achiever 0.75 + term", "30k", "results_achieve75_200.json", {}),
        ("random only", "60k", "results_60k_200.json", {"variant": "random"}),
        ("frontier practice + term", "60k", "results_60k_200.json", {"variant": "epistemic"}),
        ("frontier + achiever 0.5 + term", "60k", "results_60k_achieve_200.json", {"eval_set": []}),
        ("random only", "100k", "results_100k_random_200.json", {}),
        ("frontier + achiever 0.5 + term", "100k", "results_100k_achieve_200.json", {"eval_set": []}),
        ("random only, seed 1", "30k", "results_achieve_seed1_200.json", {"variant": "random"}),
        ("frontier practice + term, seed 1", "30k", "results_seed1_200.json", {}),
        ("frontier + achiever 0.5 + term, seed 1", "30k", "results_achieve_seed1_200.json",
         {"variant": "epistemic", "eval_set": []}),
        ("frontier + achiever 0.5 + term, seed 1", "60k", "results_60k_achieve_seed1_200.json", {"eval_set": []}),
        ("frontier + achiever 0.5 + term, seed 2", "60k", "results_60k_achieve_seed2_200.json", {"eval_set": []}),
        ("frontier + achiever 0.5 + term, seed 3", "60k", "results_60k_achieve_seed3_200.json", {"eval_set": []}),
    ]
    rows, files = [], []
    for label, steps, rel, match in spec:
        r = find(f"{EF}/{rel}", **match)
        rows.append([label, steps, num(r["coverage"], 3), rate(r["success_rate"]), rate(r["far_success_rate"])])
        files.append(rel)
    return page(md(["variant (`--protocol free --frontier sparse --beyond on`)", "env steps", "coverage", "success",
                    "far-quarter success"], rows),
                sources(*dict.fromkeys(f"{EF}/{f}" for f in files), note="; 200 held-out goals, seed 0 unless named"))


def _run_label(path: str) -> str:
    """``runs/explore_x/reach3d_far_free_epistemic/eval_200_tag.json`` -> ``explore_x, epistemic, tag``."""
    parts = Path(path).parts
    run = parts[1] if len(parts) > 1 else path
    variant = parts[2].rsplit("_", 1)[-1] if len(parts) > 2 else ""
    tag = Path(path).stem.removeprefix("eval_200").lstrip("_") or "as trained"
    return f"`{run}` {variant}, {tag}"


@table("exploration-servo-split")
def _servo() -> str:
    files = sorted(p.relative_to(RESULTS).as_posix() for p in (RESULTS / EF).glob("reach_reference_far*.json"))
    rows = []
    for rel in files:
        for c in load(rel).get("compare", []):
            bins = {b["from"]: b for b in c["by_arrival"]}
            cells = [f"{rate(b['success_rate'])} ({b['goals']})" for b in (bins[0], bins[30], bins[35])]
            rows.append([_run_label(c["file"]), rate(c["far_success_rate"]), *cells])
    head = ["run, evaluation (200 goals)", "far quarter", "servo arrives by step 29 (goals)", "steps 30-34",
            "step 35 or later"]
    return page(md(head, rows), sources(f"{EF}/reach_reference_far*.json", note=" (`compare`); tags: `effsmooth` "
                                        "= effort and smoothness 0.1, `tmix_refit3000` = target start, "
                                        "ensemble_mix 0.5, predictor refitted 3,000 steps"))


def _short(override: str) -> str:
    """``task.cost.effort_weight=0.1`` -> ``effort_weight=0.1``."""
    key, _, value = override.partition("=")
    return f"{key.rsplit('.', 1)[-1]}={value}"


@table("exploration-plan-audit")
def _audit() -> str:
    files = sorted(p.relative_to(RESULTS).as_posix() for p in (RESULTS / EF).glob("plan_audit_*.json"))
    rows = []
    for rel in files:
        a = load(rel)
        f, s = a["failed"], a["succeeded"]
        run = Path(a["checkpoint"]).parts[1]
        sets = ", ".join(_short(x) for x in a["set"]) or "as trained"
        rows.append([f"`{Path(rel).stem}`: `{run}`, {sets}", rate(a["far_success_rate"]),
                     f"{num(f['model'])} / {num(s['model'])}", f"{num(f['search'])} / {num(s['search'])}",
                     f"{num(f['fine'])} / {num(s['fine'])}",
                     f"{num(f['optimism_plan'], signed=True)} / {num(f['optimism_servo'], signed=True)}",
                     f"{num(100 * f['servo_error_first_m'], 1)} / {num(100 * s['servo_error_first_m'], 1)}",
                     f"{num(100 * f['servo_error_last_m'], 1)} / {num(100 * s['servo_error_last_m'], 1)}"])
    head = ["audit: run, evaluation-time settings", "far quarter reached", "decisions the model misjudges",
            "the search misses", "plan really no worse", "model's optimism, planner's plan / servo's (missed)",
            "model's error on the servo's plan after 1 step (cm)", "after the horizon (cm)"]
    return page(md(head, rows), sources(f"{EF}/plan_audit_*.json", note="; each pair: missed / reached episodes"))


def _seed_files(prefix: str, seeds: Iterable[int]) -> list[str]:
    """The 200-goal results file of each seed (seed 0's is named with or without ``_seed0``)."""
    files = []
    for s in seeds:
        names = [f"{prefix}_seed{s}_200.json"] + ([f"{prefix}_200.json"] if s == 0 else [])
        files.append(next(f"{EF}/{n}" for n in names if (RESULTS / EF / n).is_file()))
    return files


def _columns_table(files: list[str], columns: list[tuple[str, dict[str, Any]]], labels: list[str],
                   summary: bool = True) -> list[list[str]]:
    rows, per_col = [], [[] for _ in columns]
    for rel, label in zip(files, labels, strict=True):
        row = [label]
        for i, (_, match) in enumerate(columns):
            r = find(rel, **match)
            row.append(pair(r))
            per_col[i].append((r["success_rate"], r["far_success_rate"]))
        rows.append(row)
    if summary:
        rows.append([f"mean of the {len(files)} seeds"] + [
            f"{rate(float(np.mean([a for a, _ in c])))} / {rate(float(np.mean([b for _, b in c])))}" for c in per_col])
        rows.append([f"IQM [95% CI], far quarter, {len(files)} seeds"] + [
            iqm_cell([b for _, b in c], rate) for c in per_col])
    return rows


@table("exploration-mix")
def _mix() -> str:
    files = _seed_files("results_60k_achieve", range(4))
    cols = [("as trained", {"eval_set": []}), ("at evaluation: `ensemble_mix` 0.5", {"eval_set": MIX}),
            ("at evaluation: damped (effort and smoothness weights 0.1)", {"eval_set": DAMPED}),
            ("at evaluation: damped, `ensemble_mix` 0.5", {"eval_set": MIX + DAMPED})]
    rows = _columns_table(files, cols, ["seed 0", "seed 1", "seed 2", "seed 3 (trained this way, coverage 0.929)"])
    hundred = f"{EF}/results_100k_achieve_200.json"
    rows.append(["seed 0 at 100k (`runs/explore_free_100k_achieve`)"] + [pair(find(hundred, **m)) for _, m in cols])
    return page(md(["60k achiever", *(c for c, _ in cols)], rows),
                sources(*files, hundred, note="; success / far quarter of 200 held-out goals"))


@table("exploration-target-refit")
def _target() -> str:
    files = _seed_files("results_60k_achieve", range(4))
    cols = [("as trained", {"eval_set": []}), ("at evaluation: `ensemble_mix` 0.5", {"eval_set": MIX}),
            ("at evaluation: plans from the target encoder, `ensemble_mix` 0.5",
             {"eval_set": TARGET_MIX, "refit_predictor": 0}),
            ("at evaluation: the same, predictor refitted 3,000 steps on the run's replay (the recipe)",
             {"eval_set": TARGET_MIX, "refit_predictor": 3000})]
    rows = _columns_table(files, cols, [f"seed {s}" for s in range(4)])
    return page(md(["60k achiever", *(c for c, _ in cols)], rows),
                sources(*files, note="; success / far quarter of 200 held-out goals"))


@table("exploration-model-error")
def _model_error() -> str:
    spec = [("the online latent (as trained)", "model_error_60k_s0_online.json"),
            ("the target latent", "model_error_60k_s0_target.json"),
            ("the target latent, the predictor refitted 3,000 steps", "model_error_60k_s0_target_refit3000.json")]
    rows = []
    for label, rel in spec:
        e = load(f"{EF}/{rel}")["error_mean"]
        rows.append([label, num(e[0], 3), num(e[5], 3), num(e[11], 3)])
    return page(md(["plan starts from", "after 1 step", "6 steps", "12 steps"], rows),
                sources(*(f"{EF}/{r}" for _, r in spec), note="; mean open-loop latent error on the run's replay"))


@table("exploration-mix-error")
def _mix_error() -> str:
    rows = []
    for s in range(3):
        off, on = (load(f"{EF}/model_error_60k_s{s}_mix{m}.json") for m in ("0", "0.5"))
        rows.append([f"seed {s}", num(off["error_mean"][0], 3), num(on["error_mean"][0], 3),
                     num(off["error_mean"][11], 3), num(on["error_mean"][11], 3), num(off["step_mean"], 3)])
    head = ["60k achiever", "1 step, mix 0", "1 step, mix 0.5", "12 steps, mix 0", "12 steps, mix 0.5",
            "one step moves the latent"]
    return page(md(head, rows), sources(f"{EF}/model_error_60k_s{{0,1,2}}_mix{{0,0.5}}.json"))


@table("exploration-readout-latent")
def _readout_latent() -> str:
    files = sorted(p.relative_to(RESULTS).as_posix() for p in (RESULTS / EF).glob("latent_readout_*.json"))
    rows = []
    for rel in files:
        r = load(rel)
        run = Path(r["checkpoint"]).parts[1]
        for key, label in (("target", "target latent"), ("observation", "observation without the fingertip")):
            cells = [num(100 * v, 2) for v in (r[key]["median"], *r[key]["median_by_bin"])]
            rows.append([f"`{run}`", label, *cells])
    head = ["run", "read from", "all", "nearest half", "50-75%", "75-90%", "farthest 10%"]
    return page(md(head, rows), sources(f"{EF}/latent_readout_*.json",
                                        note="; median error in cm on held-out observations of the run's replay"))


@table("exploration-readout1")
def _readout1() -> str:
    files = _seed_files("results_60k_readout", range(4))
    base = _seed_files("results_60k_achieve", range(4))
    recipe = {"eval_set": TARGET_MIX, "refit_predictor": 3000}
    rows, cols = [], [[] for _ in range(4)]
    for s, (rel, rel0) in enumerate(zip(files, base, strict=True)):
        cells = [find(rel, eval_set=[]), find(rel, **recipe), find(rel0, eval_set=[]), find(rel0, **recipe)]
        for c, r in zip(cols, cells, strict=True):
            c.append(r["far_success_rate"])
        rows.append([str(s), num(cells[0]["coverage"], 3), *(pair(r) for r in cells)])
    rows.append(["IQM [95% CI], far quarter", "", *(iqm_cell(c, rate) for c in cols)])
    head = ["seed", "coverage", "as trained", "+ evaluation recipe (target start, refit, mix)",
            "JEPA loss alone: as trained", "JEPA loss alone: + evaluation recipe"]
    return page(md(head, rows), sources(*files, *base, note="; success / far quarter of 200 held-out goals"))


def readout3_rows() -> tuple[list[list[str]], list[float], list[float], list[str]]:
    """The six seeds of ``probe_encoder_weight`` 3 (the config's), as trained and with the
    evaluation recipe; also their far-quarter rates, for the README's headline."""
    files = [f"{EF}/results_60k_readout3_seed{s}_200.json" for s in range(6)]
    recipe = {"eval_set": TARGET_MIX, "refit_predictor": 3000}
    rows, trained, planned = [], [], []
    for s, rel in enumerate(files):
        a, b = find(rel, eval_set=[], refit_predictor=0), find(rel, **recipe)
        trained.append(a["far_success_rate"])
        planned.append(b["far_success_rate"])
        rows.append([str(s), num(a["coverage"], 3), pair(a), pair(b)])
    return rows, trained, planned, files


@table("exploration-readout3")
def _readout3() -> str:
    rows, trained, planned, files = readout3_rows()
    succ = [[find(f, eval_set=[])["success_rate"] for f in files],
            [find(f, eval_set=TARGET_MIX, refit_predictor=3000)["success_rate"] for f in files]]
    coverage = float(np.mean([find(f, eval_set=[])["coverage"] for f in files]))
    rows.append(["mean of the six", num(coverage, 3), f"{rate(float(np.mean(succ[0])))} / {rate(float(np.mean(trained)))}",
                 f"{rate(float(np.mean(succ[1])))} / {rate(float(np.mean(planned)))}"])
    rows.append(["IQM [95% CI], far quarter", "", iqm_cell(trained, rate), iqm_cell(planned, rate)])
    head = ["seed", "coverage", "as trained", "**+ evaluation recipe**: plan from the target encoder, "
            "`ensemble_mix` 0.5, predictor refitted 3,000 steps on the run's replay"]
    return page(md(head, rows), sources(*files, note="; success / far quarter of 200 held-out goals"))


@table("exploration-maze")
def _maze() -> str:
    rel = "exploration_maze/results.json"
    labels = {"random": "random only (10k random steps, then the planner on the env's goals)",
              "epistemic": "practice goals 0.5 (sparse) + term -10 + explore past the goal"}
    rows = []
    for variant, label in labels.items():
        r = find(rel, variant=variant)
        ev = {g: find("exploration_maze/goal_space_eval.json", variant=variant, goal_space=g) for g in ("latent", "probe")}
        route = find("exploration_maze/results_route20.json", variant=variant)
        rows.append([label, num(r["coverage"], 3), num(r["success_rate"]), num(ev["probe"]["success_rate"]),
                     num(route["success_rate"]), f"{r['train_wall_s']:,.0f} s"])
    head = ["variant (100k env steps)", "coverage", "success (latent energy, as trained)", "probe energy", "route",
            "training wall time"]
    return page(md(head, rows), sources(rel, "exploration_maze/goal_space_eval.json",
                                        "exploration_maze/results_route20.json", note="; 20 episodes, seed 0"))


@table("random-coverage")
def _random_coverage() -> str:
    rows = []
    for rel in ("exploration/random_coverage.json", "exploration_maze/random_coverage.json"):
        for r in load(rel):
            rows.append([f"`{Path(r['config']).name}`", r["random_action_repeat"], f"{r['env_steps']:,}",
                         num(r["coverage"], 3), r["support_cells"]])
    return page(md(["config", "each random action held (env steps)", "env steps", "coverage", "goal cells"], rows),
                sources("exploration/random_coverage.json", "exploration_maze/random_coverage.json"))


@table("exploration-other-runs")
def _other_runs() -> str:
    files = ["results_60k_big_200.json", "results_60k_window13_200.json", "results_60k_refit_200.json",
             "results_60k_mix_200.json", "results_60k_collect_cost_200.json", "results_60k_tgt_seed0_200.json",
             "results_60k_tgt_seed3_200.json", "results_60k_latent32_50.json", "results_60k_readout_random_200.json",
             "results_effort_trained_seed0_200.json", "results_effort_trained_seed1_200.json",
             "results_200_more20000.json", "results_repeat2.json", "results_route50.json"]
    rows = []
    for rel in files:
        for r in load(f"{EF}/{rel}"):
            extra = list(r.get("eval_set") or [])
            if r.get("refit_predictor"):
                extra.append(f"refit {r['refit_predictor']}")
            if r.get("more_updates"):
                extra.append(f"{r['more_updates']} more updates")
            rows.append([f"`{rel}`", r["variant"], f"{r['env_steps'] // 1000}k", r.get("seed", 0),
                         "<br>".join(f"`{e}`" for e in extra) or "as trained", num(r["coverage"], 3), pair(r)])
    head = ["file", "variant", "env steps", "seed", "evaluated with", "coverage", "success / far quarter"]
    return page(md(head, rows), ["", f"Generated from the files named in the first column, under `benchmarks/results/{EF}/`."])


@table("exploration-seed0-evaluations")
def _seed0_evals() -> str:
    rel = f"{EF}/results_60k_achieve_200.json"
    rows = []
    for r in load(rel):
        extra = list(r.get("eval_set") or [])
        if r.get("refit_predictor"):
            extra.append(f"predictor refitted {r['refit_predictor']} steps")
        if r.get("more_updates"):
            extra.append(f"{r['more_updates']} more updates at a tenth of the learning rates")
        rows.append(["<br>".join(f"`{e}`" if "=" in e else e for e in extra) or "as trained", pair(r)])
    return page(md(["evaluated with (`--eval-set ...`)", "success / far quarter"], rows), sources(rel))
