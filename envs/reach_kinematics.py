"""What a reach arm's joint state looks like to an agent: its fingertip and its state observation.

`ReachKinematics` runs forward kinematics of arbitrary configurations (goals, oracle
states) on a scratch ``MjData``, so the simulated state is never touched;
`state_observation` assembles the ``observation`` / ``achieved_goal`` / ``desired_goal``
entries of `envs.reach.ReachEnv`; `observation_space` is the matching ``Dict`` space.
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np
from gymnasium import spaces

__all__ = ["ReachKinematics", "observation_space", "state_observation"]


class ReachKinematics:
    """Fingertip positions of joint configurations, by forward kinematics on a scratch MjData.

    ``scratch`` is shared with subclasses' own queries of configurations (contacts with a
    wall, say); nothing here reads what a previous query left in it.
    """

    def __init__(self, model: mujoco.MjModel, goal_dims: Sequence[int]) -> None:
        """``model`` needs a site ``fingertip``; ``goal_dims``: which of its (x, y, z) form the goal."""
        self.model = model
        self.scratch = mujoco.MjData(model)
        self.fingertip_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "fingertip")
        self.goal_dims = np.asarray(goal_dims, dtype=np.intp)

    def site_position(self, qpos: np.ndarray) -> np.ndarray:
        """3-D fingertip site position (m) of one configuration. Shapes: (nq,) -> (3,), float64."""
        self.scratch.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.scratch)
        return self.scratch.site_xpos[self.fingertip_id].copy()

    def fingertip(self, qpos: np.ndarray) -> np.ndarray:
        """Goal-space fingertip position. Shapes: (..., nq) -> (..., G), float32."""
        goal_dim = len(self.goal_dims)
        flat = qpos.reshape(-1, self.model.nq)  # (B, nq)
        out = np.empty((flat.shape[0], goal_dim), dtype=np.float32)  # (B, G)
        for i, q in enumerate(flat):
            out[i] = self.site_position(q)[self.goal_dims]
        return out.reshape(*qpos.shape[:-1], goal_dim)  # (..., G)

    def simulated_fingertip(self, data: mujoco.MjData) -> np.ndarray:
        """Goal-space fingertip of a simulated state (positions already computed). Shapes: -> (G,), float32."""
        return data.site_xpos[self.fingertip_id][self.goal_dims].astype(np.float32)


def state_observation(
    qpos: np.ndarray, qvel: np.ndarray, fingertip: np.ndarray, goal: np.ndarray
) -> dict[str, np.ndarray]:
    """``observation`` ``[cos q, sin q, qvel, fingertip]``, ``achieved_goal`` and ``desired_goal``.

    Shapes: qpos (..., nq), qvel (..., nq), fingertip (..., G), goal (G,) -> observation
    (..., 3*nq+G), achieved_goal (..., G), desired_goal (..., G); all float32.
    """
    observation = np.concatenate([np.cos(qpos), np.sin(qpos), qvel, fingertip], axis=-1).astype(
        np.float32
    )  # (..., 3*nq + G)
    desired = np.broadcast_to(goal, fingertip.shape).astype(np.float32)  # (..., G)
    return {
        "observation": observation,
        "achieved_goal": fingertip.astype(np.float32),
        "desired_goal": desired,
    }


def observation_space(
    nq: int, goal_dim: int, *, obs_type: str, pixels: spaces.Box | None = None
) -> spaces.Dict:
    """The ``Dict`` space of `ReachEnv`'s observations: ``pixels`` (given one, first),
    ``observation`` (unless ``obs_type="pixels"``), ``achieved_goal`` and ``desired_goal``."""
    entries: dict[str, spaces.Space] = {}
    if pixels is not None:
        entries["pixels"] = pixels
    if obs_type != "pixels":
        entries["observation"] = spaces.Box(-np.inf, np.inf, (3 * nq + goal_dim,), np.float32)
    entries["achieved_goal"] = spaces.Box(-np.inf, np.inf, (goal_dim,), np.float32)
    entries["desired_goal"] = spaces.Box(-np.inf, np.inf, (goal_dim,), np.float32)
    return spaces.Dict(entries)
