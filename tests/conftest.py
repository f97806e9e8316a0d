"""Test-session setup: headless MuJoCo rendering (tests may set env vars; the library never does)."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import torch  # noqa: E402

# Tiny test shapes run fastest single-threaded, and 2 intra-op threads per process thrash
# badly when another job shares the 2 cores (40x slower measured). Tests may set global
# torch flags; the library never does.
torch.set_num_threads(1)
