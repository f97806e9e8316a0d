"""The planner benchmark's grid as a config file (``jepa-agent bench --config configs/bench_*.yaml``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class BenchConfig(BaseModel):
    """Planners x envs x models x budgets x seeds, each cell run closed-loop (``agent.app.bench``).

    Flags given on the command line replace the file's values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    planners: list[str] = Field(default_factory=lambda: ["cem", "mppi"], min_length=1)
    """Registered planner names or import paths."""
    envs: list[str] = Field(default_factory=lambda: ["jepa_agent/Reach2D-v0"], min_length=1)
    """Gymnasium ids."""
    models: list[str] = Field(default_factory=lambda: ["oracle"], min_length=1)
    """``oracle`` (the true simulator) and/or checkpoint paths (the learned world model)."""
    budgets: list[dict[str, Any]] = Field(default_factory=lambda: [{}], min_length=1)
    """Planner options and ``horizon`` / ``deadline_s`` per budget, e.g. ``{samples: 128, iterations: 2}``."""
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    """Seeds; each runs ``episodes`` episodes."""
    episodes: PositiveInt = 10
    """Episodes per seed."""
    out: str = "runs/bench"
    """Folder for results.json, results.csv and pareto.png."""
