"""jepa-agent: an autonomous agent from the six modules of LeCun's *A Path Towards Autonomous
Machine Intelligence* (2022), run closed-loop in MuJoCo / Gymnasium.

One import namespace holds the six modules and what composes them::

    from jepa_agent import Agent                 # the composed agent
    from jepa_agent.actor import Planner         # a module's ABC, to subclass
    import jepa_agent.envs                       # registers the jepa_agent/* Gymnasium ids

Nothing is imported until it is asked for: ``import jepa_agent.envs`` does not load torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__version__ = "0.2.0"

__all__ = ["Agent", "__version__"]

# The subpackages are the repository's top-level folders (the folder tree is the architecture,
# DESIGN.md). Installed, they sit inside this package (setuptools' package-dir mapping); in a
# source checkout that was not installed, or whose installed copy this folder shadows, they
# stand beside it, and the package's search path says so.
_HERE = Path(__file__).resolve().parent
if not (_HERE / "agent").is_dir() and (_HERE.parent / "agent" / "__init__.py").is_file():
    __path__.append(str(_HERE.parent))  # noqa: F821  (a package's __path__ is a module global)


def __getattr__(name: str) -> Any:
    # The Agent imports torch and every module: only when it is asked for (PEP 562).
    if name == "Agent":
        from jepa_agent.agent import Agent

        return Agent
    raise AttributeError(f"module 'jepa_agent' has no attribute {name!r}")
