"""Planar two-link reach (a velocity-servoed cousin of Gymnasium's Reacher; torque motors
like Reacher's with ``control="torque"``)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import mujoco
import numpy as np

from jepa_agent.envs.reach import ReachEnv

__all__ = ["Reach2DEnv"]

VMAX = 5.0
"""Joint speed (rad/s) commanded by action +-1."""
KV = (1.0, 1.0)
"""Velocity-servo gain (N m s/rad) of each joint: time constant (inertia + armature) / kv
of at most 3 ms, so a commanded speed is reached within one 20 ms control step."""
ARMATURE = 0.002
"""Reflected rotor inertia (kg m^2) of each joint; makes the servo response nearly
independent of the arm's configuration."""
GEAR = (0.15, 0.1)
"""Motor torque (N m) of action +1 on each joint with ``control="torque"``."""
DAMPING = (0.03, 0.02)
"""Joint damping (N m s/rad) with ``control="torque"``: a time constant inertia / damping of
at most 0.11 s (joint inertias 0.0022-0.0032 kg m^2, armature included), about five control
steps, and a settling speed gear / damping of 5 rad/s, today's vmax."""

MJCF = f"""
<mujoco model="reach2d">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="0.01" integrator="implicitfast"/>

  <visual>
    <headlight ambient="0.4 0.4 0.4" diffuse="0.6 0.6 0.6"/>
  </visual>

  <default>
    <!-- Hard (d=0.99), overdamped (dampratio 2) joint limits: with MuJoCo's
         default limit softness the stiff servo pushes 0.1-0.2 rad through the
         limit or chatters against it; this setting settles within 0.01 rad. -->
    <joint type="hinge" axis="0 0 1" armature="{ARMATURE}" damping="0"
           solimplimit="0.99 0.999 0.001" solreflimit="0.02 2"/>
    <geom contype="0" conaffinity="0" rgba="1 0.6 0.1 1"/>
    <site rgba="1 0.6 0 1"/>
    <!-- Velocity servo: torque = kv * (vmax * ctrl - qvel). With control="torque",
         ReachEnv.model_spec makes each a motor (torque = gear * ctrl) on a damped joint. -->
    <general ctrllimited="true" ctrlrange="-1 1" gaintype="fixed" biastype="affine"/>
  </default>

  <worldbody>
    <!-- Straight down from 0.6 m; the 42 degree field spans +-0.23 m, just past the
         0.22 m the arm covers (fingertip sphere included), so the arm fills the frame. -->
    <camera name="topdown" pos="0 0 0.6" xyaxes="1 0 0 0 1 0" fovy="42"/>
    <!-- A plain dark ground and bright, differently coloured links: the arm's pose
         stands out in a 64x64 image (a checkerboard would only add texture to ignore). -->
    <geom name="ground" type="plane" pos="0 0 -0.01" size="0.3 0.3 0.01" rgba="0.12 0.12 0.15 1"/>
    <geom name="base" type="cylinder" fromto="0 0 -0.01 0 0 0.02" size="0.015"
          rgba="0.3 0.3 0.3 1"/>
    <body name="link0" pos="0 0 0.01">
      <joint name="joint0" limited="false"/>
      <geom name="link0" type="capsule" fromto="0 0 0 0.1 0 0" size="0.01"/>
      <body name="link1" pos="0.1 0 0">
        <joint name="joint1" range="-2.6 2.6"/>
        <geom name="link1" type="capsule" fromto="0 0 0 0.1 0 0" size="0.01"
              rgba="0.2 0.7 1 1"/>
        <geom name="fingertip" type="sphere" pos="0.11 0 0" size="0.01"
              rgba="0.3 1 0.3 1"/>
        <site name="fingertip" pos="0.11 0 0" size="0.005"/>
      </body>
    </body>
    <body name="goal" mocap="true" pos="0.1 0.1 0.01">
      <geom name="goal" type="sphere" size="0.015" rgba="0.9 0.1 0.1 1" group="2"/>
    </body>
  </worldbody>

  <actuator>
    <general name="joint0_velocity" joint="joint0" gainprm="{KV[0] * VMAX}" biasprm="0 0 {-KV[0]}"/>
    <general name="joint1_velocity" joint="joint1" gainprm="{KV[1] * VMAX}" biasprm="0 0 {-KV[1]}"/>
  </actuator>
</mujoco>
"""


class Reach2DEnv(ReachEnv):
    """Bring the tip of a planar two-link arm to a goal in the xy plane.

    A planar arm like Gymnasium's Reacher: link lengths 0.1 m and 0.11 m
    (reach 0.21 m), hinge axes along z, no gravity torque (the axes are
    vertical), no contacts. By default (``control="velocity"``) each joint is
    a velocity servo (``kv = 1`` N m s/rad, ``vmax = 5`` rad/s, armature
    0.002 kg m^2; time constant about 3 ms, so a commanded speed is reached
    within one 20 ms control step). With ``control="torque"`` each joint is a
    motor on a damped joint, as in Gymnasium's Reacher (``gear = (0.15, 0.1)``
    N m, ``damping = (0.03, 0.02)`` N m s/rad; time constant at most 0.11 s,
    and a held action ``a`` settles at ``5 a`` rad/s).

    ## Action space ``Box(-1, 1, (2,), float32)``

    ``control="velocity"`` (default):

    | Num | Action                          | Unit        | MJCF joint (actuator)            |
    |-----|---------------------------------|-------------|----------------------------------|
    | 0   | commanded shoulder speed / vmax | 1 = 5 rad/s | ``joint0`` (``joint0_velocity``) |
    | 1   | commanded elbow speed / vmax    | 1 = 5 rad/s | ``joint1`` (``joint1_velocity``) |

    ``control="torque"``:

    | Num | Action                          | Unit         | MJCF joint (actuator)         |
    |-----|---------------------------------|--------------|-------------------------------|
    | 0   | shoulder torque / gear          | 1 = 0.15 N m | ``joint0`` (``joint0_motor``) |
    | 1   | elbow torque / gear             | 1 = 0.1 N m  | ``joint1`` (``joint1_motor``) |

    ## Observation space ``Dict`` (float32)

    ``observation`` (8,):

    | Num | Observation                 | Unit  | MJCF name                    |
    |-----|-----------------------------|-------|------------------------------|
    | 0   | cos of shoulder angle       | -     | joint ``joint0`` (qpos)      |
    | 1   | cos of elbow angle          | -     | joint ``joint1`` (qpos)      |
    | 2   | sin of shoulder angle       | -     | joint ``joint0`` (qpos)      |
    | 3   | sin of elbow angle          | -     | joint ``joint1`` (qpos)      |
    | 4   | shoulder angular velocity   | rad/s | joint ``joint0`` (qvel)      |
    | 5   | elbow angular velocity      | rad/s | joint ``joint1`` (qvel)      |
    | 6   | fingertip x                 | m     | site ``fingertip``           |
    | 7   | fingertip y                 | m     | site ``fingertip``           |

    ``achieved_goal`` (2,): fingertip (x, y) in m, site ``fingertip``.
    ``desired_goal`` (2,): goal (x, y) in m, mocap body ``goal``.

    ## Joints

    ``joint0`` is unlimited (continuous rotation; compare angles modulo
    2 pi); ``joint1`` is limited to +-2.6 rad. Home pose (0, 0) (arm
    stretched along +x).

    ## Goals, success, reward, episode

    Goals are the fingertip positions of joint configurations drawn uniformly
    from ``joint0 in [-pi, pi]``, ``joint1 in [-2.4, 2.4]`` (an annulus of radii
    about 0.077-0.21 m). Every goal is reachable from the home pose in time:
    the largest joint distance is pi rad (``joint0``, taken modulo 2 pi),
    0.63 s at vmax, well inside the 1 s episode (with torque control a PD
    controller reaches every goal within 40 steps). A step succeeds when the
    fingertip is within ``success_threshold`` (default 0.02 m) of the goal.
    Reward is ``-distance`` (``reward_type="dense"``) or
    ``-(distance > success_threshold)`` (``"sparse"``). ``jepa_agent/Reach2D-v0``
    runs 50 steps of 0.02 s and never terminates. The camera ``topdown``
    looks straight down on the whole workspace (image x = world x, image up =
    world y) and serves `render` and pixel observations alike; the goal is the
    red sphere (hidden from pixel observations, see `ReachEnv`). Colours are
    chosen for 64x64 images: a dark ground, an orange upper arm, a light-blue
    forearm and a green fingertip.

    ## A wall in the way

    ``wall_angle=phi`` (rad) stands a radial wall at angle ``phi`` from 0.06 m to 0.26 m
    from the base, which the links touch (contacts between the wall and the links only):
    the shoulder cannot turn through ``phi``, so a goal on the far side of the wall from
    the arm is reached the long way round. Goals whose configuration touches the wall are
    drawn again. A long-horizon task for hierarchical planning
    (``configs/reach2d_wall_hier.yaml``).

    See `ReachEnv` for the shared interface (reset options, goal observation,
    physics-state helpers).
    """

    MJCF: ClassVar[str] = MJCF
    VMAX: ClassVar[float] = VMAX
    KV: ClassVar[tuple[float, ...]] = KV
    GEAR: ClassVar[tuple[float, ...]] = GEAR
    DAMPING: ClassVar[tuple[float, ...]] = DAMPING
    HOME_QPOS: ClassVar[tuple[float, ...]] = (0.0, 0.0)
    GOAL_QPOS_LOW: ClassVar[tuple[float, ...]] = (-math.pi, -2.4)
    GOAL_QPOS_HIGH: ClassVar[tuple[float, ...]] = (math.pi, 2.4)
    GOAL_DIMS: ClassVar[tuple[int, ...]] = (0, 1)
    DEFAULT_SUCCESS_THRESHOLD: ClassVar[float] = 0.02
    CAMERA: ClassVar[str] = "topdown"
    WALL_RADII: ClassVar[tuple[float, float]] = (0.06, 0.26)
    """Inner and outer distance (m) of the wall from the base (``wall_angle``)."""
    WALL_HALF_WIDTH: ClassVar[float] = 0.02
    """Half the wall's thickness (m)."""

    def __init__(self, *, wall_angle: float | None = None, **kwargs: Any) -> None:
        if wall_angle is not None and not np.isfinite(wall_angle):
            raise ValueError(f"wall_angle must be a finite angle in rad, got {wall_angle}")
        self.wall_angle = None if wall_angle is None else float(wall_angle)
        super().__init__(**kwargs)
        if self.touches_wall(self._home_qpos):
            raise ValueError(f"the start pose {self._home_qpos.tolist()} touches the wall at {self.wall_angle} rad")

    def model_spec(self) -> mujoco.MjSpec:
        """``ReachEnv.model_spec``, plus the wall and the links' contacts with it (``wall_angle``)."""
        spec = super().model_spec()
        if self.wall_angle is None:
            return spec
        for name in ("link0", "link1", "fingertip"):
            spec.geom(name).conaffinity = 1  # the wall (contype 1) touches them; they never touch each other
        phi, (r0, r1) = self.wall_angle, self.WALL_RADII
        mid = (r0 + r1) / 2
        # 4 cm thick and stiff: the servos push the fingertip through a 1.2 cm wall of MuJoCo's
        # default softness; into this one by up to 2.7 cm (random pushes, measured), never through
        spec.worldbody.add_geom(
            name="wall", type=mujoco.mjtGeom.mjGEOM_BOX, size=[(r1 - r0) / 2, self.WALL_HALF_WIDTH, 0.03],
            pos=[mid * math.cos(phi), mid * math.sin(phi), 0.01], quat=[math.cos(phi / 2), 0, 0, math.sin(phi / 2)],
            contype=1, conaffinity=0, rgba=[0.85, 0.85, 0.85, 1], solimp=[0.99, 0.999, 0.001, 0.5, 2],
            solref=[-50_000.0, -500.0],  # direct stiffness (N/m) and damping
        )
        return spec

    def touches_wall(self, qpos: np.ndarray) -> bool:
        """Whether the arm in configuration ``qpos`` (2,) touches the wall (False without one)."""
        if self.wall_angle is None:
            return False
        self._scratch.qpos[:] = qpos
        mujoco.mj_forward(self._model, self._scratch)
        return bool(self._scratch.ncon > 0)

    def _accept_goal(self, goal_qpos: np.ndarray, fingertip: np.ndarray) -> bool:
        return not self.touches_wall(goal_qpos)

    def detour_pairs(self, n: int = 50, *, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        """``n`` (start, goal) configurations on either side of the wall, 0.4-1.4 rad from it
        each, so the short way round (under pi) crosses the wall and the arm must go the long
        way (over pi); the elbow anywhere in [-2, 2] rad; none touches the wall. Seeded."""
        if self.wall_angle is None:
            raise ValueError("detour_pairs needs an env with a wall (wall_angle)")
        rng = np.random.default_rng(seed)
        pairs: list[tuple[np.ndarray, np.ndarray]] = []
        while len(pairs) < n:
            side = rng.choice([-1.0, 1.0])
            start = np.array([self.wall_angle - side * rng.uniform(0.4, 1.4), rng.uniform(-2.0, 2.0)])
            goal = np.array([self.wall_angle + side * rng.uniform(0.4, 1.4), rng.uniform(-2.0, 2.0)])
            if not (self.touches_wall(start) or self.touches_wall(goal)):
                pairs.append((start, goal))
        return pairs
