"""The guides' code runs: every docs/examples/*.py exits 0, from the repository root, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.py"))
TIMEOUT_S = 180

# One interpreter imports what the examples share (torch, MuJoCo, Gymnasium, the library: about
# 2 s, most of a small example's run), then forks a child per example that runs the file as
# __main__ with its own argv and sys.path[0]. Each example still starts from a state no other
# example touched, and the imports are paid once instead of once per example.
FORK_RUNNER = """
import os, runpy, signal, sys, traceback
import gymnasium, mujoco, numpy, torch  # noqa: F401
import jepa_agent.agent.agent, jepa_agent.configurator, jepa_agent.envs  # noqa: F401
timeout, pairs = int(sys.argv[1]), sys.argv[2:]
for path, log in zip(pairs[::2], pairs[1::2]):
    pid = os.fork()
    if pid == 0:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        signal.alarm(timeout)
        sys.argv, sys.path[0] = [path], os.path.dirname(os.path.abspath(path))
        code = 0
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), path, flush=True)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl"), "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, tuple[int, str]]:
    """Every example's exit code and output, run by `FORK_RUNNER` (one subprocess per example
    where the platform cannot fork)."""
    names = [str(p.relative_to(ROOT)) for p in EXAMPLES]
    if not hasattr(os, "fork"):
        runs = [subprocess.run([sys.executable, name], cwd=ROOT, env=_env(), capture_output=True, text=True,
                               timeout=TIMEOUT_S) for name in names]
        return {name: (run.returncode, run.stdout + run.stderr) for name, run in zip(names, runs, strict=True)}
    logs = tmp_path_factory.mktemp("docs_examples")
    pairs = [arg for i, name in enumerate(names) for arg in (name, str(logs / f"{i}.log"))]
    proc = subprocess.run([sys.executable, "-c", FORK_RUNNER, str(TIMEOUT_S), *pairs], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=TIMEOUT_S * len(names))
    assert proc.returncode == 0, f"the example runner failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    codes = dict(reversed(line.split(" ", 1)) for line in proc.stdout.splitlines())
    return {name: (int(codes[name]), (logs / f"{i}.log").read_text()) for i, name in enumerate(names)}


def test_there_are_examples_for_every_module_kind():
    """The guide to your own modules has a runnable file for each kind it shows."""
    names = {p.stem for p in EXAMPLES}
    assert {"world_model", "cost_and_critic", "planner_and_policy", "memory", "plugins", "pixels", "exploration", "own_env"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_docs_example_runs(path, outcomes):
    """The example runs to its end (its own asserts check what it shows)."""
    code, output = outcomes[str(path.relative_to(ROOT))]
    why = f"ran past {TIMEOUT_S} s" if code == -14 else f"exit code {code}"  # -14: SIGALRM, the runner's timeout
    assert code == 0, f"{path.name} failed ({why}):\n{output[-4000:]}"
