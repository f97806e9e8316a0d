"""benchmarks/reach_reference.py: the joint-space servo that knows the goal reaches it."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the reach envs)


@pytest.mark.parametrize("env_id", ["jepa_agent/Reach2D-v0", "jepa_agent/Reach3D-v0"])
def test_the_servo_reaches_every_goal_and_says_when(reach_reference, env_id):
    env = gym.make(env_id)
    records = [reach_reference.servo_episode(env, seed, tau=0.04) for seed in range(6)]
    for r in records:
        assert r["success"] and r["success_any"], r
        assert 0 <= r["arrival"] < env.spec.max_episode_steps and r["final_distance"] < env.unwrapped.success_threshold
    s = reach_reference.summary(records)
    assert s["success_rate"] == 1.0 and s["arrival_max"] == max(r["arrival"] for r in records)


def test_a_slow_servo_arrives_later(reach_reference):
    """A longer time constant commands lower speeds near the goal: never an earlier arrival."""
    env = gym.make("jepa_agent/Reach3D-v0")
    fast = [reach_reference.servo_episode(env, seed, tau=0.04)["arrival"] for seed in range(4)]
    slow = [reach_reference.servo_episode(env, seed, tau=0.3)["arrival"] for seed in range(4)]
    assert np.all(np.asarray(slow) >= np.asarray(fast)) and sum(slow) > sum(fast)
