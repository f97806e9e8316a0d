"""benchmarks.diagnostics.plan_audit: which part a planner's choice rests on, by known answers."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from tests.agent.test_agent_unit import tiny_config


@pytest.mark.parametrize(("costs", "expected"), [
    ((1.0, 2.0, 3.0, 1.0), "model"),   # the model prefers the plan; really it is worse
    ((1.0, 0.5, 3.0, 1.0), "search"),  # the model itself prefers the servo's plan
    ((1.0, 2.0, 1.0, 1.5), "fine"),    # the plan is really no worse
    ((1.0, 1.0, 1.0, 1.0), "fine"),    # ties go to the planner
])
def test_verdicts(plan_audit, costs, expected):
    assert plan_audit.verdict(*costs) == expected


def test_the_servos_plan_reaches_the_goal_and_a_replay_starts_where_it_is_told(plan_audit):
    env = gym.make("jepa_agent/Reach3D-v0")
    sim = gym.make("jepa_agent/Reach3D-v0")
    env.reset(seed=3)
    sim.reset(seed=3)
    state = env.unwrapped.get_physics_state()
    actions = plan_audit.servo_plan(sim, state, 50, tau=0.04)
    assert actions.shape == (50, 4) and np.all(np.abs(actions) <= 1.0)
    first = plan_audit.replay(sim, state, actions)
    second = plan_audit.replay(sim, state, actions)
    assert np.linalg.norm(first[-1]["achieved_goal"] - first[-1]["desired_goal"]) < env.unwrapped.success_threshold
    assert all(np.array_equal(a["observation"], b["observation"]) for a, b in zip(first, second, strict=True))
    for a in actions[:5]:  # the same actions stepped in the env itself land where the replay did
        obs = env.unwrapped.step(a)[0]
    np.testing.assert_allclose(obs["observation"], first[4]["observation"], atol=1e-6)


def test_a_perfect_model_is_never_blamed(plan_audit):
    """Known answer: a world model that predicts the target encoder's latents of what really
    happens (the env replayed) prices every plan as the truth does, so no decision is ``model``."""
    env, sim, replayer = (gym.make("jepa_agent/Reach2D-v0") for _ in range(3))
    torch.manual_seed(0)
    agent = Agent.from_config(tiny_config(), env)
    replayer.reset(seed=7)  # the same goal as the audited episode

    def perfect(s0, plans, z=None):
        state = env.unwrapped.get_physics_state()  # the decision's state: rollout runs before the step
        return torch.stack([agent.world_model.encode_target({k: torch.as_tensor(np.stack([o[k] for o in obs])).float()
                                                             for k in obs[0]})
                            for obs in (plan_audit.replay(replayer, state, p.numpy()) for p in plans)])

    agent.world_model.rollout = perfect
    record = plan_audit.audit_episode(agent, env, sim, seed=7, from_step=44, tau=0.04)
    assert [d["step"] for d in record["decisions"]] == list(range(44, 50))
    for d in record["decisions"]:
        assert d["verdict"] in ("search", "fine")
        assert d["model_plan"] == pytest.approx(d["true_plan"], rel=1e-5)
        assert d["model_servo"] == pytest.approx(d["true_servo"], rel=1e-5)
        assert d.get("servo_error_first_m", 0.0) == pytest.approx(0.0, abs=1e-5)
        assert d.get("servo_error_last_m", 0.0) == pytest.approx(0.0, abs=1e-5)
    assert any("servo_error_last_m" in d for d in record["decisions"])  # the servo moves the arm
    t = plan_audit.tally([record])
    assert t["decisions"] == 6 and t["model"] == 0.0 and t["search"] + t["fine"] == pytest.approx(1.0)
    assert t["optimism_plan"] == pytest.approx(0.0, abs=1e-5)


def test_goal_zscores_measure_the_goals_against_the_fitted_normalisation(plan_audit):
    """Known answer: a normalisation centred on one goal with unit spread puts that goal at 0
    and another at the largest absolute difference of their features."""
    env = gym.make("jepa_agent/Reach2D-v0")
    agent = Agent.from_config(tiny_config(), env)
    env.reset(seed=1)
    first = torch.as_tensor(env.unwrapped.goal_observation()["observation"]).float()
    env.reset(seed=2)
    second = torch.as_tensor(env.unwrapped.goal_observation()["observation"]).float()
    agent.world_model.encoder.in_mean.copy_(first)
    agent.world_model.encoder.in_std.fill_(1.0)
    z = plan_audit.goal_input_zscores(agent, env, [1, 2])
    np.testing.assert_allclose(z, [0.0, float((second - first).abs().max())], atol=1e-6)
