"""Every results table of the docs and the README, generated from ``benchmarks/results/**/*.json``.

    python docs/gen_results.py            # rewrite the tables in place
    python docs/gen_results.py --check    # exit 1, naming the tables, if a page differs

A table sits in a Markdown page between ``<!-- results:NAME -->`` and ``<!-- results:end -->``;
``NAME`` is one of the functions registered in :data:`TABLES` below, which reads its results
files, builds the table and ends it with the files it read. Nothing between the markers is
typed by hand: ``tests/test_docs_results.py`` regenerates every table and compares. Where the
results files hold one value per seed, a table shows the interquartile mean (IQM, the mean of
the middle half: Agarwal et al. 2021, rliable) with a 95% percentile-bootstrap interval over
seeds, seeded, so the page is the same on every run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"(<!-- results:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- results:end -->)", re.S)
BOOTSTRAP_SAMPLES = 10_000
BOOTSTRAP_SEED = 0

TABLES: dict[str, Callable[[], str]] = {}


def table(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register a table generator under the name its page's markers use."""

    def register(fn: Callable[[], str]) -> Callable[[], str]:
        TABLES[name] = fn
        return fn

    return register


# --------------------------------------------------------------------------- reading
@cache
def load(rel: str) -> Any:
    """A results file, by its path under ``benchmarks/results/``."""
    return json.loads((RESULTS / rel).read_text())


def find(rel: str, **match: Any) -> dict[str, Any]:
    """The one record of ``rel`` whose fields equal ``match``. ``eval_set`` is compared as
    a set of overrides, absent or empty meaning none; ``refit_predictor`` and ``more_updates``
    are 0 unless ``match`` names them (a refitted or further-trained evaluation is only ever
    shown where a table asks for it). No record, or more than one, is an error naming the
    file (a table never guesses)."""
    match = {"refit_predictor": 0, "more_updates": 0, **match}
    hits = [r for r in load(rel) if all(_field(r, k) == _norm(k, v) for k, v in match.items())]
    if len(hits) != 1:
        raise LookupError(f"{rel}: {len(hits)} records match {match}, expected exactly one")
    return hits[0]


def _norm(key: str, value: Any) -> Any:
    if key == "eval_set":
        return frozenset(value or ())
    if key in ("refit_predictor", "more_updates"):
        return value or 0
    return value


def _field(record: dict[str, Any], key: str) -> Any:
    return _norm(key, record.get(key))


# --------------------------------------------------------------------------- statistics
def iqm(values: Sequence[float]) -> float:
    """Interquartile mean: the mean of the values left after cutting ``floor(n / 4)`` from
    each end of the sorted values (``scipy.stats.trim_mean(x, 0.25)``, as rliable does)."""
    x = np.sort(np.asarray(values, dtype=float))
    cut = int(0.25 * len(x))
    return float(x[cut: len(x) - cut].mean())


def bootstrap_ci(values: Sequence[float], stat: Callable[[Sequence[float]], float] = iqm) -> tuple[float, float]:
    """95% percentile-bootstrap interval of ``stat`` over the values (seeds resampled with
    replacement, :data:`BOOTSTRAP_SAMPLES` times, from a fixed seed)."""
    x = np.asarray(values, dtype=float)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    idx = rng.integers(0, len(x), size=(BOOTSTRAP_SAMPLES, len(x)))  # (S, n)
    stats = np.sort(x[idx], axis=1)
    cut = int(0.25 * len(x))
    if stat is iqm:
        boots = stats[:, cut: len(x) - cut].mean(axis=1)
    else:
        boots = np.array([stat(row) for row in stats])
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return float(lo), float(hi)


def iqm_cell(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    """``IQM [low, high]`` of per-seed values, formatted by ``fmt``."""
    lo, hi = bootstrap_ci(values)
    return f"{fmt(iqm(values))} [{fmt(lo)}, {fmt(hi)}]"


# --------------------------------------------------------------------------- formatting
def rate(x: float | None) -> str:
    """A success rate: three decimals where the third is not 0 (200 goals: steps of 0.005)."""
    if x is None:
        return "n/a"
    s = f"{x:.3f}"
    return s[:-1] if s.endswith("0") else s


def num(x: float | None, digits: int = 2, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def pair(record: dict[str, Any]) -> str:
    """``success / far-quarter success`` of an exploration record."""
    return f"{rate(record['success_rate'])} / {rate(record['far_success_rate'])}"


def md(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def sources(*files: str, note: str = "") -> list[str]:
    names = ", ".join(f"`{f}`" for f in files)
    return ["", f"Generated from {names} under `benchmarks/results/`{note}."]


def page(*parts: Sequence[str] | str) -> str:
    lines: list[str] = []
    for part in parts:
        lines += [part] if isinstance(part, str) else list(part)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- sample efficiency
def curve(rel: str, method: str, metric: str = "mean_return") -> dict[int, list[float]]:
    """``{env_steps: [one value per seed]}`` of a sample-efficiency results file."""
    out: dict[int, list[float]] = {}
    for r in sorted(load(rel), key=lambda r: (r["env_steps"], r["seed"])):
        if r["method"] == method:
            out.setdefault(r["env_steps"], []).append(r[metric])
    return out


def seeds_cell(values: list[float], digits: int) -> str:
    fmt = lambda v: num(v, digits)  # noqa: E731
    if len(values) == 1:
        return fmt(values[0])
    per_seed = ", ".join(fmt(v) for v in values)
    return f"{iqm_cell(values, fmt)} (seeds: {per_seed})"


def versus_sac(rel: str, digits: int = 1, metric: str = "mean_return") -> str:
    ours, sac = curve(rel, "ours", metric), curve(rel, "sac", metric)
    steps = sorted(set(ours) | set(sac))
    rows = [(f"{s:,}", seeds_cell(ours[s], digits) if s in ours else "", seeds_cell(sac[s], digits) if s in sac else "")
            for s in steps]
    n_ours = len(next(iter(ours.values())))
    what = "IQM [95% bootstrap interval] over seeds, then each seed" if n_ours > 1 else "one seed"
    return page(md(["env steps", "ours", "SAC"], rows), sources(rel, note=f"; {what}"))


@table("reacher-sac")
def _reacher() -> str:
    return versus_sac("reacher-v5/results.json", digits=2)


@table("pusher-sac")
def _pusher() -> str:
    return versus_sac("pusher-v5/results.json", digits=1)


@table("hopper-sac")
def _hopper() -> str:
    return versus_sac("hopper-v5/results.json", digits=0)


@table("halfcheetah-sac")
def _cheetah() -> str:
    return versus_sac("halfcheetah-v5/results.json", digits=0)


@table("pointmaze-sac")
def _pointmaze() -> str:
    rel = "pointmaze-umaze-v3"
    runs = [
        ("ours (`configs/pointmaze.yaml`, goal energy by the probe)", f"{rel}/results.json", "ours"),
        ("ours, goal energy in latent space (`--set cost.goal_space=latent`)", f"{rel}/ours_latent_results.json", "ours"),
        ("ours, the probe's distance weighted 3", f"{rel}/ours_probe3_results.json", "ours"),
        ("SAC + HER (SB3's `HerReplayBuffer`)", f"{rel}/results.json", "sac"),
    ]
    steps = sorted(curve(f"{rel}/results.json", "ours"))
    rows = []
    for label, path, method in runs:
        succ, ret = curve(path, method, "success_rate"), curve(path, method)
        rows.append([label, *(num(succ[s][0]) for s in steps), num(ret[steps[-1]][0], 1)])
    header = ["run (seed 0)", *(f"{s // 1000}k" for s in steps), f"return at {steps[-1] // 1000}k"]
    return page(md(header, rows), sources(f"{rel}/results.json", f"{rel}/ours_latent_results.json",
                                          f"{rel}/ours_probe3_results.json", note="; success at the final step, 10 episodes per point"))


@table("pointmaze-goal-energy")
def _goal_energy() -> str:
    rel = "pointmaze-umaze-v3"
    latent, probe = load(f"{rel}/goal_energy_latent_model.json"), load(f"{rel}/goal_energy_probe_model.json")
    labels = {"latent+critic": "latent, with the critic", "probe+critic": "probe, with the critic",
              "latent": "latent, no critic", "probe": "probe, no critic"}
    rows = [(text, num(latent["variants"][k]["success_rate_final"]), num(probe["variants"][k]["success_rate_final"]))
            for k, text in labels.items()]
    head = ["goal energy at planning", "model trained with the latent energy",
            f"model trained with the probe's (x{probe['probe_weight']:g})"]
    return page(md(head, rows), sources(f"{rel}/goal_energy_latent_model.json", f"{rel}/goal_energy_probe_model.json",
                                        note=f"; {latent['episodes']} held-out episodes each"))


# --------------------------------------------------------------------------- exploration
DAMPED = ["task.cost.effort_weight=0.1", "task.cost.smoothness_weight=0.1"]
MIX = ["world_model.options.ensemble_mix=0.5"]
TARGET_MIX = ["world_model.options.plan_encoder=target", "world_model.options.ensemble_mix=0.5"]
EF = "exploration_free"


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


@table("exploration-plan-audit")
def _audit() -> str:
    files = sorted(p.relative_to(RESULTS).as_posix() for p in (RESULTS / EF).glob("plan_audit_*.json"))
    rows = []
    for rel in files:
        a = load(rel)
        f, s = a["failed"], a["succeeded"]
        run = Path(a["checkpoint"]).parts[1]
        sets = ", ".join(x.split(".")[-1] for x in a["set"]) or "as trained"
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
    cols = [("as trained", {"eval_set": []}), ("`ensemble_mix` 0.5", {"eval_set": MIX}),
            ("damped", {"eval_set": DAMPED}), ("damped, `ensemble_mix` 0.5", {"eval_set": MIX + DAMPED})]
    rows = _columns_table(files, cols, ["seed 0", "seed 1", "seed 2", "seed 3 (trained this way, coverage 0.929)"])
    hundred = f"{EF}/results_100k_achieve_200.json"
    rows.append(["seed 0 at 100k (`runs/explore_free_100k_achieve`)"] + [pair(find(hundred, **m)) for _, m in cols])
    return page(md(["60k achiever", *(c for c, _ in cols)], rows),
                sources(*files, hundred, note="; success / far quarter of 200 held-out goals"))


@table("exploration-target-refit")
def _target() -> str:
    files = _seed_files("results_60k_achieve", range(4))
    cols = [("as trained", {"eval_set": []}), ("`ensemble_mix` 0.5", {"eval_set": MIX}),
            ("target start, `ensemble_mix` 0.5", {"eval_set": TARGET_MIX, "refit_predictor": 0}),
            ("target start, refit, `ensemble_mix` 0.5", {"eval_set": TARGET_MIX, "refit_predictor": 3000})]
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
    head = ["seed", "coverage", "as trained", "target start, refit, mix", "JEPA loss alone: as trained",
            "JEPA loss alone: target start, refit, mix"]
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
    rows.append(["mean of the six", "", f"{rate(float(np.mean(succ[0])))} / {rate(float(np.mean(trained)))}",
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
    return page(md(head, rows), sources(f"{EF}/` (each file named in its row)`"))


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


# --------------------------------------------------------------------------- hierarchy
PLANNERS = ["flat", "hierarchical", "flat+route", "hierarchical+route"]


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return ""
    steps = "n/a" if r["mean_steps_to_goal"] is None else f"{r['mean_steps_to_goal']:.0f}"
    return f"{num(r['success_rate'])} ({steps} steps, {r['act_ms_median']:.1f} ms)"


def _by(records: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    hits = [r for r in records if all(r.get(k) == v for k, v in match.items())]
    if len(hits) > 1:
        raise LookupError(f"{len(hits)} hierarchy records match {match}")
    return hits[0] if hits else None


@table("hierarchy-main")
def _hier_main() -> str:
    rel = "hierarchy/results.json"
    recs = load(rel)
    names = {"pointmaze_medium": "PointMaze Medium", "pointmaze_large": "PointMaze Large",
             "reach2d_wall": "Reach2D with a wall"}
    rows = []
    for task, name in names.items():
        first = _by(recs, task=task, planner="flat", ablation=None)
        training = (f"{first['train_env_steps']:,} env steps, {first['updates']:,} updates, "
                    f"{first['train_wall_s']:,.0f} s")
        rows.append([name, training, *(_cell(_by(recs, task=task, planner=p, ablation=None)) for p in PLANNERS)])
    return page(md(["task", "training", *PLANNERS], rows),
                sources(rel, note="; 50 held-out detour pairs per task, 20 ms deadline per decision, seed 0"))


def _ablation_table(rel: str, task: str) -> str:
    recs = [r for r in load(rel) if r["task"] == task]
    rows = [[r["planner"] + ("" if r["ablation"] is None else f", {r['ablation']}"), num(r["success_rate"]),
             f"{r['mean_steps_to_goal']:.0f}", f"{r['act_ms_median']:.1f}"] for r in recs]
    return page(md(["planner, ablation", "success", "steps", "ms"], rows),
                sources(rel, note=f"; {recs[0]['episodes']} pairs"))


@table("hierarchy-ablations-wall")
def _abl_wall() -> str:
    return _ablation_table("hierarchy/results.json", "reach2d_wall")


@table("hierarchy-ablations-medium")
def _abl_medium() -> str:
    return _ablation_table("hierarchy/medium_ablations.json", "pointmaze_medium")


@table("hierarchy-development")
def _development() -> str:
    rel = "hierarchy/development_repeat.json"
    rows = [[r["task"], r["planner"], r["what"], num(r["success_rate"]), f"{r['mean_steps_to_goal']:.0f}",
             f"{r['act_ms_median']:.1f}"] for r in load(rel)]
    return page(md(["task", "planner", "what the run changed", "success", "steps", "ms"], rows),
                sources(rel, note=" (each record also holds its command)"))


@table("hierarchy-earlier")
def _earlier() -> str:
    rows = []
    for rel in ("hierarchy/results_repeat1.json", "hierarchy/results_medium_50pairs.json"):
        for r in load(rel):
            rows.append([f"`{Path(rel).name}`", r["task"], r["planner"] + ("" if r["ablation"] is None else f", {r['ablation']}"),
                         r["episodes"], f"{r['train_env_steps']:,}, {r['train_wall_s']:,.0f} s", num(r["success_rate"])])
    return page(md(["file", "task", "planner, ablation", "pairs", "training (env steps, wall)", "success"], rows),
                sources("hierarchy/results_repeat1.json", "hierarchy/results_medium_50pairs.json"))


def _route_rows(rel: str) -> list[list[str]]:
    return [[r["planner"], f"`{r['set']}`", num(r["success_rate"]),
             "n/a" if r["mean_steps_to_goal"] is None else f"{r['mean_steps_to_goal']:.0f}", f"{r['act_ms_median']:.1f}"]
            for r in load(rel)]


@table("hierarchy-routes-medium20")
def _routes_medium() -> str:
    rel = "hierarchy/routes_medium20.json"
    return page(md(["planner", "`--set`", "success", "steps", "ms"], _route_rows(rel)),
                sources(rel, note="; 20 detour pairs, the earlier model"))


@table("hierarchy-routes-large20")
def _routes_large() -> str:
    rel = "hierarchy/pointmaze_large20.json"
    return page(md(["planner", "`--set`", "success", "steps", "ms"], _route_rows(rel)),
                sources(rel, note="; 20 detour pairs, the earlier model"))


@table("hierarchy-routes-50")
def _routes_50() -> str:
    rel = "hierarchy/routes_50pairs.json"
    recs = load(rel)
    rows = []
    for task, name in (("pointmaze_medium", "PointMaze Medium"), ("pointmaze_large", "PointMaze Large")):
        plain = "task.route_every=1 cost.probe_weight=20"
        cells = [_cell(_by(recs, task=task, planner=p, set=plain)) for p in PLANNERS]
        rows.append([name, *cells])
        top = _by(recs, task=task, planner="hierarchical+route", set=plain + " (the top takes the probe term)")
        if top is not None:
            rows.append([f"{name}, the top level taking the probe term too", "", "", "", _cell(top)])
    return page(md(["task", *PLANNERS], rows), sources(rel, note="; 50 detour pairs, the earlier models"))


@table("hierarchy-goal-space")
def _hier_goal_space() -> str:
    rows = [[r["planner"], r["goal_space"], num(r["success_rate"])] for r in load("hierarchy/goal_space_medium20.json")]
    d = load("hierarchy/distance_critic_medium20.json")[0]
    rows.append([f"{d['planner']}, distance critic ({d['critic_updates']:,} updates)", "latent", num(d["success_rate"])])
    return page(md(["planner", "goal energy", "success (20 pairs)"], rows),
                sources("hierarchy/goal_space_medium20.json", "hierarchy/distance_critic_medium20.json"))


@table("hierarchy-maze-distance")
def _maze_distance() -> str:
    rows = []
    for rel in ("hierarchy/maze_distance_medium_distance_critic.json", "hierarchy/maze_distance_medium_mlp_critic.json"):
        d = load(rel)
        sp = d["spearman"]
        rows.append([d["critic"], *(f"{num(sp[k]['all'])} / {num(sp[k]['detour'])}" for k in ("critic", "latent", "euclid"))])
    return page(md(["critic", "critic's distance (all / detour pairs)", "latent distance", "straight line"], rows),
                sources("hierarchy/maze_distance_medium_*.json", note="; Spearman's rho against the shortest path"))


@table("hierarchy-model-error")
def _hier_model_error() -> str:
    rows = []
    for rel in ("hierarchy/model_error_medium_repeat1.json", "hierarchy/model_error_medium_repeat4.json"):
        d = load(rel)
        rows.append([d["action_repeat"], d["horizon"], num(d["moved_median"]), num(d["rollout_error_median"][-1])])
    return page(md(["env steps per action", "horizon (actions)", "ball moves (median, m)",
                    "prediction error after the horizon (median, m)"], rows),
                sources("hierarchy/model_error_medium_repeat{1,4}.json"))


# --------------------------------------------------------------------------- scale
@table("offline")
def _offline() -> str:
    rel = "offline/results.json"
    recs = load(rel)
    rows = []
    for task, name in (("reach2d", "Reach2D"), ("reach3d", "Reach3D")):
        rs = [r for r in recs if r["task"] == task]
        rows.append([name, f"{rs[0]['dataset_steps']:,} steps (held {rs[0]['random_action_repeat']})",
                     " / ".join(num(r["success_rate"]) for r in rs),
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


# --------------------------------------------------------------------------- README
@table("headline")
def _headline() -> str:
    rows = []
    reach = load("reach/reach2d_seed0.json")
    rows.append(["Reach2D, `python examples/reach.py` (20k steps, 50 held-out goals)",
                 f"{rate(reach['success_rate'])} success", f"random policy {rate(reach['random_success_rate'])}",
                 "[reach](docs/results/reach.md)"])
    ours, sac = curve("reacher-v5/results.json", "ours"), curve("reacher-v5/results.json", "sac")
    rows.append(["Reacher-v5 return at 30k steps, 3 seeds (IQM [95% CI])", iqm_cell(ours[30000], lambda v: num(v, 2)),
                 f"SAC {iqm_cell(sac[30000], lambda v: num(v, 2))}", "[reward tasks](docs/results/reward-tasks.md)"])
    ours, sac = curve("halfcheetah-v5/results.json", "ours"), curve("halfcheetah-v5/results.json", "sac")
    rows.append(["HalfCheetah-v5 return at 100k steps, 1 seed", num(ours[100000][0], 0), f"SAC {num(sac[100000][0], 0)}",
                 "[reward tasks](docs/results/reward-tasks.md)"])
    h = load("hierarchy/results.json")
    flat, hier = _by(h, task="pointmaze_large", planner="flat", ablation=None), _by(
        h, task="pointmaze_large", planner="hierarchical", ablation=None)
    rows.append(["PointMaze Large, 50 detour pairs, 20 ms per decision", f"hierarchical {num(hier['success_rate'])}",
                 f"flat {num(flat['success_rate'])}", "[hierarchy](docs/results/hierarchy.md)"])
    _, trained, planned, _ = readout3_rows()
    random_far = find(f"{EF}/results_60k_readout_random_200.json")["far_success_rate"]
    rows.append(["Reach3D far goals found by exploring (far quarter of 200 goals, 6 seeds, IQM [95% CI]), as trained",
                 iqm_cell(trained, rate), f"random exploration {rate(random_far)} (1 seed)",
                 "[exploration](docs/results/exploration.md)"])
    rows.append(["the same, **with an evaluation recipe**: plan from the target encoder, ensemble mix 0.5, "
                 "predictor refitted 3,000 steps on the run's replay", iqm_cell(planned, rate), "",
                 "[exploration](docs/results/exploration.md)"])
    off = [r for r in load("offline/results.json") if r["task"] == "reach2d"]
    rows.append(["Reach2D offline from a random dataset (zero-shot, seeds 0 / 1)",
                 " / ".join(num(r["success_rate"]) for r in off), "", "[scale](docs/results/scale.md)"])
    return page(md(["task", "ours", "baseline", "details"], rows),
                sources("reach/reach2d_seed0.json", "reacher-v5/results.json", "halfcheetah-v5/results.json",
                        "hierarchy/results.json", f"{EF}/results_60k_readout3_seed{{0..5}}_200.json",
                        f"{EF}/results_60k_readout_random_200.json", "offline/results.json",
                        note=" by `python docs/gen_results.py`"))


# --------------------------------------------------------------------------- pages
def render(text: str) -> tuple[str, list[str]]:
    """``text`` with every marked table regenerated, and the names of the tables used."""
    names: list[str] = []

    def replace(m: re.Match[str]) -> str:
        name = m.group("name")
        if name == "end":
            return m.group(0)
        if name not in TABLES:
            raise KeyError(f"unknown results table {name!r}; known: {', '.join(sorted(TABLES))}")
        names.append(name)
        return f"{m.group(1)}{TABLES[name]()}{m.group(4)}"

    return BLOCK.sub(replace, text), names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if any table differs from its results files")
    args = parser.parse_args(argv)
    stale, used = [], set()
    for path in PAGES:
        text = path.read_text()
        new, names = render(text)
        used.update(names)
        if new != text:
            stale.append(f"{path.relative_to(ROOT)} ({', '.join(names)})")
            if not args.check:
                path.write_text(new)
    unused = sorted(set(TABLES) - used)
    if unused:
        print(f"tables no page shows: {', '.join(unused)}", file=sys.stderr)
    if stale:
        print(("stale: " if args.check else "rewrote: ") + "; ".join(stale), file=sys.stderr)
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
