"""The documentation site builds with `mkdocs build --strict` (no broken link, no missing page or snippet)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_build_strict(tmp_path):
    """`mkdocs build --strict` succeeds from the repository root, with the API read from the source."""
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason="the site's tools are in the dev and docs extras: pip install -e '.[dev]'")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    api = (site / "reference" / "api" / "perception" / "index.html").read_text()
    assert 'id="jepa_agent.perception.Encoder"' in api, "the API pages lost their docstrings"
