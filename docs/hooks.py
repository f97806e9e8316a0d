"""MkDocs hook: lets mkdocstrings read the ``jepa_agent`` namespace from the source folders.

The repository maps its top-level folders (``agent/``, ``perception/`` ...) into one import
namespace, ``jepa_agent``, with setuptools' package-dir (pyproject.toml). Griffe, which reads
the API from the source without importing it, looks for ``jepa_agent/perception/`` on disk and
does not find it; this hook lays the package out as installed (a temporary folder of symbolic
links to the source) and points mkdocstrings' search path at it. Nothing is imported, so the
build needs neither a GPU nor the network.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority

ROOT = Path(__file__).resolve().parents[1]


def _subpackages() -> dict[str, str]:
    """``{subpackage: folder}`` from pyproject.toml's ``[tool.setuptools.package-dir]``."""
    text = (ROOT / "pyproject.toml").read_text()
    return dict(re.findall(r'^"jepa_agent\.(\w+)"\s*=\s*"([\w/]+)"', text, flags=re.M))


@event_priority(100)  # before mkdocstrings builds its handlers (hooks otherwise run last)
def on_config(config):
    layout = Path(tempfile.mkdtemp(prefix="jepa-agent-api-"))
    atexit.register(shutil.rmtree, layout, ignore_errors=True)
    package = layout / "jepa_agent"
    package.mkdir()
    for path in (ROOT / "jepa_agent").iterdir():
        (package / path.name).symlink_to(path)
    for name, folder in _subpackages().items():
        (package / name).symlink_to(ROOT / folder, target_is_directory=True)
    python = config["plugins"]["mkdocstrings"].config["handlers"].setdefault("python", {})
    python["paths"] = [str(layout)]
    return config
