"""Test-session setup: headless MuJoCo rendering (tests may set env vars; the library never does)."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
