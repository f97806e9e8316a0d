"""The planner benchmark harness and the `jepa-agent bench` command, on a tiny learned model."""

import json

import gymnasium as gym
import pytest

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.actor import ActorConfig
from jepa_agent.agent import Agent
from jepa_agent.agent.app.bench import benchmark, write_results
from jepa_agent.agent.app.cli import main
from jepa_agent.agent.app.console import _budget
from jepa_agent.configurator import AgentConfig, ModuleSpec, TaskSpec, TrainingConfig

RECORD_KEYS = {"planner", "env", "model", "success_rate", "mean_return", "mean_final_distance", "act_ms_median", "episodes"}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    cfg = AgentConfig(
        task=TaskSpec(planner=ModuleSpec(name="cem", options={"samples": 16, "iterations": 1, "elites": 4}),
                      actor=ActorConfig(horizon=3)),
        encoder=ModuleSpec(name="mlp", options={"latent_dim": 8, "hidden_dim": 16}),
        world_model=ModuleSpec(name="jepa", options={"hidden_dim": 16}),
        critic=ModuleSpec(name="mlp", options={"hidden_dim": 16}),
        policy=ModuleSpec(name="mlp", options={"hidden_dim": 16}),
        training=TrainingConfig(batch_size=8, window=2),
        device="cpu",
    )
    path = tmp_path_factory.mktemp("ckpt") / "agent.pt"
    Agent.from_config(cfg, gym.make("jepa_agent/Reach2D-v0")).save(path)
    return str(path)


def test_benchmark_grid_records_every_cell(checkpoint, tmp_path):
    """Two planners x two budgets give four records with the documented fields, and files on disk."""
    budgets = [{"samples": 8, "iterations": 1, "horizon": 3}, {"samples": 16, "iterations": 2, "horizon": 3}]
    records = benchmark(["cem", "mppi"], ["jepa_agent/Reach2D-v0"], [checkpoint], budgets, [0], 1)
    assert [(r.planner, r.budget["samples"]) for r in records] == [("cem", 8), ("cem", 16), ("mppi", 8), ("mppi", 16)]
    assert all(r.episodes == 1 and 0.0 <= r.success_rate <= 1.0 and r.act_ms_median > 0 for r in records)
    assert [r.iterations_mean for r in records] == [1.0, 2.0, 1.0, 2.0]
    write_results(records, tmp_path)
    rows = json.loads((tmp_path / "results.json").read_text())
    assert len(rows) == 4 and RECORD_KEYS <= set(rows[0])
    assert (tmp_path / "results.csv").read_text().count("\n") == 5
    assert (tmp_path / "pareto.png").stat().st_size > 1000


def test_cli_bench_writes_results(checkpoint, tmp_path):
    """`jepa-agent bench` runs the grid from flags and writes results.json."""
    rc = main(["bench", "--planners", "cem", "--models", checkpoint, "--budgets", "samples=8,iterations=1,horizon=3",
               "--episodes", "1", "--out", str(tmp_path)])
    assert rc == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    assert rows[0]["planner"] == "cem" and rows[0]["budget"] == {"samples": 8, "iterations": 1, "horizon": 3}


def test_budget_flag_parsing():
    """Budgets parse as typed KEY=VALUE pairs; a malformed one is a clear error."""
    assert _budget("samples=128,deadline_s=0.02") == {"samples": 128, "deadline_s": 0.02}
    with pytest.raises(Exception, match="KEY=VALUE"):
        _budget("samples")


def test_benchmark_oracle_cem_reaches_goals():
    """With the true simulator as model, CEM reaches Reach2D goals within 2 cm (2 episodes)."""
    budget = {"samples": 64, "iterations": 2, "horizon": 15}
    (rec,) = benchmark(["cem"], ["jepa_agent/Reach2D-v0"], ["oracle"], [budget], [0], 2)
    assert rec.model == "oracle" and rec.episodes == 2
    assert rec.success_rate == 1.0 and rec.mean_final_distance < 0.02, rec
