"""Provenance: which code, on which software and hardware, produced a result.

:func:`provenance` returns a small JSON-ready record that run folders (``provenance.json``),
``eval.json`` and checkpoints carry, so that a number can be traced back to the commit and
the library versions that made it::

    {"jepa_agent": "0.2.0", "git_commit": "26dadbf...", "git_dirty": false,
     "python": "3.11.9", "torch": "2.5.1", "cuda": null, "mujoco": "3.2.6",
     "gymnasium": "1.0.0", "numpy": "2.1.3", "device": "cpu", "device_name": "AMD EPYC 7B13",
     "torch_threads": 1, "platform": "Linux-6.1.0-x86_64-with-glibc2.36", "machine": "x86_64",
     "time_utc": "2026-12-07T10:31:02+00:00"}

The git fields describe the checkout the package was imported from (found from the
package's own location, never the current folder); they are None for an installed copy or
where git is missing. What cannot change within a process (versions, commit, platform) is
looked up once; a later call costs well under a millisecond.
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

import jepa_agent

log = logging.getLogger(__name__)

__all__ = ["provenance"]

GIT_TIMEOUT_S = 2.0
"""Each git call's limit: a slow network filesystem must not hold up a checkpoint."""

LIBRARIES = ("torch", "mujoco", "gymnasium", "numpy")
"""The libraries whose versions a record holds (each module is named as its distribution)."""


def provenance(device: torch.device | str | None = None) -> dict[str, Any]:
    """The record of the package version, git commit, library versions, device, torch
    threads, platform and UTC time (see the module docstring for an example).

    ``device``: the device the result was computed on (``"cuda"`` also records the GPU's
    name); None records none. Reads global state, changes none.
    """
    return {
        **_static_record(),
        **_device_record(None if device is None else str(torch.device(device))),
        "torch_threads": torch.get_num_threads(),
        "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


@functools.lru_cache(maxsize=1)
def _static_record() -> dict[str, Any]:
    """What stays the same for the life of the process (copied by the ``**`` in the caller,
    so the cached dict is never handed out)."""
    return {
        "jepa_agent": jepa_agent.__version__,
        **_git_state(_package_root()),
        "python": platform.python_version(),
        **{name: _version(name) for name in LIBRARIES},
        "cuda": torch.version.cuda,
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def _package_root() -> Path:
    """The folder above the ``jepa_agent`` package: the repository root in a checkout."""
    return Path(jepa_agent.__file__).resolve().parent.parent


def _version(module: str) -> str | None:
    """A library's version: from the module when it is already imported (importing mujoco
    here would read ``MUJOCO_GL`` too early for a caller that sets it later), else from the
    installed distribution's metadata; None when it is not installed."""
    loaded = sys.modules.get(module)
    if loaded is not None and isinstance(getattr(loaded, "__version__", None), str):
        return str(loaded.__version__)  # torch's is a str subclass
    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=8)
def _git_state(root: Path) -> dict[str, Any]:
    """``git_commit`` (40 hex digits) and ``git_dirty`` (tracked files changed since that
    commit) of the checkout whose top level is ``root``; both None when ``root`` is not the
    top of a git work tree (an installed copy, even one in a virtualenv inside a checkout)
    or git is missing or slow."""
    none = {"git_commit": None, "git_dirty": None}
    head = _git(root, "rev-parse", "--show-toplevel", "HEAD")
    if head is None:
        return none
    lines = head.splitlines()
    if len(lines) != 2 or not re.fullmatch(r"[0-9a-f]{40}", lines[1]):
        return none
    if Path(lines[0]).resolve() != root.resolve():
        return none
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {"git_commit": lines[1], "git_dirty": None if status is None else bool(status.strip())}


def _git(root: Path, *args: str) -> str | None:
    """``git -C root ARGS`` stdout, or None when it fails, times out or git is missing."""
    # The child's environment only: no GIT_DIR / GIT_WORK_TREE from a caller pointing git
    # elsewhere, and no index.lock taken by `status` (other processes may be committing).
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
            env=env, check=False,
        )
    except (OSError, subprocess.SubprocessError) as err:
        log.debug("git %s in %s: %s", " ".join(args), root, err)
        return None
    if done.returncode != 0:
        log.debug("git %s in %s: %s", " ".join(args), root, done.stderr.strip())
        return None
    return done.stdout.strip()


@functools.lru_cache(maxsize=16)
def _device_record(device: str | None) -> dict[str, Any]:
    """``device`` as torch writes it (``"cuda:1"``, ``"cpu"``) and its hardware name: the
    GPU's for CUDA, the processor's for the CPU; None where it cannot be told."""
    if device is None:
        return {"device": None, "device_name": None}
    dev = torch.device(device)
    name = None
    if dev.type == "cuda":
        try:
            name = torch.cuda.get_device_name(dev)
        except (RuntimeError, AssertionError, ValueError) as err:  # no CUDA, or no such index
            log.debug("no name for %s: %s", device, err)
    elif dev.type == "cpu":
        name = _cpu_name()
    elif dev.type == "mps":
        name = "Apple MPS"
    return {"device": device, "device_name": name}


def _cpu_name() -> str | None:
    """The processor's model name (Linux: ``/proc/cpuinfo``; elsewhere what Python knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if sep and key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None
