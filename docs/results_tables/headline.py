"""The README's headline table: one row per benchmark area."""

from __future__ import annotations

from results_tables.base import EF, curve, find, iqm_cell, load, md, num, page, rate, sources, table
from results_tables.exploration import readout3_rows
from results_tables.hierarchy import by_task


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
    fair = curve("mujoco-suite/HalfCheetah-v5/results.json", "sac")
    rows.append(["HalfCheetah-v5 return at 100k steps, 1 seed", num(ours[100000][0], 0),
                 f"SAC, published recipe {num(fair[100000][0], 0)} (SB3's defaults {num(sac[100000][0], 0)})",
                 "[reward tasks](docs/results/reward-tasks.md)"])
    h = load("hierarchy/results.json")
    flat, hier = by_task(h, task="pointmaze_large", planner="flat", ablation=None), by_task(
        h, task="pointmaze_large", planner="hierarchical", ablation=None)
    rows.append(["PointMaze Large, 50 detour pairs, 20 ms per decision", f"hierarchical {num(hier['success_rate'])}",
                 f"flat {num(flat['success_rate'])}", "[hierarchy](docs/results/hierarchy.md)"])
    _, trained, planned, _ = readout3_rows()
    random_far = find(f"{EF}/results_60k_readout_random_200.json")["far_success_rate"]
    rows.append(["Reach3D far goals found by exploring (far quarter of 200 goals, 6 seeds, IQM [95% CI]), as trained",
                 iqm_cell(trained, rate), f"random actions {rate(random_far)} (1 seed, readout weight 1)",
                 "[exploration](docs/results/exploration.md)"])
    rows.append(["the same, **with an evaluation recipe**: plan from the target encoder, ensemble mix 0.5, "
                 "predictor refitted 3,000 steps on the run's replay", iqm_cell(planned, rate), "",
                 "[exploration](docs/results/exploration.md)"])
    off = [r for r in load("offline/results.json") if r["task"] == "reach2d"]
    rows.append(["Reach2D offline from a random dataset (zero-shot, seeds 0 / 1)",
                 " / ".join(num(r["success_rate"]) for r in off), "", "[scale](docs/results/scale.md)"])
    return page(md(["task", "ours", "baseline", "details"], rows),
                sources("reach/reach2d_seed0.json", "reacher-v5/results.json", "halfcheetah-v5/results.json", "mujoco-suite/HalfCheetah-v5/results.json",
                        "hierarchy/results.json", f"{EF}/results_60k_readout3_seed{{0..5}}_200.json",
                        f"{EF}/results_60k_readout_random_200.json", "offline/results.json",
                        note=" by `python docs/gen_results.py`"))
