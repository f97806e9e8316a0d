"""The reach envs' ``control`` option: velocity servos (default) and torque motors on damped joints."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from mujoco import rollout

from jepa_agent.envs import Reach2DEnv, Reach3DEnv, ReachEnv
from tests.envs.reach_helpers import (
    ENV_ID,
    assert_check_env_clean,
    farthest_goal,
    wrapped_joint_error,
)

# Largest joint-space inertia (kg m^2, armature included) of each joint over the goal box:
# the diagonal of the mass matrix, maximised over 2000 random configurations.
MAX_INERTIA = {Reach2DEnv: (0.0032, 0.0022), Reach3DEnv: (0.55, 0.55, 0.13, 0.053)}


@pytest.fixture
def torque_env(env_cls):
    env = env_cls(control="torque")
    yield env
    env.close()


def pd_torque_action(env: ReachEnv, goal_qpos: np.ndarray, wn: float = 15.0) -> np.ndarray:
    """Joint-space PD controller with fixed gains, critically damped at ``wn`` rad/s on the
    largest inertia; the joint's own damping supplies part of the D term. Torque / gear."""
    inertia = np.asarray(MAX_INERTIA[type(env)])
    kp, kd = inertia * wn**2, 2.0 * inertia * wn - env.damping  # N m/rad, N m s/rad
    torque = kp * wrapped_joint_error(env, goal_qpos, env.data.qpos) - kd * env.data.qvel
    return np.clip(torque / env.gear, -1.0, 1.0).astype(np.float32)


# -- the option ------------------------------------------------------------------------


def test_check_env_passes_with_torque_control(env_cls):
    """check_env accepts the torque env, warning only about infinite Box bounds."""
    env = gym.make(ENV_ID[env_cls], control="torque")
    assert_check_env_clean(env)
    env.close()


def test_default_control_is_velocity_and_unchanged(env_cls):
    """The default is control='velocity', and it steps exactly as the MJCF as written does."""
    env = gym.make(ENV_ID[env_cls]).unwrapped
    assert env.control == "velocity"
    as_written = mujoco.MjModel.from_xml_string(env_cls.MJCF)
    for field in ("actuator_gainprm", "actuator_biasprm", "actuator_gear", "dof_damping"):
        np.testing.assert_array_equal(getattr(env.model, field), getattr(as_written, field))
    assert [env.model.actuator(i).name for i in range(env.model.nu)] == [
        f"joint{i}_velocity" for i in range(env.model.nu)
    ]
    env.reset(seed=0)
    state0 = env.get_physics_state()
    actions = np.random.default_rng(0).uniform(-1.2, 1.2, size=(20, env.model.nu))  # (H, A)
    states = []
    for a in actions:
        env.step(a)
        states.append(env.get_physics_state())
    controls = np.repeat(actions, env.frame_skip, axis=0)[None]  # (1, H * frame_skip, A)
    replay, _ = rollout.rollout(as_written, mujoco.MjData(as_written), state0[None], controls)
    np.testing.assert_array_equal(replay[0, env.frame_skip - 1 :: env.frame_skip], states)


def test_bad_control_raises_value_error_naming_the_choices(env_cls):
    """control='torqe' raises ValueError naming the valid choices and the value given."""
    with pytest.raises(ValueError, match=r"control must be one of \('velocity', 'torque'\), got 'torqe'"):
        env_cls(control="torqe")
    with pytest.raises(ValueError, match="control must be one of"):
        gym.make(ENV_ID[env_cls], control="torqe")


def test_torque_actuators_are_damped_motors(torque_env):
    """control='torque' makes motors (gear GEAR, gain 1, no bias) on joints damped by DAMPING."""
    m = torque_env.model
    np.testing.assert_array_equal(m.actuator_gear[:, 0], torque_env.GEAR)
    np.testing.assert_array_equal(m.actuator_gainprm[:, 0], 1.0)
    np.testing.assert_array_equal(m.actuator_biasprm, 0.0)
    np.testing.assert_array_equal(m.actuator_ctrlrange, [[-1.0, 1.0]] * m.nu)
    np.testing.assert_array_equal(m.dof_damping, torque_env.DAMPING)
    assert [m.actuator(i).name for i in range(m.nu)] == [f"joint{i}_motor" for i in range(m.nu)]
    # Everything else is the velocity model: masses, armature, limits, timestep.
    velocity = type(torque_env)().model
    for field in ("body_mass", "body_inertia", "dof_armature", "jnt_range", "actuator_trnid"):
        np.testing.assert_array_equal(getattr(m, field), getattr(velocity, field))
    assert (m.opt.timestep, m.opt.integrator) == (velocity.opt.timestep, velocity.opt.integrator)


def test_action_is_the_joint_torque(torque_env):
    """With torque control the actuator force on joint i is gear_i * a_i (clamped to [-1, 1])."""
    torque_env.reset(seed=1)
    action = np.linspace(-1.5, 0.7, torque_env.model.nu)  # (A,), the first entry clamped
    torque_env.step(action)
    np.testing.assert_allclose(
        torque_env.data.qfrc_actuator, torque_env.gear * np.clip(action, -1, 1), rtol=0, atol=1e-12
    )


# -- dynamics --------------------------------------------------------------------------


def test_zero_torque_does_not_hold_velocity_but_damping_stops_the_arm(torque_env):
    """A joint coasting at speed keeps over half of it after one zero-action step; it is at rest after 50."""
    nq = torque_env.model.nq
    settle = torque_env.gear / torque_env.damping  # (nq,) rad/s
    for joint in range(nq):
        qvel = np.zeros(nq)
        qvel[joint] = settle[joint]
        torque_env.reset(options={"qpos": torque_env.home_qpos, "qvel": qvel})
        torque_env.step(np.zeros(nq, dtype=np.float32))
        assert torque_env.data.qvel[joint] > 0.5 * settle[joint]
        for _ in range(49):
            torque_env.step(np.zeros(nq, dtype=np.float32))
        assert np.max(np.abs(torque_env.data.qvel)) < 0.01 * settle[joint]


def test_constant_torque_accelerates_to_the_settling_speed(torque_env):
    """a=+1 on one joint from rest: speed rises step by step from well below gear/damping to within 10% of it."""
    nq = torque_env.model.nq
    settle = torque_env.gear / torque_env.damping  # (nq,) rad/s
    for joint in range(nq):
        torque_env.reset(options={"qpos": torque_env.home_qpos})
        action = np.zeros(nq, dtype=np.float32)
        action[joint] = 1.0
        speeds = []
        for _ in range(25):
            torque_env.step(action)
            speeds.append(torque_env.data.qvel[joint])
        assert speeds[0] < 0.5 * settle[joint]  # a velocity servo is there within one step
        assert np.all(np.diff(speeds[:5]) > 0)
        assert abs(speeds[-1] - settle[joint]) < 0.1 * settle[joint]


def test_pd_controller_reaches_random_goals_with_torque(env_cls):
    """A fixed-gain joint-space PD controller succeeds on at least 39 of 40 random goals in 50 steps."""
    env = gym.make(ENV_ID[env_cls], control="torque")
    failures = []
    for seed in range(40):
        env.reset(seed=seed)
        goal_qpos = env.unwrapped.goal_qpos
        truncated = False
        while not truncated:
            _, _, _, truncated, info = env.step(pd_torque_action(env.unwrapped, goal_qpos))
        if info["is_success"] != 1.0:
            failures.append((seed, round(info["distance"], 3)))
    env.close()
    assert len(failures) <= 1, f"(seed, final distance m): {failures}"


def test_farthest_goal_is_reachable_in_time_with_torque(torque_env):
    """The goal farthest from home in joint space (yaw half a turn away) is reached in 50 steps by the PD controller."""
    env = torque_env
    far, start = farthest_goal(env)
    env.reset(options={"goal_qpos": far, "qpos": start})
    for _ in range(50):
        _, _, _, _, info = env.step(pd_torque_action(env, far))
    assert info["is_success"] == 1.0, f"distance {info['distance']:.3f} m"


def test_goal_observation_is_the_goal_at_rest_with_torque(torque_env):
    """goal_observation() is the goal configuration at rest, and zero torque holds the arm there."""
    nq = torque_env.model.nq
    torque_env.reset(seed=3)
    goal_qpos = torque_env.goal_qpos
    goal = torque_env.goal_observation()
    np.testing.assert_array_equal(goal["achieved_goal"], goal["desired_goal"])
    np.testing.assert_array_equal(goal["observation"][2 * nq : 3 * nq], 0.0)
    obs, info = torque_env.reset(options={"goal_qpos": goal_qpos, "qpos": goal_qpos})
    for key in obs:
        np.testing.assert_array_equal(obs[key], info["goal_observation"][key])
    for _ in range(50):
        _, _, _, _, info = torque_env.step(np.zeros(nq, dtype=np.float32))
    assert info["distance"] < 1e-6
