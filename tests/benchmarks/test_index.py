"""benchmarks/ as a library of experiments: every script is in its folder's index, is a module
run from the repository root (no sys.path edits), and has its test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {ROOT / "benchmarks": ROOT / "tests" / "benchmarks",
           ROOT / "benchmarks" / "diagnostics": ROOT / "tests" / "benchmarks" / "diagnostics"}
NOT_SCRIPTS = {"__init__", "common", "stats", "suites"}  # the library the scripts share
ELSEWHERE = {"crafted_files": ROOT / "tests" / "test_malicious_files.py"}
"""Scripts whose test lives where the behaviour it checks does."""


def scripts(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if p.stem not in NOT_SCRIPTS)


@pytest.mark.parametrize("folder", list(FOLDERS), ids=lambda f: str(f.relative_to(ROOT)))
def test_the_index_lists_every_script_once(folder):
    """The folder's README.md has one row per script, no more, no fewer."""
    listed = re.findall(r"^\| `(\w+)` \|", (folder / "README.md").read_text(), re.M)
    assert sorted(listed) == scripts(folder)


@pytest.mark.parametrize("folder", list(FOLDERS), ids=lambda f: str(f.relative_to(ROOT)))
def test_every_script_has_its_test(folder):
    """tests/benchmarks[/diagnostics]/test_NAME.py (or the test named in ELSEWHERE) exists for each script."""
    missing = [s for s in scripts(folder) if not ELSEWHERE.get(s, FOLDERS[folder] / f"test_{s}.py").is_file()]
    assert missing == []


def test_no_script_edits_sys_path():
    """Every script is a module of the package (``python -m benchmarks.NAME``): none edits sys.path."""
    offenders = [p.relative_to(ROOT) for p in (ROOT / "benchmarks").rglob("*.py") if "sys.path" in p.read_text()]
    assert offenders == []


def test_a_script_runs_as_a_module_from_the_repository_root(script):
    """``python -m benchmarks.diagnostics.NAME --help`` in a process of its own, as a user runs it
    (the other tests call the scripts' main in this process)."""
    done = script("diagnostics.random_coverage", "--help", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage: ") and "--repeats" in done.stdout
