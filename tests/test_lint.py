"""The source passes `ruff check` (pyproject's [tool.ruff] rules): the fast suite is what CI runs."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_passes():
    """`ruff check` over the repository finds nothing; on failure the message is ruff's report."""
    pytest.importorskip("ruff", reason="ruff is in the dev extra: pip install -e '.[dev]'")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, f"ruff check failed (fix with `ruff check --fix .`):\n{done.stdout}{done.stderr}"
