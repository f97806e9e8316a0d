"""Provenance: the record of code, software, device and time that run folders and checkpoints carry."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import jepa_agent
from jepa_agent.agent import provenance as prov
from jepa_agent.agent.app.cli import main
from jepa_agent.agent.app.run import write_provenance
from jepa_agent.agent.provenance import provenance

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "jepa_agent", "git_commit", "git_dirty", "python", "torch", "cuda", "mujoco", "gymnasium", "numpy",
    "device", "device_name", "torch_threads", "platform", "machine", "time_utc",
}
IN_CHECKOUT = shutil.which("git") is not None and (ROOT / ".git").exists()


def test_record_has_every_key_and_is_json():
    """The record holds every documented key and survives a JSON round trip unchanged."""
    record = provenance("cpu")
    assert set(record) == KEYS
    assert json.loads(json.dumps(record)) == record
    assert record["jepa_agent"] == jepa_agent.__version__
    assert record["torch"] == torch.__version__ and record["torch_threads"] == torch.get_num_threads()
    assert record["python"] == ".".join(map(str, sys.version_info[:3]))
    assert record["device"] == "cpu"
    assert record["time_utc"].endswith("+00:00")


def test_device_is_written_as_torch_writes_it():
    """A torch.device or a string gives the same entry; no device gives None, not a guess."""
    assert provenance(torch.device("cpu"))["device"] == provenance("cpu")["device"] == "cpu"
    assert provenance()["device"] is None and provenance()["device_name"] is None
    if not torch.cuda.is_available():
        assert provenance("cuda")["device_name"] is None  # no CUDA: no name, no error


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_device_is_named():
    """On CUDA the record names the GPU and the CUDA version torch was built with."""
    record = provenance(torch.device("cuda", 0))
    assert record["device_name"] == torch.cuda.get_device_name(0)
    assert record["cuda"] == torch.version.cuda


@pytest.mark.skipif(not IN_CHECKOUT, reason="needs git and a git checkout")
def test_commit_of_this_checkout():
    """Run from this checkout, the record holds HEAD's 40-hex commit and a dirty flag."""
    record = provenance()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", record["git_commit"]) and record["git_commit"] == head
    assert isinstance(record["git_dirty"], bool)


def test_no_commit_outside_a_checkout(tmp_path):
    """A folder that is not a git checkout gives None for the commit and the dirty flag."""
    assert prov._git_state(tmp_path) == {"git_commit": None, "git_dirty": None}


@pytest.mark.skipif(not IN_CHECKOUT, reason="needs git and a git checkout")
def test_no_commit_for_a_copy_inside_someone_elses_checkout():
    """A package folder below a checkout's top (a virtualenv inside a repository) is not that
    checkout: its commit is not reported."""
    assert prov._git_state(ROOT / "agent") == {"git_commit": None, "git_dirty": None}


def test_lookup_follows_the_package_not_the_current_folder(tmp_path, monkeypatch):
    """The commit is the package's: changing the current folder changes nothing, moving the
    package root outside a checkout gives None."""
    monkeypatch.chdir(tmp_path)
    before = provenance()["git_commit"]
    assert before == prov._git_state(ROOT)["git_commit"]
    prov._static_record.cache_clear()
    monkeypatch.setattr(prov, "_package_root", lambda: tmp_path)
    try:
        assert provenance()["git_commit"] is None
    finally:
        prov._static_record.cache_clear()  # the next caller sees the real package root again


@pytest.mark.timing
def test_later_calls_are_fast_and_fresh():
    """After the first call a record costs under 50 ms, and each call has its own time and threads."""
    provenance("cpu")
    t0 = time.perf_counter()
    for _ in range(20):
        record = provenance("cpu")
    assert (time.perf_counter() - t0) / 20 < 0.05
    record["device"] = "changed"  # a caller's edit never reaches the next record
    assert provenance("cpu")["device"] == "cpu"


def test_git_missing_gives_none(tmp_path, monkeypatch):
    """Without a git executable the lookup gives None rather than an error."""
    monkeypatch.setenv("PATH", str(tmp_path))
    prov._git_state.cache_clear()
    try:
        assert prov._git_state(ROOT) == {"git_commit": None, "git_dirty": None}
    finally:
        prov._git_state.cache_clear()


def test_resumed_run_keeps_the_first_record(tmp_path):
    """A resumed run's provenance.json keeps the record that started it and lists each resume."""
    path = tmp_path / "provenance.json"
    write_provenance(path, {"time_utc": "a"})
    write_provenance(path, {"time_utc": "b"}, resumed=True)
    write_provenance(path, {"time_utc": "c"}, resumed=True)
    assert json.loads(path.read_text()) == {"time_utc": "a", "resumed": [{"time_utc": "b"}, {"time_utc": "c"}]}
    write_provenance(path, {"time_utc": "d"})  # a new run in the same folder starts afresh
    assert json.loads(path.read_text()) == {"time_utc": "d"}


def test_version_flag(capsys):
    """`jepa-agent --version` prints the package version and exits 0."""
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"jepa-agent {jepa_agent.__version__}\n"


def test_python_m_version():
    """`python -m jepa_agent --version` is the same command."""
    done = subprocess.run([sys.executable, "-m", "jepa_agent", "--version"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"jepa-agent {jepa_agent.__version__}\n"


# --------------------------------------------------------------------------- where it is written
def _tiny() -> list[str]:
    from .test_cli_commands import REACH2D, TINY

    return ["--config", REACH2D, *TINY]


def test_run_folder_and_eval_json_carry_provenance(tmp_path):
    """`train` writes provenance.json; its eval.json and `eval`'s have a `provenance` entry."""
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--steps", "40", "--episodes", "1", "--video", "0", *_tiny()]) == 0
    started = json.loads((out / "provenance.json").read_text())
    result = json.loads((out / "eval.json").read_text())
    assert set(started) == set(result["provenance"]) == KEYS
    assert started["device"] == result["provenance"]["device"] == result["device"]
    assert list(result)[-1] == "records"  # the existing keys keep their places
    (checkpoint,) = [p for p in out.glob("checkpoint*") if p.is_file()]
    assert main(["eval", str(checkpoint), "--episodes", "1", "--out", str(tmp_path / "eval"), "--threads", "1"]) == 0
    assert set(json.loads((tmp_path / "eval" / "eval.json").read_text())["provenance"]) == KEYS


def test_collect_run_folder_has_provenance(tmp_path, monkeypatch):
    """`collect` into its default run folder writes provenance.json beside the replay."""
    monkeypatch.chdir(tmp_path)
    assert main(["collect", "--steps", "20", *_tiny()]) == 0
    (folder,) = (tmp_path / "runs").iterdir()
    assert (folder / "replay.npz").is_file()
    assert set(json.loads((folder / "provenance.json").read_text())) == KEYS


@pytest.mark.filterwarnings("ignore:No artists with labels")  # no records: an empty plot
def test_bench_results_have_provenance(tmp_path):
    """The planner benchmark writes provenance.json beside results.json."""
    from jepa_agent.agent.app.bench import write_results

    write_results([], tmp_path)
    assert json.loads((tmp_path / "provenance.json").read_text())["device"] == "cpu"
