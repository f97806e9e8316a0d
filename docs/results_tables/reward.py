"""Reward tasks next to SAC (docs/results/reward-tasks.md)."""

from __future__ import annotations

from results_tables.base import (
    RESULTS,
    curve,
    iqm_cell,
    load,
    md,
    num,
    page,
    seeds_cell,
    sources,
    table,
)


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


@table("hopper-audit")
def _hopper_audit() -> str:
    """``benchmarks.diagnostics.reward_audit`` of Hopper checkpoints: one row per audit file."""
    audits = {p.name: load(f"hopper-v5/{p.name}") for p in (RESULTS / "hopper-v5").glob("audit_*.json")}
    files = sorted(audits, key=lambda name: (audits[name]["window_starts"] != "fit", audits[name]["env_steps"]))
    rows = []
    for name in files:
        a = audits[name]
        ends = a["model"]["p_terminal_at_real_ends"]
        c = a["critic"]
        rows.append([
            f"{a['env_steps'] // 1000}k", f"`{a['window_starts']}`", f"{a['updates_per_step']:g} x {a['batch_size']}",
            *(f"{a[m]['mean_return']:.0f} ({sum(a[m]['lengths']) / len(a[m]['lengths']):.0f})"
              for m in ("planner", "policy", "critic_actor")),
            f"{a['planner']['terminated']}/{a['planner']['episodes']}",
            f"{sum(p >= 0.5 for p in ends)}/{len(ends)}", num(a["model"]["p_terminal_elsewhere_mean"], 4),
            f"{c['value_mean']:.0f} / {c['mc_mean']:.0f}", num(c["corr"]),
            num(a["model"]["cost_rmse_per_step"][0]), num(a["model"]["cost_rmse_per_step"][4]),
        ])
    header = ["env steps", "windows", "updates/step x batch", "planner return (length)", "policy", "critic's actor",
              "planner falls", "rollouts reaching a fall that call it (P(end) >= 0.5)", "P(end) elsewhere, mean", "critic V / Monte-Carlo", "corr",
              "cost RMSE step 1", "step 5"]
    return page(md(header, rows), sources(*(f"hopper-v5/{name}" for name in files),
                                          note="; 5 episodes per policy, seed 0"))


@table("hopper-ablation")
def _hopper_ablation() -> str:
    """``benchmarks.ablation`` of short Hopper runs: one row per run, what it changed from the base config."""
    rel = "hopper-v5/ablation_40k.json"
    a = load(rel)
    rows = [[r["variant"].replace("|", "\\|"), str(r["seed"]), f"{r['env_steps'] // 1000}k",
             f"{r['eval_mean_return']:.0f} ± {r['eval_std_return']:.0f} ({r['eval_episodes']})", f"{r['train_return_tail']:.0f}",
             f"{r['critic_value_tail']:.0f}",
             f"{r['audit_value_mean']:.0f} / {r['audit_mc_mean']:.0f}" if "audit_value_mean" in r else "",
             " / ".join(f"{r[k]:.0f}" if k in r else "-" for k in
                        ("audit_planner_return", "audit_policy_return", "audit_critic_actor_return")),
             f"{r['train_wall_s'] / 60:.0f}"]
            for r in a["runs"]]
    header = ["changes from `" + a["base"] + "`", "seed", "env steps", "eval return (episodes)",
              f"training return (last {a['tail_steps'] // 1000}k steps)", "critic value (same steps)",
              "critic V / Monte-Carlo (audit)", "planner / policy / critic's actor (audit)", "train minutes"]
    return page(md(header, rows), sources(rel, note="; one seed each; the runs shared the 2 cores with up to three other processes (and were paused while profiles ran), so their minutes are not timings to compare"))


@table("hopper-profile")
def _hopper_profile() -> str:
    """``benchmarks.profile_run`` of the Hopper recipe: milliseconds per env step by part, one
    row per profile file (what its config changed from the recipe)."""
    files = ["hopper-v5/profile.json", *(f"hopper-v5/{p.name}" for p in sorted((RESULTS / "hopper-v5").glob("profile_*.json")))]
    rows = []
    for rel in files:
        p = load(rel)
        parts = p["ms_per_env_step_by_part"]
        rows.append([f"`{rel.split('/')[-1]}`", ", ".join(p.get("set", [])) or "the recipe", f"{p['ms_per_env_step']:.1f}",
                     *(f"{parts[k]:.2f}" for k in ("plan", "update", "simulate", "other")),
                     f"{p['ms_per_plan_call']:.1f} ({p['num_envs']} envs)", f"{p['ms_per_update']:.1f}",
                     f"{p['minutes_per_100k_env_steps']:.0f}"])
    header = ["file", "profiled", "ms per env step", "planning", "updates", "simulation", "the rest", "ms per plan call",
              "ms per update", "minutes per 100k steps"]
    p = load(files[0])
    return page(md(header, rows), sources(*files, note=f"; {p['env_steps']} timed env steps, {p['threads']} torch thread each"))


# --------------------------------------------------------------------------- the MuJoCo suite
SUITE_FOLDER = "mujoco-suite"
"""``benchmarks/results/mujoco-suite/<env>/results.json``: the suite runner's runs (SAC's
published recipe so far)."""
OURS_FOLDERS = {"Hopper-v5": ("hopper-v5", "`reward`"), "HalfCheetah-v5": ("halfcheetah-v5", "`reward`"),
                "Reacher-v5": ("reacher-v5", "`reacher`"), "Pusher-v5": ("pusher-v5", "`pusher`")}
"""Env -> (its single-env results folder, the config our agent ran there)."""


def _final(rel: str, method: str) -> tuple[int, list[float]] | None:
    """(the last evaluation's env steps, one return per seed) of ``method`` in ``rel``, or None."""
    if not (RESULTS / rel).is_file():
        return None
    points = curve(rel, method)
    if not points:
        return None
    last = max(points)
    return last, points[last]


def _cell(found: tuple[int, list[float]] | None, budget: int, digits: int) -> str:
    if found is None:
        return "not run"
    steps, values = found
    at = "" if steps == budget else f" at {steps // 1000}k"
    fmt = lambda v: num(v, digits)  # noqa: E731
    return f"{iqm_cell(values, fmt) if len(values) > 1 else fmt(values[0])}{at} ({len(values)})"


@table("mujoco-suite")
def _suite() -> str:
    from benchmarks import common
    from benchmarks.stats import bootstrap_ci, iqm
    from benchmarks.suites import SUITES, TARGETS, folder_name

    rows, read = [], []
    for env, budget in SUITES["mujoco"].items():
        digits = 0 if abs(TARGETS[env]) >= 100 else 1 if abs(TARGETS[env]) >= 10 else 2
        folder, config = OURS_FOLDERS.get(env, (None, "-"))
        suite = f"{SUITE_FOLDER}/{folder_name(env)}/results.json"
        own = f"{folder}/results.json" if folder else None
        if own is None and _final(suite, "ours") is not None:  # the suite runner's, without --config
            own, config = suite, "`reward`"
        read += sorted({p for p in (own, suite) if p and (RESULTS / p).is_file()})
        published = common.published(env, budget)
        best = max(published.items(), key=lambda kv: iqm(kv[1]), default=None)
        if best:
            lo, hi = bootstrap_ci(best[1])
            best_cell = f"{best[0]}: {iqm(best[1]):.0f} [{lo:.0f}, {hi:.0f}] ({len(best[1])})"
        else:
            best_cell = "-"
        sac = published.get("SAC")
        rows.append([
            env, f"{budget // 1000}k", f"{TARGETS[env]:g}", config,
            _cell(_final(own, "ours") if own else None, budget, digits),
            # a per-task folder's SAC is SB3's defaults; the suite folder's is the published recipe
            _cell(_final(own, "sac") if own and own != suite else None, budget, digits),
            _cell(_final(suite, "sac"), budget, digits),
            f"{iqm(sac):.0f} ({len(sac)})" if sac else "-", best_cell,
        ])
    header = ["env", "steps", "target", "our config", "ours", "SAC, SB3's defaults", "SAC, published recipe (our run)",
              "SAC published (IQM)", "best published agent (IQM)"]
    note = ("; the final evaluation: IQM [95% bootstrap interval] over seeds where there are several, "
            "(seeds); published agents (Gym v4) from `benchmarks/published_100k.csv`, the best by IQM")
    return page(md(header, rows), sources(*read, note=note))


@table("hopper-horizon")
def _hopper_horizon() -> str:
    """Three 40k checkpoints evaluated with other planning horizons (``jepa-agent eval --task.actor.horizon=H``)."""
    runs = [("base", "h_base"), ("`bc_weight: 0.4`", "h_E3_bc04"), ("expectile 0.9, one update per step", "h_E7_iql09")]
    horizons = (1, 3, 5, 10, 20)
    rows, read = [], []
    for label, run in runs:
        cells = []
        for h in horizons:
            rel = f"hopper-v5/eval_horizon/{run}_h{h}.json"
            e = load(rel)
            read.append(rel)
            length = sum(r["length"] for r in e["records"]) / len(e["records"])
            cells.append(f"{e['mean_return']:.0f} ({length:.0f})")
        rows.append([label, *cells])
    header = ["40k checkpoint (trained at H = 5)", *(f"H = {h}" for h in horizons)]
    return page(md(header, rows), [
        "", f"Generated from the `eval.json` of each checkpoint and horizon under "
        f"`benchmarks/results/hopper-v5/eval_horizon/` ({len(read)} files); 5 episodes each, return (mean length)."])


@table("hopper-act-latency")
def _hopper_act_latency() -> str:
    """Single-env decision latency of two 40k checkpoints (``jepa-agent eval --num-envs 1``)."""
    runs = [("the recipe", "h_base"), ("`critic: {norm: true, hidden_dim: 256}`", "h_ln256")]
    rows, read = [], []
    for label, run in runs:
        rel = f"hopper-v5/act_latency/{run}.json"
        e = load(rel)
        read.append(rel)
        rows.append([label, f"{e['act_ms_median']:.1f}", f"{e['act_ms_p90']:.1f}", f"{e['mean_return']:.0f}",
                     str(e["episodes"]), f"{e['planner']}, H = {e['horizon']}"])
    header = ["40k checkpoint", "act ms (median)", "act ms (p90)", "return", "episodes", "planner"]
    return page(md(header, rows), sources(*read, note="; one env, one torch thread, every other process on the machine paused"))


@table("halfcheetah-critic-window")
def _cheetah_critic_window() -> str:
    """The HalfCheetah recipe against the same with ``training.critic_window: 2`` and with a
    LayerNorm'd 256-wide critic, seed 0."""
    base, cw = "halfcheetah-v5/results.json", "halfcheetah-v5/critic_window2_results.json"
    ln = "halfcheetah-v5/critic_ln256_results.json"
    ours, short, wide = curve(base, "ours"), curve(cw, "ours"), curve(ln, "ours")
    rows = [(f"{s:,}", num(ours[s][0], 0), num(short[s][0], 0), num(wide[s][0], 0))
            for s in sorted(short) if s in ours and s in wide]
    header = ["env steps", "the recipe", "`training.critic_window: 2`", "`critic: {norm: true, hidden_dim: 256}`"]
    return page(md(header, rows), sources(base, cw, ln, note="; seed 0, 5 episodes per point"))
