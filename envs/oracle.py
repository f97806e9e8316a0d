"""True-simulator ("oracle") dynamics: batched MuJoCo rollouts from copied states.

`OracleDynamics` is the true dynamics of an env as a plain batched function,
numpy in and numpy out, so a planner can be benchmarked on the real simulator
with exactly the code it runs on a learned world model
(``world_model.SimulatorWorldModel`` adapts it to the ``WorldModel`` interface)::

    import gymnasium as gym
    import jepa_agent.envs
    from jepa_agent.envs.oracle import OracleDynamics

    env = gym.make("jepa_agent/Reach2D-v0")
    env.reset(seed=0)
    oracle = OracleDynamics.from_env(env, nthread=2)
    s0 = oracle.current_state(env)                      # (S,)
    states = oracle(s0[None], actions)                  # (1, H, S) for actions (1, H, A)
    d = oracle.goal_distance(states, oracle.goal_state(env))  # (1, H) metres

**The state** ``S = [physics state (mjSTATE_FULLPHYSICS: time, qpos, qvel,
act, ...), achieved-goal features (G)]``. The physics part is what
``mujoco.rollout`` takes as ``initial_state``; the feature part (the fingertip,
or Pusher's object) is recomputed by the simulator for every returned state
through ``framepos`` sensors added to a private copy of the model. Controls,
mocap bodies (the goal marker) and the solver's warm start are not part of
the state: each rollout starts from a zero warm start, which changes only the
constraint solver's starting point (replays match env stepping bit for bit in
the tests, contacts included).

**Planning with it**: roll out candidate action sequences from
`current_state` and score them by `goal_distance` to `goal_state` (or, in
torch, with ``cost.ProbeGoalDistance(lambda s: s[..., oracle.feature_slice])``).
Only the feature part of a goal state is meaningful for Gymnasium's Reacher
and Pusher; for the reach envs the goal state is the full goal configuration
at rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from jepa_agent.envs.reach import ReachEnv

__all__ = ["OracleDynamics"]

_FULLPHYSICS = mujoco.mjtState.mjSTATE_FULLPHYSICS
_SENSOR_NAME = "oracle_achieved_goal"

# Gymnasium MuJoCo envs the oracle knows, by class name (importing
# gymnasium.envs.mujoco here would pull in its renderer's dependencies):
# class name -> (body of the achieved goal, body of the desired goal, goal dims).
# Bodies are read at their centre of mass (xipos), as Gymnasium's get_body_com does.
# Both tasks are planar, so the goal is (x, y): Pusher's goal marker sits 5 cm below
# the object's centre, a constant z offset that only shifts Gymnasium's own distance.
_GYMNASIUM_TASKS: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "ReacherEnv": ("fingertip", "target", (0, 1)),
    "PusherEnv": ("object", "goal", (0, 1)),
}


def _check_shape(name: str, x: np.ndarray, expected: Sequence[str], **dims: int) -> None:
    """Raise ``ValueError`` unless ``x`` has the symbolic shape ``expected`` (see world_model)."""
    sizes = dict(dims)
    ok = x.ndim == len(expected)
    if ok:
        for axis, n in zip(expected, x.shape, strict=True):
            if sizes.setdefault(axis, n) != n:
                ok = False
    if not ok:
        names = ", ".join(expected)
        want = ", ".join(str(dims.get(a, a)) for a in expected)
        raise ValueError(f"{name} must be ({names})=({want}), got {tuple(x.shape)}")


class OracleDynamics:
    """Batched rollouts of the true MuJoCo dynamics from copied simulator states.

    Each control step applies the action as ``data.ctrl`` for ``frame_skip``
    physics steps, exactly as the envs' ``step`` does (MuJoCo clamps it to
    ``ctrlrange``), and keeps the state after the last of them. Rollouts run on
    ``mujoco.rollout``'s persistent thread pool with one ``MjData`` per thread.

    Attributes:
        state_dim: S, physics state size plus the feature size G.
        action_dim: A, the number of actuators.
        feature_slice: the slice of S holding the achieved-goal features (G,), metres.
        physics_slice: the slice of S holding the ``mjSTATE_FULLPHYSICS`` state.
        frame_skip: physics steps per control step.
        dt: control period in seconds.
        model: the oracle's private model (the env's physics plus the feature sensor).

    Not safe to call from several Python threads at once (one pool, one set of
    ``MjData``); make one oracle per thread instead.
    """

    def __init__(
        self,
        spec: mujoco.MjSpec,
        *,
        frame_skip: int,
        achieved: tuple[mujoco.mjtObj, str],
        feature_dims: Sequence[int] = (0, 1, 2),
        goal_body: str | None = None,
        nthread: int = 2,
    ) -> None:
        """Compile a copy of ``spec`` with a ``framepos`` sensor on the achieved goal.

        Args:
            spec: the env's model specification (copied; the caller's is untouched).
            frame_skip: physics steps per control step (action repeats).
            achieved: ``(object type, name)`` whose world position is the achieved
                goal, e.g. ``(mjOBJ_SITE, "fingertip")``; ``mjOBJ_BODY`` reads the
                body's centre of mass, ``mjOBJ_XBODY`` its frame origin.
            feature_dims: which of its (x, y, z) coordinates form the features.
            goal_body: body whose centre of mass is the desired goal (used by
                `goal_state` for envs other than `ReachEnv`); None if unknown.
            nthread: threads of the rollout pool; 0 runs rollouts on the calling
                thread. Results do not depend on it.
        """
        if frame_skip < 1:
            raise ValueError(f"frame_skip must be >= 1, got {frame_skip}")
        if nthread < 0:
            raise ValueError(f"nthread must be >= 0, got {nthread}")
        dims = np.asarray(feature_dims, dtype=np.intp)
        if dims.ndim != 1 or dims.size == 0 or not np.all((dims >= 0) & (dims < 3)):
            raise ValueError(f"feature_dims must be a non-empty subset of (0, 1, 2), got {feature_dims}")
        spec = spec.copy()
        objtype, objname = achieved
        spec.add_sensor(
            name=_SENSOR_NAME, type=mujoco.mjtSensor.mjSENS_FRAMEPOS, objtype=objtype, objname=objname
        )
        self.model = spec.compile()
        self.frame_skip = int(frame_skip)
        self.nthread = int(nthread)
        self.goal_body = goal_body
        self.achieved = (objtype, objname)

        m = self.model
        sensor_id = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SENSOR, _SENSOR_NAME)
        self._feature_dims = dims  # (G,) of (x, y, z)
        self._feature_cols = int(m.sensor_adr[sensor_id]) + dims  # (G,) columns of sensordata
        self._nstate = mujoco.mj_stateSize(m, _FULLPHYSICS)
        G = dims.size
        self.state_dim = self._nstate + G
        self.action_dim = int(m.nu)
        self.physics_slice = slice(0, self._nstate)
        self.feature_slice = slice(self._nstate, self._nstate + G)
        self.dt = float(m.opt.timestep * self.frame_skip)

        self._pool: mj_rollout.Rollout | None = mj_rollout.Rollout(nthread=self.nthread)
        self._datas = [mujoco.MjData(m) for _ in range(max(1, self.nthread))]
        self._scratch = mujoco.MjData(m)  # single-state forward kinematics

    # -- construction --------------------------------------------------------------
    @classmethod
    def from_env(cls, env: gym.Env, *, nthread: int = 2) -> OracleDynamics:
        """The oracle of a reach env (`ReachEnv`) or of Gymnasium's Reacher-v5 / Pusher-v5.

        Reads the model source (a `ReachEnv`'s `ReachEnv.model_spec`, i.e. its
        ``MJCF`` with its ``control`` mode applied; a Gymnasium env's ``fullpath``)
        and ``frame_skip`` from ``env.unwrapped``. Later run-time edits of
        ``env.unwrapped.model`` (a changed timestep, masses) are not seen; edits
        of its actuators or joint damping are refused.
        Features: the ``fingertip`` site's goal dims (reach envs), Reacher's
        ``fingertip`` body (x, y), Pusher's ``object`` body (x, y).
        """
        u: Any = env.unwrapped
        name = type(u).__name__
        if isinstance(u, ReachEnv):
            oracle = cls(
                u.model_spec(),
                frame_skip=u.frame_skip,
                achieved=(mujoco.mjtObj.mjOBJ_SITE, "fingertip"),
                feature_dims=u.GOAL_DIMS,
                nthread=nthread,
            )
        elif name in _GYMNASIUM_TASKS and hasattr(u, "fullpath"):
            achieved, goal, dims = _GYMNASIUM_TASKS[name]
            oracle = cls(
                mujoco.MjSpec.from_file(u.fullpath),
                frame_skip=u.frame_skip,
                achieved=(mujoco.mjtObj.mjOBJ_BODY, achieved),
                feature_dims=dims,
                goal_body=goal,
                nthread=nthread,
            )
        else:
            raise ValueError(
                f"no oracle recipe for env {name}; known: ReachEnv subclasses "
                f"(jepa_agent/Reach2D-v0, jepa_agent/Reach3D-v0), "
                f"{', '.join(sorted(_GYMNASIUM_TASKS))} (Reacher-v5, Pusher-v5); "
                f"construct OracleDynamics(spec, frame_skip=..., achieved=...) directly"
            )
        oracle._check_matches(u.model)
        return oracle

    def _check_matches(self, env_model: mujoco.MjModel) -> None:
        """Fail if the recompiled model differs from the env's in what the state depends on."""
        m = self.model
        mine = (m.nq, m.nv, m.nu, m.na, self._nstate, m.opt.timestep, m.opt.integrator)
        theirs = (
            env_model.nq, env_model.nv, env_model.nu, env_model.na,
            mujoco.mj_stateSize(env_model, _FULLPHYSICS), env_model.opt.timestep,
            env_model.opt.integrator,
        )  # fmt: skip
        if mine != theirs:
            raise ValueError(
                "the oracle's recompiled model differs from the env's "
                f"(nq, nv, nu, na, nstate, timestep, integrator): {mine} vs {theirs}"
            )
        # The actuators and joint damping decide what a control does (a reach env's
        # control mode edits exactly these).
        fields = ("actuator_gear", "actuator_gainprm", "actuator_biasprm", "actuator_ctrlrange")
        for field in (*fields, "dof_damping"):
            if not np.array_equal(getattr(m, field), getattr(env_model, field)):
                raise ValueError(
                    f"the oracle's recompiled model differs from the env's in {field}: "
                    f"{getattr(m, field).tolist()} vs {getattr(env_model, field).tolist()}"
                )

    # -- states --------------------------------------------------------------------
    def current_state(self, env: gym.Env) -> np.ndarray:
        """The env's current state: its live physics state plus the features it implies.

        The features are recomputed from the physics state (forward kinematics on
        a scratch ``MjData``), never read from the env's data: Gymnasium's envs
        leave body positions one physics step stale after ``step``.

        Shapes: -> (S,), float64.
        """
        u: Any = env.unwrapped
        physics = np.empty(self._nstate, dtype=np.float64)
        mujoco.mj_getState(u.model, u.data, physics, _FULLPHYSICS)
        return self._with_features(physics)

    def goal_state(self, env: gym.Env) -> np.ndarray:
        """A state whose feature part is the env's desired goal.

        For a `ReachEnv` it is the goal configuration (``env.goal_qpos``) at rest,
        a complete, reachable state. For Reacher and Pusher it is the current
        state with the feature part replaced by the goal body's (x, y): only the
        feature part is meaningful there (plan on the feature distance).

        Shapes: -> (S,), float64.
        """
        u: Any = env.unwrapped
        state = self.current_state(env)
        d = self._scratch
        if isinstance(u, ReachEnv):
            mujoco.mj_setState(self.model, d, state[self.physics_slice], _FULLPHYSICS)
            d.qpos[:] = u.goal_qpos
            d.qvel[:] = 0.0
            d.act[:] = 0.0
            physics = np.empty(self._nstate, dtype=np.float64)
            mujoco.mj_getState(self.model, d, physics, _FULLPHYSICS)
            return self._with_features(physics)
        if self.goal_body is None:
            raise ValueError(
                f"goal_state needs a ReachEnv or an oracle built with goal_body, got env "
                f"{type(u).__name__} and goal_body=None"
            )
        mujoco.mj_setState(self.model, d, state[self.physics_slice], _FULLPHYSICS)
        mujoco.mj_kinematics(self.model, d)
        body = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, self.goal_body)
        state[self.feature_slice] = d.xipos[body][self._feature_dims]
        return state

    def _with_features(self, physics: np.ndarray) -> np.ndarray:
        """Append the features of one physics state, computed by the oracle's own sensor."""
        d = self._scratch
        mujoco.mj_setState(self.model, d, physics, _FULLPHYSICS)
        mujoco.mj_forward(self.model, d)
        return np.concatenate([physics, d.sensordata[self._feature_cols]])  # (S,)

    def features(self, states: np.ndarray) -> np.ndarray:
        """The achieved-goal part of states. Shapes: (..., S) -> (..., G)."""
        return np.asarray(states)[..., self.feature_slice]

    def goal_distance(self, states: np.ndarray, goal_states: np.ndarray) -> np.ndarray:
        """Euclidean distance (m) between the features of states and of goal states.

        Leading axes broadcast: states (B, H, S) against a goal (S,) or (B, 1, S).

        Shapes: states (..., S), goal_states (..., S) -> (...), float64.
        """
        diff = self.features(states) - self.features(goal_states)  # (..., G)
        return np.linalg.norm(diff, axis=-1)

    # -- dynamics ------------------------------------------------------------------
    def __call__(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The state after each action of B open-loop action sequences.

        Only the physics part of ``states`` is read; the feature part of the result
        is recomputed by the simulator. ``out[:, t]`` follows ``actions[:, t]``.

        Shapes: states (B, S), actions (B, H, A) -> (B, H, S), float64.
        """
        states = np.asarray(states, dtype=np.float64)
        actions = np.asarray(actions, dtype=np.float64)
        _check_shape("states", states, ("B", "S"), S=self.state_dim)
        _check_shape("actions", actions, ("B", "H", "A"), B=states.shape[0], A=self.action_dim)
        if self._pool is None:
            raise RuntimeError("OracleDynamics was closed")
        B, H, _ = actions.shape
        fs, nstate = self.frame_skip, self._nstate
        out = np.empty((B, H, self.state_dim), dtype=np.float64)  # (B, H, S)
        if B == 0 or H == 0:
            return out
        # Each action held for frame_skip physics steps, plus one extra step: a sensor
        # reported by mj_step is computed before that step integrates, so the features
        # of the state after physics step k come with step k + 1.
        control = np.repeat(actions, fs, axis=1)  # (B, H*fs, A)
        control = np.ascontiguousarray(np.concatenate([control, control[:, -1:]], axis=1))
        initial = np.ascontiguousarray(states[:, :nstate])  # (B, nstate)
        phys, sens = self._pool.rollout(
            self.model, self._datas, initial, control
        )  # (B, H*fs+1, nstate), (B, H*fs+1, nsensordata)
        out[..., :nstate] = phys[:, fs - 1 : H * fs : fs]  # after each control step
        out[..., nstate:] = sens[:, fs : H * fs + 1 : fs][..., self._feature_cols]
        return out

    # -- lifetime ------------------------------------------------------------------
    def close(self) -> None:
        """Shut the rollout thread pool down (also done when the oracle is collected)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> OracleDynamics:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"OracleDynamics(S={self.state_dim}, A={self.action_dim}, "
            f"features={self.feature_slice.start}:{self.feature_slice.stop}, "
            f"frame_skip={self.frame_skip}, dt={self.dt}, nthread={self.nthread})"
        )
