"""benchmarks.diagnostics.goal_energy: the latent and the probe's goal energies on the same checkpoint and episodes."""

from __future__ import annotations

import json

import torch


def test_scale_match_equates_the_two_energies(goal_energy, maze_checkpoint):
    """Known answer: the matched probe weight times the probe energy's mean is the latent energy's mean."""
    from jepa_agent.agent import Agent
    from jepa_agent.agent.environments import make_env

    agent = Agent.load(maze_checkpoint)
    env = make_env(agent.config)
    scale = goal_energy.scale_match(agent, goal_energy.visited_observations(agent, env, 60, 0), 0)
    assert scale["pairs"] == 60 and scale["probe_rmse"] >= 0 and scale["round_trip_rmse"] >= 0
    assert torch.isclose(torch.tensor(scale["probe_weight_matched"] * scale["probe_energy_mean"]),
                         torch.tensor(scale["latent_energy_mean"]), rtol=1e-5)


def test_each_variant_is_evaluated_on_the_same_episodes(goal_energy, maze_checkpoint, tmp_path):
    """Two variants, 2 episodes on 2 envs: each has its overrides (the probe's weight where named)
    and rates and distances of its own; the file holds them."""
    assert goal_energy.main([str(maze_checkpoint), "--episodes", "2", "--num-envs", "2", "--variants", "latent,probe",
                             "--probe-weight", "2.5", "--json", str(tmp_path / "g.json")]) == 0
    out = json.loads((tmp_path / "g.json").read_text())
    assert list(out["variants"]) == ["latent", "probe"] and out["probe_weight"] == 2.5
    assert out["variants"]["probe"]["overrides"]["cost.goal_weight"] == 2.5
    assert out["variants"]["latent"]["overrides"]["cost.goal_space"] == "latent"
    for v in out["variants"].values():
        assert 0 <= v["success_rate_final"] <= v["success_rate_any"] <= 1 and v["mean_final_distance"] > 0
