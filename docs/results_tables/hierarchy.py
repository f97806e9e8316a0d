"""Hierarchy and routes (docs/results/hierarchy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from results_tables.base import load, md, num, page, sources, table

# --------------------------------------------------------------------------- hierarchy
PLANNERS = ["flat", "hierarchical", "flat+route", "hierarchical+route"]


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return ""
    steps = "n/a" if r["mean_steps_to_goal"] is None else f"{r['mean_steps_to_goal']:.0f}"
    return f"{num(r['success_rate'])} ({steps} steps, {r['act_ms_median']:.1f} ms)"


def by_task(records: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
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
        first = by_task(recs, task=task, planner="flat", ablation=None)
        training = (f"{first['train_env_steps']:,} env steps, {first['updates']:,} updates, "
                    f"{first['train_wall_s']:,.0f} s")
        rows.append([name, training, *(_cell(by_task(recs, task=task, planner=p, ablation=None)) for p in PLANNERS)])
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
        cells = [_cell(by_task(recs, task=task, planner=p, set=plain)) for p in PLANNERS]
        rows.append([name, *cells])
        top = by_task(recs, task=task, planner="hierarchical+route", set=plain + " (the top takes the probe term)")
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
