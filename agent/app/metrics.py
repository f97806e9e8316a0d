"""Scalar metrics of a run to CSV and/or TensorBoard.

``MetricsLogger(run_dir, ["csv", "tensorboard"])`` writes ``metrics.csv`` (one row per
logged step, one column per metric; the header grows when a new metric appears) and
TensorBoard event files under ``run_dir/tensorboard``. TensorBoard needs the
``tensorboard`` package (``pip install "jepa-agent[log]"``).
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["BACKENDS", "CSVWriter", "MetricsLogger", "MissingExtra", "TensorBoardWriter", "parse_backends", "require"]

BACKENDS = ("csv", "tensorboard")


def parse_backends(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"tensorboard,csv"`` -> ``("tensorboard", "csv")``; ``"none"`` or ``""`` -> ``()``."""
    items = text.split(",") if isinstance(text, str) else list(text)
    names = tuple(dict.fromkeys(s.strip().lower() for s in items if s.strip() and s.strip().lower() != "none"))
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise ValueError(f"unknown log backend {unknown[0]!r}; known: {', '.join(BACKENDS)} (or none)")
    return names


class MissingExtra(ImportError):
    """A backend whose package is not installed; the message names the extra to install."""


def require(backends: Sequence[str]) -> None:
    """Raise :class:`MissingExtra` now, before a run starts, if a backend cannot be imported."""
    if "tensorboard" in backends:
        try:
            from torch.utils.tensorboard import SummaryWriter  # noqa: F401
        except ImportError as err:  # torch raises ImportError when tensorboard is missing
            raise MissingExtra(
                "--log tensorboard needs the tensorboard package: pip install \"jepa-agent[log]\" "
                f"(or pip install tensorboard). Cause: {err}"
            ) from err


class CSVWriter:
    """``metrics.csv``: column ``step`` then one column per metric, in order of first appearance.

    Rows are appended as they come; when a metric appears for the first time the file is
    rewritten with the wider header (runs log a few hundred rows, so that is cheap), and
    a missing value is an empty cell.
    """

    def __init__(self, path: Path, *, resume_at: int | None = None) -> None:
        """``resume_at``: keep the rows of an existing file up to this step (a resumed run;
        rows logged after its checkpoint are dropped, the resumed run logs them again)."""
        self.path = path
        self.columns: list[str] = ["step"]
        self.rows: list[dict[str, Any]] = []
        if resume_at is not None and path.is_file():
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                self.columns = list(reader.fieldnames or ["step"])
                self.rows = [r for r in reader if r.get("step", "").isdigit() and int(r["step"]) <= resume_at]
        path.parent.mkdir(parents=True, exist_ok=True)
        self._rewrite()

    def write(self, step: int, metrics: Mapping[str, float]) -> None:
        row = {"step": step, **metrics}
        self.rows.append(row)
        new = [k for k in metrics if k not in self.columns]
        if new:
            self.columns += new
            self._rewrite()
        else:
            with open(self.path, "a", newline="") as f:
                csv.DictWriter(f, fieldnames=self.columns).writerow(row)

    def _rewrite(self) -> None:
        with open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(self.rows)

    def close(self) -> None:
        pass


class TensorBoardWriter:
    """TensorBoard scalars under ``folder`` (``tensorboard --logdir runs``)."""

    def __init__(self, folder: Path) -> None:
        require(["tensorboard"])
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(folder))

    def write(self, step: int, metrics: Mapping[str, float]) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, global_step=step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class MetricsLogger:
    """Fans scalar metrics out to the chosen backends; non-finite and non-numeric values are
    dropped (a metric that does not exist yet is a gap, not a NaN in TensorBoard)."""

    def __init__(self, run_dir: str | Path, backends: Sequence[str] = ("csv",), *, resume_at: int | None = None) -> None:
        run_dir = Path(run_dir)
        self.backends = parse_backends(backends)
        self.writers: list[CSVWriter | TensorBoardWriter] = []
        for name in self.backends:
            if name == "csv":
                self.writers.append(CSVWriter(run_dir / "metrics.csv", resume_at=resume_at))
            else:
                self.writers.append(TensorBoardWriter(run_dir / "tensorboard"))
        if self.writers:
            log.info("metrics to %s", ", ".join(self.backends))

    def log(self, step: int, metrics: Mapping[str, Any]) -> None:
        clean = {
            k: float(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        }
        if clean:
            for w in self.writers:
                w.write(int(step), clean)

    def close(self) -> None:
        for w in self.writers:
            w.close()

    def __enter__(self) -> MetricsLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _running_mean(x: np.ndarray, w: int) -> np.ndarray:
    return np.convolve(x, np.ones(w) / w, mode="valid")


def learning_curve(history: dict[str, list], path: str | Path) -> None:
    """Five panels: success (and goal-space coverage, where measured), final distance and
    return (running means over 40 episodes) vs env steps; world-model, critic, policy and probe losses, and the collapse diagnostics
    (embedding std and effective rank) vs updates."""
    # A Figure drawn by the Agg canvas directly: no pyplot (its import and global state), and
    # margins set once rather than measured by tight_layout (a third of the call's time).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    eps, ups = history["episodes"], history["updates"]
    fig = Figure(figsize=(22, 3.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 5)
    fig.subplots_adjust(left=0.035, right=0.965, bottom=0.15, top=0.9, wspace=0.28)
    steps = np.array([e["env_steps"] for e in eps])
    w = 40
    for ax, key in zip(axes[:3], ("success", "final_distance", "return"), strict=True):
        values = np.array([e[key] for e in eps], dtype=float)
        if len(values) >= w:
            ax.plot(steps[w - 1 :], _running_mean(values, w))
    covered = [(e["env_steps"], e["coverage"]) for e in eps if "coverage" in e]
    if covered:
        axes[0].plot([c[0] for c in covered], [c[1] for c in covered], label="goal-space coverage")
        axes[0].legend(fontsize=7)
    axes[0].set(title="training success (running mean, 40 episodes)", xlabel="env steps", ylim=(0, 1))
    axes[1].set(title="final distance to goal", xlabel="env steps", ylabel="m", yscale="log")
    axes[2].set(title="episode return", xlabel="env steps")
    if ups:
        u = np.array([x["update"] for x in ups])
        for key in ("pred_loss", "critic_loss", "policy_loss", "probe_rmse"):
            if key in ups[-1]:
                axes[3].plot(u, [x.get(key, np.nan) for x in ups], label=key, lw=0.8)
        axes[3].legend(fontsize=7)
        axes[4].plot(u, [x["embed_std"] for x in ups], lw=0.8)
        ranked = [(x["update"], x["embed_rank"]) for x in ups if "embed_rank" in x]
        if ranked:
            ax_rank = axes[4].twinx()
            ax_rank.plot([r[0] for r in ranked], [r[1] for r in ranked], color="C1", lw=0.8)
            ax_rank.set_ylabel("effective rank", color="C1")
    axes[3].set(title="losses", xlabel="updates", yscale="log")
    axes[4].set(title="collapse diagnostics", xlabel="updates", ylabel="embedding std")
    fig.savefig(path, dpi=110)
