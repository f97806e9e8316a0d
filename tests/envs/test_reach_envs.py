"""Contract and behaviour tests of the reach environments (both variants)."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from mujoco import rollout

from jepa_agent import envs
from jepa_agent.envs import Reach2DEnv, Reach3DEnv, ReachEnv
from tests.envs.reach_helpers import (
    ENV_ID,
    assert_check_env_clean,
    farthest_goal,
    wrapped_joint_error,
)

# (nq, G): joints and goal dimensions of each variant.
DIMS = {Reach2DEnv: (2, 2), Reach3DEnv: (4, 3)}


@pytest.fixture
def env(env_cls):
    env = env_cls()
    yield env
    env.close()


def proportional_action(env: ReachEnv, goal_qpos: np.ndarray, gain: float = 25.0) -> np.ndarray:
    """Joint-space P controller: commanded speed gain * error (1/s), saturated at vmax."""
    err = wrapped_joint_error(env, goal_qpos, env.data.qpos)
    return np.clip(gain * err / env.vmax, -1.0, 1.0).astype(np.float32)


# -- Gymnasium contract ------------------------------------------------------------


def test_check_env_passes(env_cls):
    """check_env accepts the unwrapped registered env, warning only about infinite Box bounds."""
    env = gym.make(ENV_ID[env_cls])
    assert_check_env_clean(env)
    env.close()


def test_spaces_have_documented_shapes(env):
    """Action is Box(-1,1,(nq,)) float32; obs keys are float32 with dims 3*nq+G, G, G."""
    nq, g = DIMS[type(env)]
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (nq,), np.float32)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"observation", "achieved_goal", "desired_goal"}
    assert obs["observation"].shape == (3 * nq + g,)
    assert obs["achieved_goal"].shape == obs["desired_goal"].shape == (g,)
    assert all(v.dtype == np.float32 for v in obs.values())
    assert obs in env.observation_space


def test_observation_layout(env):
    """observation = [cos q, sin q, qvel, fingertip] and achieved_goal is the fingertip site."""
    nq, g = DIMS[type(env)]
    env.reset(seed=1)
    obs, *_ = env.step(env.action_space.sample())
    qpos, qvel = env.data.qpos, env.data.qvel
    o = obs["observation"]
    np.testing.assert_allclose(o[:nq], np.cos(qpos), atol=1e-6)
    np.testing.assert_allclose(o[nq : 2 * nq], np.sin(qpos), atol=1e-6)
    np.testing.assert_allclose(o[2 * nq : 3 * nq], qvel, atol=1e-5)
    site = env.data.site("fingertip").xpos[:g]
    np.testing.assert_allclose(o[3 * nq :], site, atol=1e-6)
    np.testing.assert_array_equal(obs["achieved_goal"], o[3 * nq :])


def test_observation_from_qpos_qvel_matches_step_and_batches(env):
    """observation_from_qpos_qvel reproduces the env's observation, also over batch dims."""
    nq, g = DIMS[type(env)]
    env.reset(seed=2)
    obs, *_ = env.step(env.action_space.sample())
    again = env.observation_from_qpos_qvel(env.data.qpos, env.data.qvel)
    for key in obs:
        np.testing.assert_array_equal(again[key], obs[key])
    rng = np.random.default_rng(0)
    qpos, qvel = rng.normal(size=(3, 5, nq)), rng.normal(size=(3, 5, nq))
    batch = env.observation_from_qpos_qvel(qpos, qvel)
    assert batch["observation"].shape == (3, 5, 3 * nq + g)
    assert batch["achieved_goal"].shape == batch["desired_goal"].shape == (3, 5, g)
    single = env.observation_from_qpos_qvel(qpos[1, 2], qvel[1, 2])
    np.testing.assert_array_equal(batch["observation"][1, 2], single["observation"])


def test_never_terminates_and_time_limit_truncates_at_50(env_cls):
    """The registered env truncates after exactly 50 steps and never terminates."""
    env = gym.make(ENV_ID[env_cls])
    env.reset(seed=0)
    for t in range(1, 51):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        assert not terminated
        assert truncated == (t == 50)
    env.close()


# -- seeding -------------------------------------------------------------------------


def test_same_seed_gives_identical_trajectories(env_cls):
    """Two envs reset with the same seed produce identical observations over 20 steps."""
    actions = np.random.default_rng(0).uniform(-1, 1, size=(20, DIMS[env_cls][0]))
    trajectories = []
    for _ in range(2):
        env = env_cls()
        obs, _ = env.reset(seed=123)
        trajectory = [obs]
        for a in actions:
            obs, *_ = env.step(a.astype(np.float32))
            trajectory.append(obs)
        trajectories.append(trajectory)
    for first, second in zip(*trajectories, strict=True):
        for key in first:
            np.testing.assert_array_equal(first[key], second[key])


def test_different_seeds_give_different_goals(env):
    """Resetting with different seeds samples different goals."""
    goals = {tuple(env.reset(seed=seed)[0]["desired_goal"]) for seed in range(10)}
    assert len(goals) == 10


def test_sampled_goals_stay_in_the_sampling_box(env):
    """Sampled goal configurations lie inside the goal sampling box, and goals match their FK."""
    low, high = env.goal_qpos_bounds
    for seed in range(50):
        obs, _ = env.reset(seed=seed)
        assert np.all(env.goal_qpos >= low) and np.all(env.goal_qpos <= high)
        np.testing.assert_array_equal(obs["desired_goal"], env.fingertip_position(env.goal_qpos))


def test_reach3d_goals_avoid_the_base_axis():
    """Reach3D never samples a goal within 0.1 m of the base (yaw) axis."""
    env = Reach3DEnv()
    env.reset(seed=0)
    radii = [np.hypot(*env.reset()[0]["desired_goal"][:2]) for _ in range(300)]
    assert min(radii) >= 0.1
    assert max(radii) > 0.6  # and the goals still cover the outer workspace


def test_initial_state_is_home_plus_small_noise(env):
    """Reset puts the arm within 0.1 rad of home with joint speeds under 0.005 rad/s."""
    for seed in range(20):
        env.reset(seed=seed)
        assert np.all(np.abs(env.data.qpos - env.home_qpos) <= 0.1)
        assert np.all(np.abs(env.data.qvel) <= 0.005)


# -- goal conditioning ---------------------------------------------------------------


def test_goal_observation_is_at_the_goal(env):
    """goal_observation(): achieved_goal == desired_goal, zero velocity, same in info."""
    nq, _ = DIMS[type(env)]
    obs, info = env.reset(seed=3)
    goal_obs = env.goal_observation()
    np.testing.assert_array_equal(goal_obs["achieved_goal"], goal_obs["desired_goal"])
    np.testing.assert_array_equal(goal_obs["desired_goal"], obs["desired_goal"])
    np.testing.assert_array_equal(goal_obs["observation"][2 * nq : 3 * nq], 0.0)
    assert goal_obs.keys() == obs.keys()
    for key in goal_obs:
        np.testing.assert_array_equal(info["goal_observation"][key], goal_obs[key])
    _, _, _, _, step_info = env.step(env.action_space.sample())
    for key in goal_obs:
        np.testing.assert_array_equal(step_info["goal_observation"][key], goal_obs[key])


def test_goal_observation_is_a_copy(env):
    """Mutating a returned goal observation does not change the env's goal."""
    _, info = env.reset(seed=4)
    info["goal_observation"]["desired_goal"][:] = 99.0
    env.goal_observation()["observation"][:] = 99.0
    assert not np.any(env.goal_observation()["desired_goal"] == 99.0)
    assert not np.any(env.goal_observation()["observation"] == 99.0)


def test_reset_at_goal_configuration_is_success(env):
    """Resetting with options qpos = goal_qpos puts the fingertip on the goal (is_success 1)."""
    env.reset(seed=5)
    goal_qpos = env.goal_qpos
    obs, info = env.reset(options={"goal_qpos": goal_qpos, "qpos": goal_qpos})
    np.testing.assert_array_equal(env.goal_qpos, goal_qpos)
    np.testing.assert_array_equal(env.data.qpos, goal_qpos)
    np.testing.assert_array_equal(env.data.qvel, 0.0)
    assert info["distance"] < 1e-6
    assert info["is_success"] == 1.0
    for key in obs:  # at rest on the goal, the observation is the goal observation
        np.testing.assert_array_equal(obs[key], info["goal_observation"][key])


def test_goal_marker_is_moved_to_the_goal(env):
    """The mocap goal marker sits at the desired goal after reset."""
    _, g = DIMS[type(env)]
    obs, _ = env.reset(seed=6)
    np.testing.assert_allclose(env.data.mocap_pos[0, :g], obs["desired_goal"], atol=1e-7)


# -- control -------------------------------------------------------------------------


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_full_command_reaches_vmax_and_zero_stops(env, sign):
    """a=+-1 on one joint gives +-vmax within 10% after 5 steps; a=0 stops the arm in 2 steps."""
    nq, _ = DIMS[type(env)]
    for joint in range(nq):
        env.reset(options={"qpos": env.home_qpos})
        action = np.zeros(nq, dtype=np.float32)
        action[joint] = sign
        for _ in range(5):
            env.step(action)
        assert abs(env.data.qvel[joint] - sign * env.vmax) < 0.1 * env.vmax
        for _ in range(2):
            env.step(np.zeros(nq, dtype=np.float32))
        assert np.max(np.abs(env.data.qvel)) < 0.05 * env.vmax


def test_proportional_controller_reaches_random_goals(env_cls):
    """A joint-space P controller succeeds on 20 random goals within the 50-step episode."""
    env = gym.make(ENV_ID[env_cls])
    for seed in range(20):
        env.reset(seed=seed)
        goal_qpos = env.unwrapped.goal_qpos
        truncated = False
        while not truncated:
            _, _, _, truncated, info = env.step(proportional_action(env.unwrapped, goal_qpos))
        assert info["is_success"] == 1.0, f"seed {seed}: distance {info['distance']:.3f} m"
    env.close()


def test_farthest_goal_is_reachable_in_time(env):
    """The goal farthest from home in joint space (yaw half a turn away) is reached in 50 steps."""
    far, start = farthest_goal(env)
    env.reset(options={"goal_qpos": far, "qpos": start})
    for _ in range(50):
        _, _, _, _, info = env.step(proportional_action(env, far))
    assert np.max(np.abs(wrapped_joint_error(env, far, env.data.qpos))) < 0.02
    assert info["is_success"] == 1.0, f"distance {info['distance']:.3f} m"


def test_step_matches_mujoco_rollout(env):
    """Stepping the env equals mujoco.rollout replaying the actions as plain controls."""
    nq, _ = DIMS[type(env)]
    env.reset(seed=7)
    state0 = env.get_physics_state()
    actions = np.random.default_rng(1).uniform(-1.2, 1.2, size=(15, nq))  # (H, A), some clamped
    states = []
    for a in actions:
        env.step(a)
        states.append(env.get_physics_state())
    controls = np.repeat(actions, env.frame_skip, axis=0)[None]  # (1, H * frame_skip, A)
    replay, _ = rollout.rollout(env.model, mujoco.MjData(env.model), state0[None], controls)
    np.testing.assert_array_equal(replay[0, env.frame_skip - 1 :: env.frame_skip], states)


def test_physics_state_round_trip(env):
    """set_physics_state(get_physics_state()) restores the simulation exactly."""
    nq, _ = DIMS[type(env)]
    env.reset(seed=8)
    env.step(np.ones(nq, dtype=np.float32))
    state = env.get_physics_state()
    actions = np.random.default_rng(2).uniform(-1, 1, size=(5, nq)).astype(np.float32)
    first = [env.step(a)[0]["observation"] for a in actions]
    env.set_physics_state(state)
    np.testing.assert_array_equal(env.get_physics_state(), state)
    second = [env.step(a)[0]["observation"] for a in actions]
    np.testing.assert_array_equal(first, second)


# -- reward and success ----------------------------------------------------------------


def test_compute_reward_is_vectorised_and_matches_distance(env):
    """compute_reward works over batch dims and the step reward equals -info['distance']."""
    _, g = DIMS[type(env)]
    env.reset(seed=9)
    obs, reward, _, _, info = env.step(env.action_space.sample())
    assert reward == -info["distance"]
    assert env.compute_reward(obs["achieved_goal"], obs["desired_goal"], info) == reward
    rng = np.random.default_rng(3)
    achieved, desired = rng.normal(size=(4, 6, g)), rng.normal(size=(4, 6, g))
    rewards = env.compute_reward(achieved, desired, None)
    assert rewards.shape == (4, 6)
    np.testing.assert_allclose(rewards, -np.linalg.norm(achieved - desired, axis=-1))


def test_sparse_reward_is_minus_one_outside_threshold(env_cls):
    """reward_type='sparse' gives -1 beyond success_threshold and 0 within it."""
    env = env_cls(reward_type="sparse")
    g = DIMS[env_cls][1]
    goal = np.zeros((2, g))
    achieved = np.zeros((2, g))
    achieved[0, 0] = 0.5 * env.success_threshold
    achieved[1, 0] = 2.0 * env.success_threshold
    np.testing.assert_array_equal(env.compute_reward(achieved, goal, None), [0.0, -1.0])
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert reward == -float(info["distance"] > env.success_threshold)


def test_success_threshold_defaults_and_is_success(env_cls):
    """Defaults are 0.02 m (2D) / 0.05 m (3D); is_success == (distance < threshold)."""
    assert env_cls().success_threshold == {Reach2DEnv: 0.02, Reach3DEnv: 0.05}[env_cls]
    env = env_cls(success_threshold=0.3)
    assert env.success_threshold == 0.3
    env.reset(seed=10)
    for _ in range(10):
        _, _, _, _, info = env.step(env.action_space.sample())
        assert info["is_success"] == float(info["distance"] < 0.3)


# -- errors ----------------------------------------------------------------------------


def test_bad_arguments_raise_value_error(env):
    """Wrong shapes, unknown reset options and bad constructor values raise ValueError."""
    nq, _ = DIMS[type(env)]
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must have shape"):
        env.step(np.zeros(nq + 1, dtype=np.float32))
    with pytest.raises(ValueError, match=r"options\['qpos'\] must have shape"):
        env.reset(options={"qpos": np.zeros(nq + 1)})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"goal": np.zeros(2)})
    with pytest.raises(ValueError, match="state must be"):
        env.set_physics_state(np.zeros(3))
    with pytest.raises(ValueError, match="reward_type"):
        type(env)(reward_type="shaped")
    with pytest.raises(ValueError, match="render_mode"):
        type(env)(render_mode="human")


def test_render_without_render_mode_returns_none(env):
    """render() without a render_mode warns and returns None (no GL needed)."""
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


def test_envs_exports_the_classes():
    """The envs package exports the base class and both variants."""
    assert {"ReachEnv", "Reach2DEnv", "Reach3DEnv"} <= set(envs.__all__)
    assert issubclass(Reach2DEnv, ReachEnv) and issubclass(Reach3DEnv, ReachEnv)


def test_a_folded_start_and_far_goals():
    """start_qpos sets the start pose; min_goal_distance keeps every goal that far from its fingertip."""
    import gymnasium as gym

    folded = (-2.5, -0.5, 2.3, 1.4)
    env = gym.make("jepa_agent/Reach3D-v0", start_qpos=folded, min_goal_distance=0.4)
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        assert np.linalg.norm(obs["desired_goal"] - obs["achieved_goal"]) >= 0.4 - 0.02  # start noise
    plain, default = gym.make("jepa_agent/Reach3D-v0"), gym.make("jepa_agent/Reach3D-v0", min_goal_distance=0.0)
    np.testing.assert_array_equal(plain.reset(seed=3)[0]["desired_goal"], default.reset(seed=3)[0]["desired_goal"])
    with pytest.raises(ValueError, match="start_qpos must have shape"):
        gym.make("jepa_agent/Reach3D-v0", start_qpos=(0.0, 1.0))
    with pytest.raises(ValueError, match="min_goal_distance"):
        gym.make("jepa_agent/Reach3D-v0", min_goal_distance=-1.0)
