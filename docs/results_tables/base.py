"""Reading results files, statistics over seeds and Markdown for the generated tables.

Where the results files hold one value per seed, a table shows the interquartile mean (IQM,
the mean of the middle half: Agarwal et al. 2021, rliable) with a 95% percentile-bootstrap
interval over seeds, from a fixed seed, so a page is the same on every run
(``benchmarks/stats.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from benchmarks.stats import bootstrap_ci, iqm  # noqa: F401  (the tables' statistics)

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"

EF = "exploration_free"
"""The far-goal exploration runs' folder under ``benchmarks/results/``."""

TABLES: dict[str, Callable[[], str]] = {}
"""Every table generator, by the name its page's markers use."""


def table(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register a table generator under the name its page's markers use."""

    def register(fn: Callable[[], str]) -> Callable[[], str]:
        if name in TABLES:
            raise ValueError(f"results table {name!r} is registered twice")
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


