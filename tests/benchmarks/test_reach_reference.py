"""benchmarks.reach_reference: the joint-space servo that knows the goal reaches it."""

import json

import gymnasium as gym
import numpy as np
import pytest

from jepa_agent import envs  # noqa: F401  (registers the reach envs)


@pytest.mark.parametrize("env_id", ["jepa_agent/Reach2D-v0", "jepa_agent/Reach3D-v0"])
def test_the_servo_reaches_every_goal_and_says_when(reach_reference, env_id):
    env = gym.make(env_id)
    records = reach_reference.servo_episodes(env, 6, 0, tau=0.04)
    assert [r["seed"] for r in records] == list(range(6))
    for r in records:
        assert r["success"] and r["success_any"], r
        assert 0 <= r["arrival"] < env.spec.max_episode_steps and r["final_distance"] < env.unwrapped.success_threshold
    s = reach_reference.summary(records)
    assert s["success_rate"] == 1.0 and s["arrival_max"] == max(r["arrival"] for r in records)


def test_a_slow_servo_arrives_later(reach_reference):
    """A longer time constant commands lower speeds near the goal: never an earlier arrival."""
    env = gym.make("jepa_agent/Reach3D-v0")
    fast = [r["arrival"] for r in reach_reference.servo_episodes(env, 4, 0, tau=0.04)]
    slow = [r["arrival"] for r in reach_reference.servo_episodes(env, 4, 0, tau=0.3)]
    assert np.all(np.asarray(slow) >= np.asarray(fast)) and sum(slow) > sum(fast)


def test_compare_splits_an_agents_far_success_by_the_servos_arrival(reach_reference, tmp_path):
    """Known answer: an agent that succeeds exactly where the servo arrives before step 25."""
    records = [{"seed": s, "arrival": a, "start_distance": d} for s, a, d in
               [(1, 20, 0.9), (2, 30, 0.8), (3, 40, 0.7), (4, None, 0.6)]]
    far = records  # all four
    agent = tmp_path / "eval.json"
    ended = {1: (True, 0.01), 2: (True, 0.07), 3: (False, 0.12), 4: (False, 0.3)}  # success_any, final distance
    agent.write_text(json.dumps({"records": [
        {"seed": r["seed"], "success": r["arrival"] is not None and r["arrival"] < 25,
         "success_any": ended[r["seed"]][0], "final_distance": ended[r["seed"]][1]} for r in records]}))
    (row,) = reach_reference.compare(records, far, [str(agent)], bins=[25, 35], threshold=0.05)
    assert row["far_success_rate"] == 0.25
    assert [(b["goals"], b["success_rate"]) for b in row["by_arrival"]] == [(1, 1.0), (1, 0.0), (2, 0.0)]
    # the three misses: seed 2 was within 5 cm and left and alone ends within 10 cm; median 0.12
    assert (row["misses"], row["misses_touched"], row["misses_within_2x"]) == (3, 1, 1)
    assert row["miss_final_distance_median"] == pytest.approx(0.12)
    agent.write_text('{"records": [{"seed": 1, "success": true}]}')
    with pytest.raises(SystemExit, match="no episode with seed 2"):
        reach_reference.compare(records, far, [str(agent)], bins=[25, 35], threshold=0.05)
