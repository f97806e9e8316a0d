"""Test-session setup: headless MuJoCo rendering (tests may set env vars; the library never does)."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import torch  # noqa: E402

# Tiny test shapes run fastest single-threaded, and 2 intra-op threads per process thrash
# badly when another job shares the 2 cores (40x slower measured). Tests may set global
# torch flags; the library never does.
torch.set_num_threads(1)


# ---------------------------------------------------------------- timing tests under xdist
# The README's test command runs the tests on every core (pytest-xdist). A test marked
# ``timing`` measures wall time and needs the machine to itself: it holds an exclusive lock
# on a file the session's workers share, and every other test holds a shared one, so a
# timing test starts once the other workers' current tests end and none starts beside it.
import fcntl  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def _machine_lock(tmp_path_factory) -> Path:
    # the base temp dir's parent is shared by every xdist worker of this session
    root = tmp_path_factory.getbasetemp()
    shared = root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root
    return shared / "machine.lock"


@pytest.fixture(autouse=True)
def _machine_to_itself(request, _machine_lock):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield  # one process: every test has the machine to itself already
        return
    mode = fcntl.LOCK_EX if request.node.get_closest_marker("timing") else fcntl.LOCK_SH
    with open(_machine_lock, "a") as f:
        fcntl.flock(f, mode)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
