"""Videos of episodes: the env's frames, the goal marked, the imagined plan drawn in.

:class:`EpisodeRecorder` wraps an env rendered as ``rgb_array`` and writes the first
``episodes`` episodes it sees, one file each. On the reach envs it circles the goal (the
circle's radius is the success threshold; it turns green within it) and, given a
``plan_points`` source, draws the end-effector path the agent imagines: the world model's
predicted latent states of the last plan, read out by the achieved-goal probe and projected
into the image with the MuJoCo camera (:class:`CameraProjection`).

MP4 needs ``imageio-ffmpeg`` (a dependency); without it the videos are GIFs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

log = logging.getLogger(__name__)

__all__ = ["CameraProjection", "EpisodeRecorder", "VideoWriter", "draw_path", "draw_ring", "plan_path_source"]

PLAN_COLOR = (255, 170, 0)
GOAL_COLOR = (230, 30, 30)
REACHED_COLOR = (30, 200, 60)


class VideoWriter:
    """Frames (H, W, 3) uint8 to an MP4 (H.264 via imageio-ffmpeg) or, without it, a GIF."""

    def __init__(self, path: str | Path, *, fps: float = 25.0) -> None:
        import imageio.v2 as imageio

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            path = path.with_suffix(".gif")
            log.warning("imageio-ffmpeg is not installed: writing %s as a GIF instead of an MP4", path)
            self._writer = imageio.get_writer(path, mode="I", duration=1000.0 / fps, loop=0)
        else:
            # macro_block_size=1: keep the exact frame size (240 px is not a multiple of 16)
            self._writer = imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=1,
                                              ffmpeg_log_level="error")
        self.path = path

    def append(self, frame: np.ndarray) -> None:
        self._writer.append_data(np.ascontiguousarray(frame))

    def close(self) -> None:
        self._writer.close()


class CameraProjection:
    """World points to pixel coordinates of a MuJoCo camera (pinhole model).

    MuJoCo cameras look along their local -z with +y up; ``cam_xmat`` holds the camera's
    axes as columns and ``cam_fovy`` the vertical field of view in degrees.

    Shapes: points (..., 3) metres -> pixels (..., 2) as (column, row), and depth (...,).
    """

    def __init__(self, model: Any, data: Any, camera: str, width: int, height: int) -> None:
        import mujoco

        cam = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if cam < 0:
            raise ValueError(f"the model has no camera named {camera!r}")
        self.data, self.cam = data, cam
        self.width, self.height = int(width), int(height)
        self.focal = 0.5 * self.height / np.tan(np.deg2rad(float(model.cam_fovy[cam])) / 2)

    def __call__(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = self.data.cam_xpos[self.cam]  # (3,)
        rot = self.data.cam_xmat[self.cam].reshape(3, 3)  # columns: camera x, y, z in world
        local = (np.asarray(points, dtype=np.float64) - pos) @ rot  # (..., 3) in the camera frame
        depth = -local[..., 2]
        safe = np.where(depth > 1e-6, depth, np.nan)
        col = self.width / 2 + self.focal * local[..., 0] / safe
        row = self.height / 2 - self.focal * local[..., 1] / safe
        return np.stack([col, row], axis=-1), depth


def _disc_mask(shape: tuple[int, int], center: np.ndarray, radius: float, width: float | None) -> tuple:
    """Boolean mask of a disc (``width`` None) or a ring, restricted to its bounding box."""
    h, w = shape
    cx, cy = float(center[0]), float(center[1])
    r = radius + (width or 0)
    x0, x1 = max(int(cx - r - 1), 0), min(int(cx + r + 2), w)
    y0, y1 = max(int(cy - r - 1), 0), min(int(cy + r + 2), h)
    if x0 >= x1 or y0 >= y1:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dist = np.hypot(xx - cx, yy - cy)
    mask = dist <= radius if width is None else np.abs(dist - radius) <= width / 2
    return (slice(y0, y1), slice(x0, x1)), mask


def draw_ring(img: np.ndarray, center: np.ndarray, radius: float, color: tuple[int, int, int], *, width: float = 2.0) -> None:
    """Draw a circle outline in place. Shapes: img (H, W, 3) uint8, center (2,) as (column, row)."""
    if not np.all(np.isfinite(center)):
        return
    hit = _disc_mask(img.shape[:2], center, radius, width)
    if hit is not None:
        img[hit[0]][hit[1]] = color


def draw_path(img: np.ndarray, points: np.ndarray, color: tuple[int, int, int], *, radius: float = 2.5) -> None:
    """Draw a polyline with a dot at each vertex, in place. Shapes: points (N, 2) as (column, row)."""
    pts = np.asarray(points, dtype=np.float64)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        n = int(np.ceil(np.abs(b - a).max())) + 1
        for t in np.linspace(0.0, 1.0, n):
            hit = _disc_mask(img.shape[:2], a + t * (b - a), 1.0, None)
            if hit is not None:
                img[hit[0]][hit[1]] = color
    for p in pts[1:]:
        hit = _disc_mask(img.shape[:2], p, radius, None)
        if hit is not None:
            img[hit[0]][hit[1]] = color


PlanSource = Callable[[], "np.ndarray | None"]


def plan_path_source(agent: Any, env: gym.Env) -> PlanSource | None:
    """A callable returning the imagined end-effector path (H, 3) in world coordinates.

    The agent's short-term memory keeps the last plan's predicted latent states (H, D);
    the achieved-goal probe reads each out as a goal-space position (H, G), and the goal
    coordinates the env does not vary (``GOAL_DIMS``) are taken from the current fingertip.
    Returns None, with a log line, when the path cannot be drawn (no probe, an untrained
    probe, or an env without a ``fingertip`` site and ``GOAL_DIMS``).
    """
    import torch

    base = env.unwrapped
    dims = getattr(base, "GOAL_DIMS", None)
    probe = getattr(agent, "probe", None)
    if probe is None:
        log.info("no plan path in the videos: the agent has no achieved-goal probe (config probe: null)")
        return None
    if getattr(agent, "updates", 0) == 0:
        log.info("no plan path in the videos: the probe is untrained (no updates yet)")
        return None
    if dims is None or not hasattr(base, "data"):
        log.info("no plan path in the videos: %s has no fingertip site / GOAL_DIMS to place it", type(base).__name__)
        return None
    dims = np.asarray(dims)

    def points() -> np.ndarray | None:
        memory = agent.memory
        plan = None if memory is None else memory.last_plan
        if plan is None:
            return None
        with torch.no_grad():
            goals = probe(plan[1][0]).cpu().numpy()  # (H, D) -> (H, G)
        tip = np.asarray(base.data.site("fingertip").xpos, dtype=np.float64)  # (3,)
        path = np.repeat(tip[None], len(goals) + 1, axis=0)  # (H+1, 3): now, then the plan
        path[1:, dims] = goals
        return path

    return points


class EpisodeRecorder(gym.Wrapper):
    """Records the first ``episodes`` episodes to ``folder/{prefix}_{i:03d}.mp4``.

    Each frame is rendered just before the action is applied, so the drawn plan is the
    one that chose that action; the final state of the episode is the last frame.
    A renderer that cannot start (no OpenGL) logs a warning and records nothing.

    An episode counts from its first step, not from its reset: the agent's loops reset an
    env twice between episodes (the vector env's autoreset, then the reset with the next
    episode's seed) and once more after the last one, and a reset that no step follows is
    no episode. So ``paths`` lists exactly the files written, one per recorded episode.
    """

    def __init__(
        self,
        env: gym.Env,
        folder: str | Path,
        *,
        episodes: int,
        plan_points: PlanSource | None = None,
        prefix: str = "episode",
        fps: float | None = None,
    ) -> None:
        super().__init__(env)
        self.folder = Path(folder)
        self.episodes = episodes
        self.plan_points = plan_points
        self.prefix = prefix
        self.fps = fps or float(env.metadata.get("render_fps", 25))
        self.paths: list[Path] = []
        self._writer: VideoWriter | None = None
        self._started = 0
        self._due = False  # an episode was reset and is to be recorded from its first step
        self._obs: Any = None
        self._failed = False
        self._projection: CameraProjection | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self.finish()
        obs, info = self.env.reset(**kwargs)
        self._obs = obs
        self._due = self._started < self.episodes and not self._failed
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self._due:
            self._start()  # the episode's first step: its video starts with this frame
        elif self._writer is not None:
            self._writer.append(self._frame(plan=True))
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._obs = obs
        if self._writer is not None and (terminated or truncated):
            self._writer.append(self._frame(plan=False))
            self.finish()
        return obs, reward, terminated, truncated, info

    @property
    def failed(self) -> bool:
        """Whether the renderer could not start (then nothing more is recorded)."""
        return self._failed

    def close(self) -> None:
        self.finish()
        super().close()

    def finish(self) -> None:
        """Close the video being written, if any (episodes end by themselves; an interrupted one needs this)."""
        if self._writer is not None:
            self._writer.close()
            self.paths.append(self._writer.path)
            log.info("wrote %s", self._writer.path)
            self._writer = None

    def _start(self) -> None:
        """Open the video of the episode about to take its first step, with its first frame."""
        self._due = False
        try:
            frame = self._frame(plan=True)
        except RuntimeError as err:  # no OpenGL context: keep evaluating, without videos
            log.warning("videos skipped: %s", err)
            self._failed = True
            return
        self._writer = VideoWriter(self.folder / f"{self.prefix}_{self._started:03d}.mp4", fps=self.fps)
        self._started += 1
        self._writer.append(frame)

    def _frame(self, *, plan: bool) -> np.ndarray:
        frame = self.env.render()
        if frame is None:
            raise RuntimeError(f"{self.env.spec.id if self.env.spec else self.env} renders nothing; make it with render_mode='rgb_array'")
        frame = np.array(frame, dtype=np.uint8)  # a writable copy
        base = self.env.unwrapped
        if not (hasattr(base, "data") and hasattr(base, "CAMERA") and isinstance(self._obs, dict)):
            return frame
        if self._projection is None:
            self._projection = CameraProjection(base.model, base.data, base.CAMERA, frame.shape[1], frame.shape[0])
        tip = np.asarray(base.data.site("fingertip").xpos, dtype=np.float64)  # (3,)
        dims = np.asarray(base.GOAL_DIMS)
        goal = tip.copy()
        goal[dims] = self._obs["desired_goal"]
        threshold = float(getattr(base, "success_threshold", 0.02))
        edge = goal + threshold * _perpendicular(goal - self._projection.data.cam_xpos[self._projection.cam])
        (g_px, e_px), _ = self._projection(np.stack([goal, edge]))
        reached = np.linalg.norm(self._obs["achieved_goal"] - self._obs["desired_goal"]) < threshold
        draw_ring(frame, g_px, max(float(np.linalg.norm(e_px - g_px)), 5.0), REACHED_COLOR if reached else GOAL_COLOR)
        if plan and self.plan_points is not None:
            path = self.plan_points()
            if path is not None:
                px, depth = self._projection(path)
                draw_path(frame, px[depth > 0], PLAN_COLOR)
        return frame


def _perpendicular(view: np.ndarray) -> np.ndarray:
    """A unit vector perpendicular to the viewing direction (so the threshold circle shows its size)."""
    up = np.array([0.0, 0.0, 1.0]) if abs(view[2]) < 0.9 * np.linalg.norm(view) else np.array([0.0, 1.0, 0.0])
    side = np.cross(view, up)
    return side / np.linalg.norm(side)
