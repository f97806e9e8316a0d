"""Every file the library reads is data: a crafted pickle in any of them runs nothing.

The cases are ``benchmarks.crafted_files``' (checkpoints, resume states, replay buffers,
frozen-encoder files, Minari datasets, model folders): each plants a payload that would
create a marker file when unpickled, and the reader a user would call must neither run it
nor fail in more than one line naming the file.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import crafted_files as crafted


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return crafted.prepare(tmp_path_factory.mktemp("good"))


def test_the_payload_does_run_when_unpickled(tmp_path):
    """The crafted payload is live: plain unpickling creates the marker (so the cases can fail)."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(crafted.Payload(marker)))
    assert marker.exists()


def test_the_cases_cover_five_kinds_of_file():
    """At least ten cases across checkpoints, resume states, replays, frozen encoders and Minari."""
    kinds = {crafted.kind_of(case) for case in crafted.CASES}
    assert len(crafted.CASES) >= 10
    assert {"checkpoint", "resume state", "replay buffer", "frozen encoder", "Minari dataset"} <= kinds


@pytest.mark.parametrize("case", crafted.CASES, ids=[c.__name__.removeprefix("case_") for c in crafted.CASES])
def test_a_crafted_file_runs_nothing_and_fails_in_one_line(case, saved, tmp_path):
    """Reading a crafted file never runs its payload; it is refused in one line naming the file."""
    record = crafted.check(case, saved, tmp_path)
    assert not record["ran"], f"{record['case']}: the payload ran"
    assert record["refused"] and record["error"] in ("ValueError", "CheckpointError", "OSError"), record
    assert record["one_line"] and record["names_file"], record["message"]


def test_the_cli_refuses_a_crafted_checkpoint_in_one_line(tmp_path):
    """``jepa-agent show evil.pt``: exit 1, one stderr line, the payload not run."""
    marker = tmp_path / "ran"
    evil = crafted.evil_torch(tmp_path / "evil.pt", marker)
    done = subprocess.run([sys.executable, "-m", "jepa_agent", "show", str(evil)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "MUJOCO_GL": "egl"})
    assert done.returncode != 0 and not marker.exists()
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "evil.pt" in lines[0] and "not opened" in lines[0], done.stderr


def test_the_benchmark_reports_none_ran(tmp_path):
    """crafted_files.run counts every case: none ran, each refused in one line."""
    result = crafted.run(tmp_path)
    assert result["crafted_files_tried"] == len(crafted.CASES) and result["crafted_files_ran"] == 0
    assert result["crafted_files_clear_error"] == result["crafted_files_tried"]
