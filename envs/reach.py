"""Shared base class of the goal-conditioned MuJoCo reach tasks.

`ReachEnv` holds everything the reach variants have in common: joints driven
directly by the action (velocity servos by default, torque motors with
``control="torque"``), goal sampling in joint space, the
Gymnasium-Robotics observation dict, dense/sparse rewards, the goal marker,
offscreen rendering and the physics-state helpers an oracle-dynamics planner
needs. A subclass supplies only its MJCF, its joint sampling ranges and a few
constants (see the "Subclass contract" section of `ReachEnv`).

Beside it: `envs.reach_model` (the MJCF made into a spec for the control mode, and the
checks of the contract), `envs.reach_kinematics` (forward kinematics on a scratch
``MjData``, the state observation and its space) and `envs.reach_goals` (goal sampling,
distance, reward).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from jepa_agent.envs.pixels import PixelRenderer, make_renderer
from jepa_agent.envs.reach_goals import REWARD_TYPES, goal_distance, goal_reward, sample_goal_qpos
from jepa_agent.envs.reach_kinematics import ReachKinematics, observation_space, state_observation
from jepa_agent.envs.reach_model import CONTROLS, check_reach_model, reach_model_spec

__all__ = ["ReachEnv"]

_OBS_TYPES = ("state", "pixels", "pixels+state")


class ReachEnv(gym.Env):
    """Goal-conditioned reach with velocity-servoed or torque-driven joints (abstract base).

    The fingertip of an arm must be brought to a goal position. All subclasses
    share this interface:

    **Action** ``Box(-1, 1, (nq,), float32)``: one entry per joint, whose
    meaning ``control`` chooses:

    - ``control="velocity"`` (the default): each joint is driven by a MuJoCo
      ``<general>`` velocity servo with ``gainprm = kv * vmax`` and
      ``biasprm = (0, 0, -kv)``, so the joint torque is ``kv * (vmax * a - qvel)``
      and action ``a`` commands a joint velocity of ``vmax * a`` rad/s.
    - ``control="torque"``: each joint is driven by a motor, as in Gymnasium's
      Reacher (``<motor gear=...>``: ``gear`` = ``GEAR``, ``gainprm[0] = 1``, no
      bias), so action ``a`` is the joint torque ``gear * a`` N m; the joints get
      a viscous damping ``DAMPING`` N m s/rad (``dof_damping``, zero in velocity
      mode), which makes a constant action settle at the joint speed
      ``gear * a / damping`` rad/s. The arm then has second-order dynamics: the
      action sets the acceleration, and stopping at a goal means braking.

    The MJCF is one file for both modes; `model_spec` edits its actuators (and
    joint damping) at load time. In both modes the action is written to
    ``data.ctrl`` unchanged (MuJoCo clamps it to ``ctrlrange`` = [-1, 1]), so a
    sequence of actions can be replayed as plain controls with
    ``mujoco.rollout`` on `model` (each action repeated ``frame_skip`` times).

    **Observation** ``Dict`` whose entries depend on ``obs_type``:

    - ``pixels`` (``obs_type="pixels"`` or ``"pixels+state"``): uint8 ``(3 * frame_stack,
      H, W)`` image from the fixed camera ``PIXEL_CAMERA`` (channels first, newest frame
      last), rendered headless by `envs.pixels.PixelRenderer` without the goal marker
    - ``observation`` (``obs_type="state"`` or ``"pixels+state"``): float32
      ``[cos q (nq), sin q (nq), qvel (nq), fingertip (G)]``, the proprioception
      (the same in both control modes)
    - ``achieved_goal``: fingertip position (G,) in metres, float32 (always present, for
      rewards and success; an image-based agent's encoder does not read it)
    - ``desired_goal``: goal position (G,) in metres, float32 (always present)

    **Goal observation**: `goal_observation()` returns the observation dict of
    the goal configuration at rest (its ``achieved_goal`` equals its
    ``desired_goal``), so an agent can encode the goal with the same encoder
    it uses for observations. With pixels its ``pixels`` entry is the **goal
    image**: the goal configuration rendered exactly as observations are (the
    same camera, every stacked frame the same), made once per episode. The reset
    info and every step's info carry a copy under ``"goal_observation"``.

    **Reward**: ``reward_type="dense"`` gives ``-distance``; ``"sparse"`` gives
    ``-(distance > success_threshold)``. `compute_reward` is vectorised over
    leading batch dimensions (Gymnasium-Robotics ``GoalEnv`` convention).

    **Info**: ``distance`` (fingertip-to-goal, m), ``is_success``
    (``float(distance < success_threshold)`` at every step; the final step's
    value is the episode's success) and ``goal_observation``.

    **Episode**: the task never terminates; the registered ids wrap the env in
    a ``TimeLimit`` of 50 steps (1 s at 50 Hz). Constructed directly, the env
    has no time limit.

    **Reset**: ``qpos = home_qpos + U(-0.1, 0.1)`` rad,
    ``qvel = U(-0.005, 0.005)`` rad/s (as in Gymnasium's Reacher); the goal is
    the fingertip position of a joint configuration drawn uniformly from the
    goal sampling box (subclasses may reject some draws, see `_accept_goal`).
    ``options`` may hold ``"goal_qpos"`` (the goal configuration, exact),
    ``"qpos"`` (the initial configuration, exact) and ``"qvel"`` (the initial
    joint velocity; zero when ``"qpos"`` is given without it).

    **Why velocity servos**: real arms are commanded through a joint-velocity
    interface, and a stiff velocity loop makes each joint nearly first-order
    (the commanded velocity is reached within about one control step), which
    keeps the dynamics a world model has to learn simple and well conditioned.
    The servo's damping term is integrated implicitly (``implicitfast``), so
    a stiff ``kv`` stays stable. ``control="torque"`` is the harder, classic
    benchmark setting: the velocity is state the agent must manage.

    **Subclass contract** (class attributes):

    - ``MJCF``: the model. Joints ``joint0..`` (hinges, one velocity actuator
      each, in joint order), a site ``fingertip``, a mocap body ``goal`` and a
      camera named by ``CAMERA`` (and ``PIXEL_CAMERA``, by default the same);
      ``timestep`` 0.01, ``implicitfast``. Goal-marker geoms are in geom group
      ``MARKER_GROUP`` (2): drawn by `render`, hidden from pixel observations.
    - ``VMAX`` (rad/s, all joints) and ``KV`` (N m s/rad, one per joint), the
      values written into the MJCF's actuators (zero joint damping).
    - ``GEAR`` (N m per unit action) and ``DAMPING`` (N m s/rad), one per joint,
      what `model_spec` writes for ``control="torque"`` (needed only for it).
    - ``HOME_QPOS``, ``GOAL_QPOS_LOW``, ``GOAL_QPOS_HIGH`` (rad).
    - ``GOAL_DIMS``: which fingertip coordinates form the goal, e.g. (0, 1).
    - ``DEFAULT_SUCCESS_THRESHOLD`` (m), ``CAMERA`` and optionally ``PIXEL_CAMERA``.
    - optionally `_accept_goal` to reject goal configurations.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 50}

    # -- supplied by subclasses ------------------------------------------------
    MJCF: ClassVar[str]
    VMAX: ClassVar[float]
    KV: ClassVar[tuple[float, ...]]
    GEAR: ClassVar[tuple[float, ...]]
    DAMPING: ClassVar[tuple[float, ...]]
    HOME_QPOS: ClassVar[tuple[float, ...]]
    GOAL_QPOS_LOW: ClassVar[tuple[float, ...]]
    GOAL_QPOS_HIGH: ClassVar[tuple[float, ...]]
    GOAL_DIMS: ClassVar[tuple[int, ...]]
    DEFAULT_SUCCESS_THRESHOLD: ClassVar[float]
    CAMERA: ClassVar[str]
    PIXEL_CAMERA: ClassVar[str | None] = None
    """Camera of pixel observations; None: ``CAMERA``."""

    # -- common constants --------------------------------------------------------
    FRAME_SKIP: ClassVar[int] = 2
    """Physics steps (0.01 s each) per control step: 50 Hz control."""
    RESET_QPOS_NOISE: ClassVar[float] = 0.1
    """Half-width (rad) of the uniform noise added to the home pose at reset."""
    RESET_QVEL_NOISE: ClassVar[float] = 0.005
    """Half-width (rad/s) of the uniform initial joint velocity at reset."""
    MARKER_GROUP: ClassVar[int] = 2
    """Geom group of the goal marker: shown by `render`, hidden from pixel observations."""

    def __init__(
        self,
        *,
        reward_type: str = "dense",
        success_threshold: float | None = None,
        render_mode: str | None = None,
        width: int = 240,
        height: int = 240,
        obs_type: str = "state",
        image_size: int | tuple[int, int] = 64,
        frame_stack: int = 1,
        pixel_camera: str | None = None,
        control: str = "velocity",
        start_qpos: Sequence[float] | None = None,
        min_goal_distance: float = 0.0,
    ) -> None:
        """Build the model and the spaces.

        Args:
            reward_type: ``"dense"`` (``-distance``) or ``"sparse"``
                (``-(distance > success_threshold)``).
            success_threshold: fingertip-to-goal distance (m) below which a step
                counts as a success; ``None`` takes the variant's default.
            render_mode: ``None`` or ``"rgb_array"``.
            width, height: size in pixels of `render`'s images (for people).
            obs_type: ``"state"`` (the state vector), ``"pixels"`` (the camera image) or
                ``"pixels+state"`` (both); ``achieved_goal``/``desired_goal`` always.
            image_size: pixel observation size, ``S`` (S x S) or ``(H, W)``.
            frame_stack: frames stacked along the channel axis of ``pixels``. With
                velocity servos one frame determines the state: 1 (off) by default. With
                ``control="torque"`` the joint velocity is state a single frame does not
                show; stack 2 or more frames for a pixel-only agent.
            pixel_camera: camera of pixel observations; None takes ``PIXEL_CAMERA``.
            control: ``"velocity"`` (the action commands joint speeds through velocity
                servos) or ``"torque"`` (the action is a motor torque on damped joints);
                see the class docstring.
            start_qpos: the arm's start pose (rad, (nq,)); None: ``HOME_QPOS``. With a pose
                folded at one side and ``min_goal_distance``, most goals lie far from where
                random actions take the arm: an exploration task.
            min_goal_distance: goals whose fingertip lies closer than this (m) to the start
                pose's fingertip are drawn again (0: every goal of the goal box).
        """
        if control not in CONTROLS:
            raise ValueError(f"control must be one of {CONTROLS}, got {control!r}")
        if reward_type not in REWARD_TYPES:
            raise ValueError(f"reward_type must be one of {REWARD_TYPES}, got {reward_type!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        if success_threshold is None:
            success_threshold = self.DEFAULT_SUCCESS_THRESHOLD
        if not success_threshold > 0:
            raise ValueError(f"success_threshold must be > 0, got {success_threshold}")
        if width <= 0 or height <= 0:
            raise ValueError(f"width and height must be positive, got {width}x{height}")
        if obs_type not in _OBS_TYPES:
            raise ValueError(f"obs_type must be one of {_OBS_TYPES}, got {obs_type!r}")
        image_hw = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if len(image_hw) != 2 or min(image_hw) <= 0:
            raise ValueError(f"image_size must be a positive int or (H, W), got {image_size!r}")

        self.reward_type = reward_type
        self.success_threshold = float(success_threshold)
        self.render_mode = render_mode
        self.width = int(width)
        self.height = int(height)
        self.obs_type = obs_type
        self.control = control
        if not min_goal_distance >= 0:
            raise ValueError(f"min_goal_distance must be >= 0 (m), got {min_goal_distance}")
        self.min_goal_distance = float(min_goal_distance)

        self._model = self.model_spec().compile()
        self._data = mujoco.MjData(self._model)
        check_reach_model(
            self._model, control=control, vmax=self.VMAX, kv=self.KV, gear=self.GEAR, damping=self.DAMPING
        )

        # Offscreen buffer of the requested size, no multisampling.
        self._model.vis.global_.offwidth = self.width
        self._model.vis.global_.offheight = self.height
        self._model.vis.quality.offsamples = 0
        self._renderer: mujoco.Renderer | None = None
        # Pixel observations: their own renderer (buffer sized to the image), made on the
        # first frame; the goal image is rendered from a separate MjData at the goal.
        self._pixels: PixelRenderer | None = None
        self._goal_pixels: np.ndarray | None = None
        if obs_type != "state":
            self._pixels = PixelRenderer(
                self._model,
                camera=pixel_camera or self.PIXEL_CAMERA or self.CAMERA,
                height=int(image_hw[0]),
                width=int(image_hw[1]),
                frame_stack=frame_stack,
                hidden_groups=(self.MARKER_GROUP,),
            )
            self._goal_data = mujoco.MjData(self._model)

        nq = self._model.nq
        # Forward kinematics of goals and other configurations, on a scratch MjData of its own.
        self._kinematics = ReachKinematics(self._model, self.GOAL_DIMS)
        self._scratch = self._kinematics.scratch
        goal_body = mujoco.mj_name2id(self._model, mujoco.mjtObj.mjOBJ_BODY, "goal")
        self._goal_mocap_id = int(self._model.body_mocapid[goal_body])
        self._goal_dims = self._kinematics.goal_dims
        self._home_qpos = np.asarray(self.HOME_QPOS if start_qpos is None else start_qpos, dtype=np.float64)
        self._goal_low = np.asarray(self.GOAL_QPOS_LOW, dtype=np.float64)
        self._goal_high = np.asarray(self.GOAL_QPOS_HIGH, dtype=np.float64)
        for name, arr in (
            ("HOME_QPOS" if start_qpos is None else "start_qpos", self._home_qpos),
            ("GOAL_QPOS_LOW", self._goal_low),
            ("GOAL_QPOS_HIGH", self._goal_high),
        ):
            if arr.shape != (nq,):
                raise ValueError(f"{name} must have shape (nq,)=({nq},), got {arr.shape}")

        self.action_space = spaces.Box(-1.0, 1.0, shape=(nq,), dtype=np.float32)
        self.observation_space = observation_space(
            nq, len(self._goal_dims), obs_type=obs_type,
            pixels=None if self._pixels is None else self._pixels.observation_space(),
        )

        self._state_size = mujoco.mj_stateSize(self._model, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        # A consistent state before the first reset: resting at home, aiming at home.
        self._reset_simulation(self._home_qpos.copy(), self._home_qpos.copy(), np.zeros(nq))

    def model_spec(self) -> mujoco.MjSpec:
        """The specification of this env's model: ``MJCF`` with ``control`` applied.

        ``"velocity"`` is ``MJCF`` as written. ``"torque"`` turns actuator ``i``
        into a motor on joint ``i`` (``gear = GEAR[i]``, ``gainprm[0] = 1``, no
        bias, renamed ``joint<i>_motor``) and sets that joint's damping to
        ``DAMPING[i]``; ``ctrlrange`` stays [-1, 1] (`envs.reach_model.reach_model_spec`).
        A new spec on every call: `OracleDynamics.from_env` compiles its own copy from it.
        """
        return reach_model_spec(self.MJCF, control=self.control, gear=self.GEAR, damping=self.DAMPING)

    # -- properties ----------------------------------------------------------------
    @property
    def model(self) -> mujoco.MjModel:
        """The MuJoCo model (shared, not copied)."""
        return self._model

    @property
    def data(self) -> mujoco.MjData:
        """The MuJoCo data of the simulated arm (shared, not copied)."""
        return self._data

    @property
    def dt(self) -> float:
        """Control period in seconds (timestep * frame_skip = 0.02)."""
        return float(self._model.opt.timestep * self.FRAME_SKIP)

    @property
    def frame_skip(self) -> int:
        """Physics steps per `step` call."""
        return self.FRAME_SKIP

    @property
    def vmax(self) -> float:
        """Joint speed (rad/s) commanded by action +-1 with ``control="velocity"``."""
        return float(self.VMAX)

    @property
    def kv(self) -> np.ndarray:
        """Velocity-servo gain (N m s/rad) of each joint (nq,) (a copy), ``control="velocity"``."""
        return np.asarray(self.KV, dtype=np.float64).copy()

    @property
    def gear(self) -> np.ndarray:
        """Motor torque (N m) of action +1 on each joint (nq,) (a copy), ``control="torque"``."""
        return np.asarray(self.GEAR, dtype=np.float64).copy()

    @property
    def damping(self) -> np.ndarray:
        """Joint damping (N m s/rad) of each joint (nq,) (a copy), ``control="torque"``."""
        return np.asarray(self.DAMPING, dtype=np.float64).copy()

    @property
    def home_qpos(self) -> np.ndarray:
        """Home joint configuration (nq,), rad (a copy)."""
        return self._home_qpos.copy()

    @property
    def goal_qpos_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) of the goal sampling box in joint space (nq,), rad (copies)."""
        return self._goal_low.copy(), self._goal_high.copy()

    @property
    def goal_qpos(self) -> np.ndarray:
        """Joint configuration of the current goal (nq,), rad (a copy)."""
        return self._goal_qpos.copy()

    @property
    def goal(self) -> np.ndarray:
        """Current goal position (G,), float32 metres (a copy)."""
        return self._goal.copy()

    # -- gymnasium API -------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Sample a goal and an initial state; see the class docstring for ``options``."""
        super().reset(seed=seed)
        options = {} if options is None else dict(options)
        unknown = set(options) - {"goal_qpos", "qpos", "qvel"}
        if unknown:
            raise ValueError(
                f"unknown reset options {sorted(unknown)}; known: goal_qpos, qpos, qvel"
            )
        nq = self._model.nq
        rng = self.np_random

        if "goal_qpos" in options:
            goal_qpos = self._as_joint_vector(options["goal_qpos"], "goal_qpos")
        else:
            goal_qpos = self._sample_goal_qpos(rng)

        if "qpos" in options:
            qpos = self._as_joint_vector(options["qpos"], "qpos")
            qvel = np.zeros(nq)
        else:
            noise = self.RESET_QPOS_NOISE
            qpos = self._home_qpos + rng.uniform(-noise, noise, size=nq)
            qvel = rng.uniform(-self.RESET_QVEL_NOISE, self.RESET_QVEL_NOISE, size=nq)
        if "qvel" in options:
            qvel = self._as_joint_vector(options["qvel"], "qvel")

        self._reset_simulation(goal_qpos, qpos, qvel)
        obs = self._get_obs(new_episode=True)
        return obs, self._get_info(obs)

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Apply ``action`` as the actuator controls for ``frame_skip`` physics steps."""
        action = np.asarray(action)
        if action.shape != self.action_space.shape:
            raise ValueError(
                f"action must have shape (A,)={self.action_space.shape}, got {action.shape}"
            )
        # No clipping here: MuJoCo clamps ctrl to ctrlrange itself, exactly as it
        # does when mujoco.rollout replays the same actions as controls.
        self._data.ctrl[:] = action
        mujoco.mj_step(self._model, self._data, nstep=self.FRAME_SKIP)
        # mj_step leaves positions-dependent quantities (site_xpos, xpos used by
        # the renderer) at the start of the last physics step; recompute them.
        mujoco.mj_forward(self._model, self._data)

        obs = self._get_obs()
        info = self._get_info(obs)
        reward = float(self.compute_reward(obs["achieved_goal"], obs["desired_goal"], info))
        return obs, reward, False, False, info

    def compute_reward(
        self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any
    ) -> np.ndarray:
        """Reward of reaching ``achieved_goal`` when aiming at ``desired_goal``.

        Shapes: achieved_goal (..., G), desired_goal (..., G) -> (...), float64.
        ``info`` is unused (kept for the Gymnasium-Robotics ``GoalEnv`` signature).
        """
        return goal_reward(
            achieved_goal, desired_goal, reward_type=self.reward_type, success_threshold=self.success_threshold
        )

    def render(self) -> np.ndarray | None:
        """Image (height, width, 3) uint8 from the model's fixed camera, or None."""
        if self.render_mode is None:
            gym.logger.warn(
                'render() called without a render_mode; build the env with render_mode="rgb_array".'
            )
            return None
        if self._renderer is None:
            self._renderer = make_renderer(self._model, self.height, self.width)
        self._renderer.update_scene(self._data, camera=self.CAMERA)
        return self._renderer.render()

    def close(self) -> None:
        """Release the offscreen renderers."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._pixels is not None:
            self._pixels.close()
        super().close()

    # -- goal conditioning ---------------------------------------------------------
    def goal_observation(self) -> dict[str, np.ndarray]:
        """Observation dict of the goal configuration at rest (copies).

        Its ``achieved_goal`` equals its ``desired_goal``, so an agent can encode
        the goal with the encoder it uses for observations. With pixel observations
        its ``pixels`` entry is the goal image, rendered on first request each episode.
        """
        goal = {key: value.copy() for key, value in self._goal_obs.items()}
        if self._pixels is None:
            return goal
        if self._goal_pixels is None:
            self._goal_pixels = self._pixels.still(self._goal_data)
        out = {"pixels": self._goal_pixels.copy()}
        if self.obs_type != "pixels":
            out["observation"] = goal["observation"]
        return {**out, "achieved_goal": goal["achieved_goal"], "desired_goal": goal["desired_goal"]}

    def goal_image(self) -> np.ndarray:
        """The goal image (H, W, 3) uint8: the goal configuration as pixel observations see it
        (the newest frame of ``goal_observation()["pixels"]``, channels last)."""
        if self._pixels is None:
            raise RuntimeError('goal_image() needs pixel observations: build the env with obs_type="pixels"')
        return self.goal_observation()["pixels"][-3:].transpose(1, 2, 0).copy()

    def observation_from_qpos_qvel(
        self, qpos: np.ndarray, qvel: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Observation dict of a joint state, relative to the current goal.

        Runs forward kinematics on a scratch MjData; the simulation is untouched.
        Always the state entries (``observation``, ``achieved_goal``, ``desired_goal``),
        whatever ``obs_type``: nothing is rendered.

        Shapes: qpos (..., nq), qvel (..., nq) -> observation (..., 3*nq+G),
        achieved_goal (..., G), desired_goal (..., G); all float32.
        """
        qpos = np.asarray(qpos, dtype=np.float64)
        qvel = np.asarray(qvel, dtype=np.float64)
        nq = self._model.nq
        if qpos.shape[-1:] != (nq,) or qvel.shape != qpos.shape:
            raise ValueError(
                f"qpos and qvel must both be (..., nq)=(..., {nq}), got {qpos.shape} and "
                f"{qvel.shape}"
            )
        fingertip = self._kinematics.fingertip(qpos)  # (..., G)
        return state_observation(qpos, qvel, fingertip, self._goal)

    def fingertip_position(self, qpos: np.ndarray) -> np.ndarray:
        """Goal-space fingertip position of joint configurations, by forward kinematics.

        Shapes: qpos (..., nq) -> (..., G), float32 metres.
        """
        qpos = np.asarray(qpos, dtype=np.float64)
        nq = self._model.nq
        if qpos.shape[-1:] != (nq,):
            raise ValueError(f"qpos must be (..., nq)=(..., {nq}), got {qpos.shape}")
        return self._kinematics.fingertip(qpos)

    # -- oracle-dynamics helpers ---------------------------------------------------
    def get_physics_state(self) -> np.ndarray:
        """Full physics state (``mjSTATE_FULLPHYSICS``: time, qpos, qvel, act).

        This is the state layout ``mujoco.rollout`` takes as ``initial_state``.
        Controls (the actions) and the goal marker (a mocap body) are not part of it.

        Shapes: -> (nstate,), float64.
        """
        state = np.empty(self._state_size, dtype=np.float64)
        mujoco.mj_getState(self._model, self._data, state, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        return state

    def set_physics_state(self, state: np.ndarray) -> None:
        """Restore a state from `get_physics_state`; the goal itself is unchanged.

        Shapes: state (nstate,).
        """
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (self._state_size,):
            raise ValueError(f"state must be (nstate,)=({self._state_size},), got {state.shape}")
        mujoco.mj_setState(self._model, self._data, state, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        mujoco.mj_forward(self._model, self._data)

    # -- subclass hook -------------------------------------------------------------
    def _accept_goal(self, goal_qpos: np.ndarray, fingertip: np.ndarray) -> bool:
        """Whether a sampled goal configuration is kept (default: always).

        ``fingertip`` is the full 3-D site position (m) of ``goal_qpos``.
        """
        return True

    # -- internals -----------------------------------------------------------------
    def _as_joint_vector(self, value: Any, name: str) -> np.ndarray:
        arr = np.asarray(value, dtype=np.float64)
        nq = self._model.nq
        if arr.shape != (nq,):
            raise ValueError(f"options[{name!r}] must have shape (nq,)=({nq},), got {arr.shape}")
        return arr.copy()

    def _sample_goal_qpos(self, rng: np.random.Generator) -> np.ndarray:
        return sample_goal_qpos(
            rng, self._goal_low, self._goal_high, site_position=self._kinematics.site_position, accept=self._accept_goal,
            start_qpos=self._home_qpos, goal_dims=self._goal_dims, min_goal_distance=self.min_goal_distance,
        )

    def _reset_simulation(self, goal_qpos: np.ndarray, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Set the goal (and its marker) and the arm's joint state; all (nq,)."""
        self._goal_qpos = goal_qpos
        self._goal = self._kinematics.fingertip(goal_qpos)
        # Same kinematics as the goal itself, so achieved_goal == desired_goal bit for bit.
        self._goal_obs = self.observation_from_qpos_qvel(goal_qpos, np.zeros_like(goal_qpos))
        mujoco.mj_resetData(self._model, self._data)
        self._data.qpos[:] = qpos
        self._data.qvel[:] = qvel
        self._data.mocap_pos[self._goal_mocap_id, self._goal_dims] = self._goal
        mujoco.mj_forward(self._model, self._data)
        if self._pixels is not None:
            # The goal configuration at rest, posed on its own MjData for the goal image.
            mujoco.mj_resetData(self._model, self._goal_data)
            self._goal_data.qpos[:] = goal_qpos
            self._goal_data.mocap_pos[:] = self._data.mocap_pos
            mujoco.mj_forward(self._model, self._goal_data)
            self._goal_pixels = None

    def _get_obs(self, *, new_episode: bool = False) -> dict[str, np.ndarray]:
        fingertip = self._kinematics.simulated_fingertip(self._data)  # (G,)
        obs = state_observation(self._data.qpos.copy(), self._data.qvel.copy(), fingertip, self._goal)
        if self._pixels is None:
            return obs
        frame = self._pixels.reset(self._data) if new_episode else self._pixels.step(self._data)
        if self.obs_type == "pixels":
            del obs["observation"]
        return {"pixels": frame, **obs}

    def _get_info(self, obs: dict[str, np.ndarray]) -> dict[str, Any]:
        distance = float(goal_distance(obs["achieved_goal"], obs["desired_goal"]))
        return {
            "distance": distance,
            "is_success": float(distance < self.success_threshold),
            "goal_observation": self.goal_observation(),
        }

