"""Statistics over seeds and tasks, as rliable defines them (Agarwal et al. 2021).

- :func:`iqm`, the interquartile mean: the mean of the values left after cutting
  ``floor(n / 4)`` from each end of the sorted values (``scipy.stats.trim_mean(x, 0.25)``);
  with 3 seeds it is their mean, with 10 the mean of the middle 6.
- :func:`bootstrap_ci`, a 95% percentile-bootstrap interval of a statistic over seeds;
  given several tasks it is *stratified*: each replicate resamples every task's seeds with
  replacement, within that task, and takes the statistic of all of them together (rliable's
  ``StratifiedBootstrap``). The generator is seeded, so a table is the same on every run.

rliable itself is not a dependency: its current release fails to import beside pandas 3 (its
``arch`` dependency), and these two functions are all the benchmarks use of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

BOOTSTRAP_SAMPLES = 10_000
"""Bootstrap replicates per interval."""
BOOTSTRAP_SEED = 0
"""Seed of the replicates' generator."""

__all__ = ["BOOTSTRAP_SAMPLES", "BOOTSTRAP_SEED", "bootstrap_ci", "iqm"]


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """Interquartile mean of ``values`` (any shape, flattened; at least one value)."""
    x = np.sort(np.asarray(values, dtype=float).ravel())
    if x.size == 0:
        raise ValueError("iqm needs at least one value, got none")
    cut = int(0.25 * x.size)
    return float(x[cut: x.size - cut].mean())


def _as_tasks(values: Sequence[float] | Sequence[Sequence[float]]) -> list[np.ndarray]:
    if len(values) == 0:
        raise ValueError("bootstrap_ci needs at least one value, got none")
    first = values[0]
    tasks = [np.asarray(v, dtype=float).ravel() for v in values] if np.ndim(first) > 0 else [np.asarray(values, dtype=float)]
    empty = [i for i, t in enumerate(tasks) if t.size == 0]
    if empty:
        raise ValueError(f"bootstrap_ci: task {empty[0]} has no values; every task needs at least one seed")
    return tasks


def bootstrap_ci(
    values: Sequence[float] | Sequence[Sequence[float]],
    stat: Callable[[np.ndarray], float] = iqm,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    confidence: float = 0.95,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """``confidence`` percentile-bootstrap interval of ``stat``.

    ``values``: one value per seed (one task), or one sequence of per-seed values per task
    (tasks may have different seed counts); the seeds are resampled within each task.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    tasks = _as_tasks(values)
    rng = np.random.default_rng(seed)
    draws = np.concatenate([t[rng.integers(0, t.size, size=(samples, t.size))] for t in tasks], axis=1)  # (S, n)
    if stat is iqm:  # vectorised: sort each replicate, average its middle
        draws.sort(axis=1)
        cut = int(0.25 * draws.shape[1])
        boots = draws[:, cut: draws.shape[1] - cut].mean(axis=1)
    else:
        boots = np.array([stat(row) for row in draws])
    tail = 100.0 * (1.0 - confidence) / 2.0
    lo, hi = np.percentile(boots, [tail, 100.0 - tail])
    return float(lo), float(hi)
