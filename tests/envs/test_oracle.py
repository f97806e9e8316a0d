"""Tests of the true-simulator dynamics `OracleDynamics` on the reach envs and Gymnasium's."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from jepa_agent import envs  # noqa: F401  (registers the jepa_agent ids)
from jepa_agent.envs import OracleDynamics, ReachEnv

REACH_IDS = ["jepa_agent/Reach2D-v0", "jepa_agent/Reach3D-v0"]
GYM_IDS = ["Reacher-v5", "Pusher-v5"]
# (A, G, frame_skip) of each env.
DIMS = {
    "jepa_agent/Reach2D-v0": (2, 2, 2),
    "jepa_agent/Reach3D-v0": (4, 3, 2),
    "Reacher-v5": (2, 2, 2),
    "Pusher-v5": (7, 2, 5),
}
# Gymnasium envs: (body of the achieved goal, body of the desired goal).
GYM_BODIES = {"Reacher-v5": ("fingertip", "target"), "Pusher-v5": ("object", "goal")}


def make_env(env_id: str) -> gym.Env:
    if env_id in GYM_IDS:
        # Gymnasium's MuJoCo envs import imageio for their renderer.
        pytest.importorskip("imageio", reason="Gymnasium's MuJoCo envs need imageio")
    return gym.make(env_id)


@pytest.fixture(params=REACH_IDS + GYM_IDS)
def env(request):
    env = make_env(request.param)
    env.reset(seed=3)
    yield env
    env.close()


@pytest.fixture
def oracle(env):
    with OracleDynamics.from_env(env, nthread=2) as oracle:
        yield oracle


def physics_state(env: gym.Env) -> np.ndarray:
    u = env.unwrapped
    state = np.empty(mujoco.mj_stateSize(u.model, mujoco.mjtState.mjSTATE_FULLPHYSICS))
    mujoco.mj_getState(u.model, u.data, state, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    return state


def achieved_goal(env: gym.Env) -> np.ndarray:
    """The env's achieved goal at its current state, by forward kinematics of its own model.

    Reach envs keep ``site_xpos`` current; Gymnasium's envs leave body positions one physics
    step stale after ``step``, so their reference runs on a fresh ``MjData``.
    """
    u = env.unwrapped
    if isinstance(u, ReachEnv):
        return u.data.site_xpos[u.model.site("fingertip").id][list(u.GOAL_DIMS)].copy()
    d = mujoco.MjData(u.model)
    mujoco.mj_setState(u.model, d, physics_state(env), mujoco.mjtState.mjSTATE_FULLPHYSICS)
    mujoco.mj_kinematics(u.model, d)
    return d.body(GYM_BODIES[env.spec.id][0]).xipos[:2].copy()


def desired_goal(env: gym.Env) -> np.ndarray:
    u = env.unwrapped
    if isinstance(u, ReachEnv):
        return u.goal.astype(np.float64)
    return u.get_body_com(GYM_BODIES[env.spec.id][1])[:2].copy()


def test_replay_matches_env_stepping(env, oracle):
    """Replaying actions through the oracle reproduces env.step: physics state and features."""
    rng = np.random.default_rng(0)
    H = 25
    # Some actions beyond the bounds: MuJoCo clamps them to ctrlrange in both paths.
    actions = rng.uniform(-1.2, 1.2, size=(H, oracle.action_dim)).astype(np.float32)
    s0 = oracle.current_state(env)
    want_physics, want_features = [], []
    for a in actions:
        env.step(a)
        want_physics.append(physics_state(env))
        want_features.append(achieved_goal(env))
    got = oracle(s0[None], actions[None])[0]  # (H, S)
    np.testing.assert_allclose(got[:, oracle.physics_slice], np.array(want_physics), rtol=0, atol=1e-9)
    np.testing.assert_allclose(got[:, oracle.feature_slice], np.array(want_features), rtol=0, atol=1e-9)
    if env.spec.id == "Pusher-v5":  # the constraint solver was exercised (object on the table)
        assert env.unwrapped.data.ncon > 0


@pytest.mark.parametrize("env_id", REACH_IDS)
def test_replay_matches_env_stepping_with_torque_control(env_id):
    """With control='torque' the oracle replays the motors, not the velocity servos: it equals env.step."""
    env = gym.make(env_id, control="torque")
    env.reset(seed=4)
    A = DIMS[env_id][0]
    actions = np.random.default_rng(4).uniform(-1.2, 1.2, size=(1, 25, A))  # (1, H, A), some clamped
    with OracleDynamics.from_env(env) as oracle, OracleDynamics.from_env(gym.make(env_id)) as servo:
        np.testing.assert_array_equal(oracle.model.actuator_gear[:, 0], env.unwrapped.GEAR)
        np.testing.assert_array_equal(oracle.model.dof_damping, env.unwrapped.DAMPING)
        s0 = oracle.current_state(env)
        got = oracle(s0[None], actions)[0]  # (H, S)
        want_physics, want_features = [], []
        for a in actions[0]:
            env.step(a)
            want_physics.append(physics_state(env))
            want_features.append(achieved_goal(env))
        np.testing.assert_allclose(got[:, oracle.physics_slice], np.array(want_physics), rtol=0, atol=1e-9)
        np.testing.assert_allclose(got[:, oracle.feature_slice], np.array(want_features), rtol=0, atol=1e-9)
        # The same controls through velocity servos go elsewhere (the test sees the mode).
        assert np.max(np.abs(servo(s0[None], actions)[0] - got)) > 0.1


def test_from_env_refuses_edited_actuators():
    """An env model whose actuators were edited after construction is refused, naming the field."""
    env = gym.make("jepa_agent/Reach2D-v0", control="torque")
    env.unwrapped.model.actuator_gear[0, 0] *= 2.0
    with pytest.raises(ValueError, match="differs from the env's in actuator_gear"):
        OracleDynamics.from_env(env)


def test_shapes_and_attributes(env, oracle):
    """state_dim, action_dim, feature_slice, dt and the (B, H, S) float64 output match the env."""
    A, G, frame_skip = DIMS[env.spec.id]
    u = env.unwrapped
    nstate = mujoco.mj_stateSize(u.model, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    assert (oracle.state_dim, oracle.action_dim) == (nstate + G, A)
    assert oracle.feature_slice == slice(nstate, nstate + G)
    assert oracle.frame_skip == frame_skip
    assert oracle.dt == pytest.approx(u.model.opt.timestep * frame_skip)
    s0 = oracle.current_state(env)
    assert s0.shape == (oracle.state_dim,) and s0.dtype == np.float64
    out = oracle(np.tile(s0, (3, 1)), np.zeros((3, 4, A)))
    assert out.shape == (3, 4, oracle.state_dim) and out.dtype == np.float64


def test_feature_part_is_the_achieved_goal(env, oracle):
    """current_state's features are the env's achieved goal, goal_state's its desired goal."""
    env.step(env.action_space.sample())
    s = oracle.current_state(env)
    np.testing.assert_allclose(s[oracle.feature_slice], achieved_goal(env), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(s[oracle.physics_slice], physics_state(env))
    g = oracle.goal_state(env)
    np.testing.assert_allclose(g[oracle.feature_slice], desired_goal(env), rtol=0, atol=1e-6)
    assert oracle.goal_distance(g, g) == 0.0


def test_reach_goal_state_is_goal_configuration_at_rest():
    """For a reach env the goal state is the goal joint configuration with zero velocity."""
    env = make_env("jepa_agent/Reach2D-v0")
    env.reset(seed=5)
    with OracleDynamics.from_env(env) as oracle:
        g = oracle.goal_state(env)
        d = mujoco.MjData(oracle.model)
        mujoco.mj_setState(oracle.model, d, g[oracle.physics_slice], mujoco.mjtState.mjSTATE_FULLPHYSICS)
        np.testing.assert_array_equal(d.qpos, env.unwrapped.goal_qpos)
        np.testing.assert_array_equal(d.qvel, 0.0)
        # At rest it stays put with zero action.
        still = oracle(g[None], np.zeros((1, 3, 2)))[0]
        np.testing.assert_allclose(oracle.goal_distance(still, g), 0.0, atol=1e-9)


def test_rollout_continues_from_returned_states():
    """A rollout restarted from a returned state continues the trajectory (features ignored on input)."""
    env = make_env("jepa_agent/Reach3D-v0")
    env.reset(seed=1)
    with OracleDynamics.from_env(env) as oracle:
        actions = np.random.default_rng(1).uniform(-1, 1, size=(4, 10, 4))
        s0 = np.tile(oracle.current_state(env), (4, 1))
        full = oracle(s0, actions)
        mid = full[:, 5].copy()
        mid[:, oracle.feature_slice] = 123.0  # junk features are never read
        rest = oracle(mid, actions[:, 6:])
        np.testing.assert_array_equal(rest, full[:, 6:])


def test_thread_count_does_not_change_results():
    """nthread=0, 1 and 2 give identical rollouts of a batch of distinct states."""
    env = make_env("jepa_agent/Reach2D-v0")
    env.reset(seed=2)
    rng = np.random.default_rng(2)
    base = OracleDynamics.from_env(env, nthread=0)
    starts = base(base.current_state(env)[None], rng.uniform(-1, 1, (1, 37, 2)))[0]  # (37, S)
    actions = rng.uniform(-1, 1, size=(37, 12, 2))
    results = []
    for nthread in (0, 1, 2):
        with OracleDynamics.from_env(env, nthread=nthread) as oracle:
            results.append(oracle(starts, actions))
    base.close()
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_bad_shapes_raise_value_error_quoting_expected_and_got():
    """A bad actions or states shape raises ValueError naming the expected and the given shape."""
    env = make_env("jepa_agent/Reach2D-v0")
    env.reset(seed=0)
    with OracleDynamics.from_env(env) as oracle:
        s = np.tile(oracle.current_state(env), (4, 1))
        with pytest.raises(ValueError, match=r"actions must be \(B, H, A\)=\(4, H, 2\), got \(4, 2\)"):
            oracle(s, np.zeros((4, 2)))
        with pytest.raises(ValueError, match=r"actions must be \(B, H, A\)=\(4, H, 2\), got \(4, 3, 5\)"):
            oracle(s, np.zeros((4, 3, 5)))
        with pytest.raises(ValueError, match=r"states must be \(B, S\)=\(B, 7\), got \(4, 5\)"):
            oracle(s[:, :5], np.zeros((4, 3, 2)))


def test_goal_distance_broadcasts_over_horizon():
    """goal_distance is the Euclidean feature distance, broadcasting a goal over (B, H)."""
    env = make_env("jepa_agent/Reach2D-v0")
    env.reset(seed=0)
    with OracleDynamics.from_env(env) as oracle:
        states = oracle(np.tile(oracle.current_state(env), (3, 1)), np.ones((3, 5, 2)))
        goal = oracle.goal_state(env)
        d = oracle.goal_distance(states, goal)
        assert d.shape == (3, 5)
        want = np.linalg.norm(states[..., 5:7] - goal[5:7], axis=-1)
        np.testing.assert_allclose(d, want, rtol=0, atol=1e-15)


def test_from_env_rejects_unknown_env():
    """from_env on an env without a recipe fails naming the known ones."""
    env = gym.make("CartPole-v1")
    with pytest.raises(ValueError, match="no oracle recipe for env CartPoleEnv; known: ReachEnv"):
        OracleDynamics.from_env(env)


def test_closed_oracle_refuses_rollouts():
    """After close(), a rollout raises instead of using a dead thread pool."""
    env = make_env("jepa_agent/Reach2D-v0")
    env.reset(seed=0)
    oracle = OracleDynamics.from_env(env)
    s = oracle.current_state(env)[None]
    oracle.close()
    with pytest.raises(RuntimeError, match="closed"):
        oracle(s, np.zeros((1, 1, 2)))
