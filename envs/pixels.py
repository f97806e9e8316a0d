"""Headless pixel observations of a MuJoCo model: uint8 (C, H, W) images from a fixed camera.

`PixelRenderer` wraps one `mujoco.Renderer` (one OpenGL context) per env and turns the
simulator state into the image an agent sees::

    renderer = PixelRenderer(model, camera="topdown", height=64, width=64, frame_stack=1)
    pixels = renderer.reset(data)      # (C, H, W) = (3 * frame_stack, 64, 64) uint8
    pixels = renderer.step(data)       # after each control step
    goal = renderer.still(goal_data)   # a configuration at rest: every stacked frame equal

**Headless OpenGL.** MuJoCo picks its OpenGL backend from ``MUJOCO_GL`` once, when
``mujoco`` is first imported. On a machine without a display use ``MUJOCO_GL=egl`` (the
default of this project's examples, CLI and tests: GPU EGL, or Mesa's software EGL) and
``MUJOCO_GL=osmesa`` as the fallback where EGL is missing (pure software; needs the OSMesa
library, e.g. ``apt-get install libosmesa6``). The library reads the variable and never sets
it; when no context can be made, the error names the variable, its value and both choices.

**Speed.** Multisampling is off (``model.vis.quality.offsamples = 0``) and the offscreen
framebuffer is exactly the image size (``model.vis.global_.offwidth/offheight``) while the
renderer's context is made. Both settings are read only when an OpenGL context is created,
so they are set on the model for that moment and restored afterwards: another renderer of
the same model (a 240x240 ``render()`` for people) keeps its own buffer. Shadows are off by
default: with software OpenGL they dominate the cost. Measured here (Mesa EGL on the CPU,
64x64): Reach2D 2.5 ms per frame with MuJoCo's defaults (4 samples, 640x480 buffer) -> 1.0
ms; Reach3D, whose light casts shadows, 79 ms -> 46 ms with shadows -> 4.5 ms without.

**What is hidden.** Geoms in ``hidden_groups`` are not drawn. The reach envs hide their goal
marker's group this way: a goal must reach the agent through a goal *image*, not as a red
dot in every frame.
"""

from __future__ import annotations

import collections
import contextlib
import os
from collections.abc import Iterator, Sequence

import mujoco
import numpy as np
from gymnasium import spaces

__all__ = ["GL_BACKEND_HELP", "PixelRenderer", "make_renderer"]

GL_BACKEND_HELP = (
    "set MUJOCO_GL=egl (headless OpenGL through EGL: a GPU driver or Mesa's software EGL) "
    "or MUJOCO_GL=osmesa (pure-software fallback; needs libOSMesa, e.g. apt-get install "
    "libosmesa6) in the environment before mujoco is first imported"
)
"""How to get a headless OpenGL context; quoted by every rendering error."""


def make_renderer(model: mujoco.MjModel, height: int, width: int) -> mujoco.Renderer:
    """A `mujoco.Renderer`, or a RuntimeError that names ``MUJOCO_GL`` and what to set it to."""
    try:
        return mujoco.Renderer(model, height, width)
    except Exception as err:
        backend = os.environ.get("MUJOCO_GL")
        chosen = f"MUJOCO_GL={backend!r}" if backend else "MUJOCO_GL unset (MuJoCo then tries glfw, which needs a display)"
        raise RuntimeError(
            f"could not create a MuJoCo offscreen OpenGL context ({chosen}); {GL_BACKEND_HELP}. "
            f"Cause: {type(err).__name__}: {err}"
        ) from err


@contextlib.contextmanager
def _offscreen_buffer(model: mujoco.MjModel, height: int, width: int) -> Iterator[None]:
    """Size the offscreen buffer to the image and turn multisampling off, for one context."""
    vis = model.vis
    saved = (vis.global_.offwidth, vis.global_.offheight, vis.quality.offsamples)
    vis.global_.offwidth, vis.global_.offheight, vis.quality.offsamples = width, height, 0
    try:
        yield
    finally:
        vis.global_.offwidth, vis.global_.offheight, vis.quality.offsamples = saved


class PixelRenderer:
    """uint8 (C, H, W) images of a model from a fixed camera, optionally frame-stacked.

    ``C = 3 * frame_stack``: the newest frame is last (channels ``C-3 .. C-1``). After
    `reset` every stacked slot holds the first frame, so the first observation of an
    episode already has the full shape. One `mujoco.Renderer` is made on first use and
    reused for every frame; `close` releases it.

    Args:
        model: the MuJoCo model (shared, not copied).
        camera: name of a camera in the model.
        height, width: image size in pixels.
        frame_stack: consecutive frames concatenated along the channel axis (1: none).
        hidden_groups: geom groups not drawn (MuJoCo's groups 0-5).
        shadows: draw shadows (about 10x the cost of a frame with software OpenGL).
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        *,
        camera: str,
        height: int = 64,
        width: int = 64,
        frame_stack: int = 1,
        hidden_groups: Sequence[int] = (),
        shadows: bool = False,
    ) -> None:
        if height <= 0 or width <= 0:
            raise ValueError(f"image height and width must be positive, got {height}x{width}")
        if frame_stack < 1:
            raise ValueError(f"frame_stack must be >= 1, got {frame_stack}")
        if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
            cams = [model.camera(i).name for i in range(model.ncam)]
            raise ValueError(f"camera {camera!r} not in the model; cameras: {cams}")
        bad = [g for g in hidden_groups if not 0 <= g < mujoco.mjNGROUP]
        if bad:
            raise ValueError(f"hidden_groups must lie in [0, {mujoco.mjNGROUP}), got {bad}")
        self.model = model
        self.camera = camera
        self.height, self.width = int(height), int(width)
        self.frame_stack = int(frame_stack)
        self.shadows = bool(shadows)
        self.scene_option = mujoco.MjvOption()
        for g in hidden_groups:
            self.scene_option.geomgroup[g] = 0
        self._renderer: mujoco.Renderer | None = None
        self._frames: collections.deque[np.ndarray] = collections.deque(maxlen=self.frame_stack)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of an observation."""
        return (3 * self.frame_stack, self.height, self.width)

    def observation_space(self) -> spaces.Box:
        """``Box(0, 255, (C, H, W), uint8)``."""
        return spaces.Box(0, 255, self.shape, np.uint8)

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """One frame of ``data`` as seen by the camera. Shapes: -> (H, W, 3) uint8 (a new array)."""
        if self._renderer is None:
            with _offscreen_buffer(self.model, self.height, self.width):
                self._renderer = make_renderer(self.model, self.height, self.width)
            self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = self.shadows
        self._renderer.update_scene(data, camera=self.camera, scene_option=self.scene_option)
        return self._renderer.render()

    def reset(self, data: mujoco.MjData) -> np.ndarray:
        """Start a new episode: fill every stacked slot with the current frame. -> (C, H, W)."""
        frame = self.render(data).transpose(2, 0, 1)  # (3, H, W)
        self._frames.clear()
        self._frames.extend([frame] * self.frame_stack)
        return self._stacked()

    def step(self, data: mujoco.MjData) -> np.ndarray:
        """Push the current frame, drop the oldest. -> (C, H, W) uint8."""
        if len(self._frames) < self.frame_stack:
            return self.reset(data)
        self._frames.append(self.render(data).transpose(2, 0, 1))
        return self._stacked()

    def still(self, data: mujoco.MjData) -> np.ndarray:
        """A configuration at rest (a goal): every stacked slot the same frame; the episode's
        frame stack is untouched. -> (C, H, W) uint8."""
        frame = self.render(data).transpose(2, 0, 1)  # (3, H, W)
        return np.ascontiguousarray(np.concatenate([frame] * self.frame_stack, axis=0))

    def _stacked(self) -> np.ndarray:
        return np.ascontiguousarray(np.concatenate(self._frames, axis=0))  # (3 * k, H, W)

    def close(self) -> None:
        """Release the OpenGL context (it is made again on the next render)."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self._frames.clear()
