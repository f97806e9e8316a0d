"""Spatial four-joint reach: a yaw-pitch-pitch-pitch arm brings its tip to a 3-D goal."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from jepa_agent.envs.reach import ReachEnv

__all__ = ["Reach3DEnv"]

VMAX = 4.0
"""Joint speed (rad/s) commanded by action +-1."""
KV = (150.0, 100.0, 40.0, 15.0)
"""Velocity-servo gain (N m s/rad) of each joint, scaled to the joint's largest inertia
(armature included) so every joint has a time constant of about 4 ms or less. A single
gain stiff enough for the shoulder makes the light wrist chatter against its limits."""
ARMATURE = 0.05
"""Reflected rotor inertia (kg m^2) of each joint (a geared motor)."""
GEAR = (20.0, 20.0, 4.8, 2.0)
"""Motor torque (N m) of action +1 on each joint with ``control="torque"``."""
DAMPING = (5.0, 5.0, 1.2, 0.5)
"""Joint damping (N m s/rad) with ``control="torque"``, scaled like `KV` to each joint's
largest inertia (0.55, 0.55, 0.13, 0.053 kg m^2, armature included): a time constant of
at most 0.11 s, about five control steps, and a settling speed gear / damping of 4 rad/s,
today's vmax."""
MIN_GOAL_RADIUS = 0.1
"""Goals whose fingertip lies closer than this (m) to the base (yaw) axis are redrawn."""

MJCF = f"""
<mujoco model="reach3d">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="0.01" integrator="implicitfast"/>

  <visual>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.6 0.6 0.6"/>
  </visual>

  <asset>
    <texture name="grid" type="2d" builtin="checker" width="256" height="256"
             rgb1="0.85 0.85 0.85" rgb2="0.75 0.75 0.75"/>
    <material name="grid" texture="grid" texrepeat="8 8"/>
    <texture name="sky" type="skybox" builtin="gradient" width="64" height="64"
             rgb1="0.6 0.75 0.9" rgb2="0.95 0.95 0.95"/>
  </asset>

  <default>
    <!-- Hard (d=0.99), overdamped (dampratio 2) joint limits: with MuJoCo's
         default limit softness the stiff servo pushes through the limit or
         chatters against it. -->
    <joint type="hinge" axis="0 1 0" armature="{ARMATURE}" damping="0"
           solimplimit="0.99 0.999 0.001" solreflimit="0.02 2"/>
    <geom contype="0" conaffinity="0" rgba="0.1 0.4 0.8 1"/>
    <site rgba="1 0.6 0 1"/>
    <!-- Velocity servo: torque = kv * (vmax * ctrl - qvel). With control="torque",
         ReachEnv.model_spec makes each a motor (torque = gear * ctrl) on a damped joint. -->
    <general ctrllimited="true" ctrlrange="-1 1" gaintype="fixed" biastype="affine"/>
  </default>

  <worldbody>
    <light name="sun" pos="0 0 3" dir="0 0 -1" directional="true" diffuse="0.5 0.5 0.5"/>
    <!-- Looks at (0, 0, 0.1), the middle of the goal region, from 2 m away and
         23 degrees above the horizon; the 50 degree field spans the 0.8 m reach. -->
    <camera name="oblique" pos="1.33 -1.33 0.9" xyaxes="1 1 0 -0.8 0.8 2.66" fovy="50"/>
    <geom name="floor" type="plane" pos="0 0 -0.85" size="1.2 1.2 0.01" material="grid"
          rgba="1 1 1 1"/>
    <geom name="pedestal" type="cylinder" fromto="0 0 -0.85 0 0 -0.06" size="0.05"
          rgba="0.3 0.3 0.3 1"/>
    <!-- gravcomp="1": gravity is compensated on every moving body, as by a
         real arm's gravity-compensation controller; the servos see only
         inertia and coupling. -->
    <body name="base" pos="0 0 0" gravcomp="1">
      <joint name="joint0" axis="0 0 1" limited="false"/>
      <geom name="base" type="cylinder" fromto="0 0 -0.06 0 0 0.04" size="0.06"
            rgba="0.3 0.3 0.3 1"/>
      <body name="upper_arm" pos="0 0 0" gravcomp="1">
        <joint name="joint1" range="-2.0 2.0"/>
        <geom name="upper_arm" type="capsule" fromto="0 0 0 0 0 0.35" size="0.035"/>
        <body name="forearm" pos="0 0 0.35" gravcomp="1">
          <joint name="joint2" range="-2.6 2.6"/>
          <geom name="forearm" type="capsule" fromto="0 0 0 0 0 0.3" size="0.03"/>
          <body name="hand" pos="0 0 0.3" gravcomp="1">
            <joint name="joint3" range="-2.0 2.0"/>
            <geom name="hand" type="capsule" fromto="0 0 0 0 0 0.13" size="0.025"/>
            <geom name="fingertip" type="sphere" pos="0 0 0.15" size="0.02"
                  rgba="0.1 0.8 0.3 1"/>
            <site name="fingertip" pos="0 0 0.15" size="0.01"/>
          </body>
        </body>
      </body>
    </body>
    <body name="goal" mocap="true" pos="0.4 0 0.4">
      <geom name="goal" type="sphere" size="0.04" rgba="0.9 0.1 0.1 1" group="2"/>
    </body>
  </worldbody>

  <actuator>
    <general name="joint0_velocity" joint="joint0" gainprm="{KV[0] * VMAX}" biasprm="0 0 {-KV[0]}"/>
    <general name="joint1_velocity" joint="joint1" gainprm="{KV[1] * VMAX}" biasprm="0 0 {-KV[1]}"/>
    <general name="joint2_velocity" joint="joint2" gainprm="{KV[2] * VMAX}" biasprm="0 0 {-KV[2]}"/>
    <general name="joint3_velocity" joint="joint3" gainprm="{KV[3] * VMAX}" biasprm="0 0 {-KV[3]}"/>
  </actuator>
</mujoco>
"""


class Reach3DEnv(ReachEnv):
    """Bring the tip of a four-joint spatial arm to a goal in 3-D.

    A yaw-pitch-pitch-pitch arm: base yaw about z, then shoulder, elbow and
    wrist pitch about the (yawed) y axis. The shoulder sits at the origin
    (z = 0) on a pedestal; link lengths from the shoulder are 0.35 m, 0.30 m and
    0.15 m to the fingertip (reach 0.8 m). At q = 0 the arm points straight up
    (+z); positive pitch tilts it towards +x. Gravity is on, and every moving
    body has ``gravcomp="1"`` (the arm is gravity-compensated, as by a real
    arm's controller), so the servos see only inertia and coupling. No
    contacts. By default (``control="velocity"``) each joint is a velocity
    servo (``vmax = 4`` rad/s, ``kv = (150, 100, 40, 15)`` N m s/rad, armature
    0.05 kg m^2; time constants of about 4 ms or less, so a commanded speed is
    reached within one 20 ms control step). With ``control="torque"`` each
    joint is a motor on a damped joint, as in Gymnasium's Reacher
    (``gear = (20, 20, 4.8, 2)`` N m, ``damping = (5, 5, 1.2, 0.5)`` N m s/rad;
    time constants of at most 0.11 s, and a held action ``a`` settles at
    ``4 a`` rad/s).

    ## Action space ``Box(-1, 1, (4,), float32)``

    ``control="velocity"`` (default):

    | Num | Action                              | Unit        | MJCF joint (actuator)             |
    |-----|-------------------------------------|-------------|-----------------------------------|
    | 0   | commanded base yaw speed / vmax     | 1 = 4 rad/s | ``joint0`` (``joint0_velocity``)  |
    | 1   | commanded shoulder pitch speed/vmax | 1 = 4 rad/s | ``joint1`` (``joint1_velocity``)  |
    | 2   | commanded elbow pitch speed / vmax  | 1 = 4 rad/s | ``joint2`` (``joint2_velocity``)  |
    | 3   | commanded wrist pitch speed / vmax  | 1 = 4 rad/s | ``joint3`` (``joint3_velocity``)  |

    ``control="torque"``:

    | Num | Action                              | Unit        | MJCF joint (actuator)             |
    |-----|-------------------------------------|-------------|-----------------------------------|
    | 0   | base yaw torque / gear              | 1 = 20 N m  | ``joint0`` (``joint0_motor``)     |
    | 1   | shoulder pitch torque / gear        | 1 = 20 N m  | ``joint1`` (``joint1_motor``)     |
    | 2   | elbow pitch torque / gear           | 1 = 4.8 N m | ``joint2`` (``joint2_motor``)     |
    | 3   | wrist pitch torque / gear           | 1 = 2 N m   | ``joint3`` (``joint3_motor``)     |

    ## Observation space ``Dict`` (float32)

    ``observation`` (15,):

    | Num | Observation                     | Unit  | MJCF name                |
    |-----|---------------------------------|-------|--------------------------|
    | 0   | cos of base yaw angle           | -     | joint ``joint0`` (qpos)  |
    | 1   | cos of shoulder pitch angle     | -     | joint ``joint1`` (qpos)  |
    | 2   | cos of elbow pitch angle        | -     | joint ``joint2`` (qpos)  |
    | 3   | cos of wrist pitch angle        | -     | joint ``joint3`` (qpos)  |
    | 4   | sin of base yaw angle           | -     | joint ``joint0`` (qpos)  |
    | 5   | sin of shoulder pitch angle     | -     | joint ``joint1`` (qpos)  |
    | 6   | sin of elbow pitch angle        | -     | joint ``joint2`` (qpos)  |
    | 7   | sin of wrist pitch angle        | -     | joint ``joint3`` (qpos)  |
    | 8   | base yaw angular velocity       | rad/s | joint ``joint0`` (qvel)  |
    | 9   | shoulder pitch angular velocity | rad/s | joint ``joint1`` (qvel)  |
    | 10  | elbow pitch angular velocity    | rad/s | joint ``joint2`` (qvel)  |
    | 11  | wrist pitch angular velocity    | rad/s | joint ``joint3`` (qvel)  |
    | 12  | fingertip x                     | m     | site ``fingertip``       |
    | 13  | fingertip y                     | m     | site ``fingertip``       |
    | 14  | fingertip z                     | m     | site ``fingertip``       |

    ``achieved_goal`` (3,): fingertip (x, y, z) in m, site ``fingertip``.
    ``desired_goal`` (3,): goal (x, y, z) in m, mocap body ``goal``.

    ## Joints

    ``joint0`` (yaw) is unlimited (continuous rotation; compare angles modulo
    2 pi). Limits: ``joint1`` +-2.0, ``joint2`` +-2.6, ``joint3`` +-2.0 rad.
    Home pose (0, 0.3, 0.6, 0.3): upper arm raised, forearm and hand reaching
    forward, fingertip at about (0.48, 0, 0.58) m.

    ## Goals, success, reward, episode

    Goals are the fingertip positions of joint configurations drawn uniformly
    from yaw in [-pi, pi], shoulder in [-0.6, 1.9], elbow in [0, 2.4] and wrist
    in [-1.2, 1.5] rad; draws whose fingertip lies within 0.1 m of the base
    (yaw) axis are redrawn (about 8 % of draws). Goals span z from about
    -0.55 to 0.8 m and 0.1-0.8 m from the axis, all around the base. Every goal
    is reachable from the home pose in time: the largest joint distance is
    pi rad (yaw, taken modulo 2 pi), 0.79 s at vmax, inside the 1 s episode;
    the pitch joints need at most 1.9 rad (0.48 s). With torque control a PD
    controller reaches every goal within 50 steps. A step succeeds when the
    fingertip is within ``success_threshold`` (default 0.05 m) of the goal.
    Reward is ``-distance`` (``reward_type="dense"``) or
    ``-(distance > success_threshold)`` (``"sparse"``). ``jepa_agent/Reach3D-v0``
    runs 50 steps of 0.02 s and never terminates. The camera ``oblique`` views
    the whole workspace from the front-right; the goal is the red sphere.

    See `ReachEnv` for the shared interface (reset options, goal observation,
    physics-state helpers).
    """

    MJCF: ClassVar[str] = MJCF
    VMAX: ClassVar[float] = VMAX
    KV: ClassVar[tuple[float, ...]] = KV
    GEAR: ClassVar[tuple[float, ...]] = GEAR
    DAMPING: ClassVar[tuple[float, ...]] = DAMPING
    HOME_QPOS: ClassVar[tuple[float, ...]] = (0.0, 0.3, 0.6, 0.3)
    GOAL_QPOS_LOW: ClassVar[tuple[float, ...]] = (-math.pi, -0.6, 0.0, -1.2)
    GOAL_QPOS_HIGH: ClassVar[tuple[float, ...]] = (math.pi, 1.9, 2.4, 1.5)
    GOAL_DIMS: ClassVar[tuple[int, ...]] = (0, 1, 2)
    DEFAULT_SUCCESS_THRESHOLD: ClassVar[float] = 0.05
    CAMERA: ClassVar[str] = "oblique"

    def _accept_goal(self, goal_qpos: np.ndarray, fingertip: np.ndarray) -> bool:
        """Reject goals within `MIN_GOAL_RADIUS` of the base axis (near the yaw singularity)."""
        return bool(math.hypot(fingertip[0], fingertip[1]) >= MIN_GOAL_RADIUS)
