"""agent/loops.py's evaluate: the one episode loop, its reset options and its per-step hook."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_agent.agent import Agent
from jepa_agent.agent.loops import PolicyController, evaluate

from .test_any_env import tiny
from .toy_envs import GoalLine


@pytest.fixture(scope="module")
def agent() -> Agent:
    envs = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(tiny(), envs[0])
    agent.train(envs, 80)
    return agent


def run(agent: Agent, env, episodes: int, **kw) -> dict:
    agent.generator.manual_seed(0)
    return evaluate(agent, env, episodes, seed=7, **kw)


def test_agent_evaluate_is_the_loop(agent):
    """Agent.evaluate forwards to loops.evaluate: the same records for the same seed."""
    agent.generator.manual_seed(0)
    a = agent.evaluate(GoalLine(), 3, seed=7)
    b = run(agent, GoalLine(), 3)
    assert a["records"] == b["records"] and a["success_rate"] == b["success_rate"]


@pytest.mark.parametrize("B", [1, 2])
def test_each_episode_gets_its_reset_options(agent, B):
    """Episode i starts where reset_options(i) says, on one env or two (the goals move too)."""
    goals = [-0.6, -0.2, 0.3, 0.7]
    starts = {}

    def on_step(agent, view):
        for i, ep in enumerate(view.episodes):
            if ep is not None:
                starts.setdefault(ep, float(view.obs["desired_goal"][i][0]))
        return None

    env = GoalLine() if B == 1 else [GoalLine() for _ in range(B)]
    result = run(agent, env, 4, reset_options=lambda i: {"goal": goals[i]}, on_step=on_step)
    assert [round(starts[i], 5) for i in range(4)] == goals
    assert [r["seed"] for r in result["records"]] == [7, 8, 9, 10]
    with_list = run(agent, env, 4, reset_options=[{"goal": g} for g in goals])
    assert with_list["records"] == result["records"]


def test_without_options_the_episodes_are_the_seeded_ones(agent):
    """reset_options None and all-None options run the same episodes."""
    plain = run(agent, GoalLine(), 2)
    nones = run(agent, GoalLine(), 2, reset_options=[None, None])
    assert plain["records"] == nones["records"]


def test_on_step_sees_every_step_and_can_end_episodes(agent):
    """on_step is called once per step with each env's episode; a mask it returns ends those
    episodes after that step, and the next episodes still run in full."""
    calls = []

    def stop_first_after_3(agent, view):
        calls.append(list(view.episodes))
        return np.array([ep == 0 and sum(c[0] == 0 for c in calls) == 3 for ep in view.episodes])

    result = run(agent, GoalLine(length=6), 2, on_step=stop_first_after_3)
    assert [r["length"] for r in result["records"]] == [3, 6]
    assert len(calls) == 9 and calls[:3] == [[0], [0], [0]] and calls[3:] == [[1]] * 6


def test_on_step_can_stop_at_the_first_success(agent):
    """A hook that ends each episode at its first success: those episodes end there, with
    success at their last step; the others run to the time limit."""
    first = {}

    lengths = {}

    def at_success(agent, view):
        hit = np.array([info.get("success", 0.0) > 0 for info in view.step.infos])
        for i, ep in enumerate(view.episodes):
            lengths[ep] = int(view.length[i])
            if hit[i]:
                first.setdefault(ep, None)
        return hit

    result = run(agent, GoalLine(length=30), 4, reset_options=lambda i: {"start": 0.0, "goal": 0.15 * (i + 1)},
                 on_step=at_success)
    assert first, "no episode reached its goal: the test says nothing"
    for ep, r in enumerate(result["records"]):
        assert r["length"] == lengths[ep]
        assert (r["success_final"] == 1.0) == (ep in first) and (ep in first or r["length"] == 30)


def test_a_task_given_to_evaluate_is_planned_with(agent):
    """evaluate(task=...) plans under that task from the first step (here: MPPI's budget)."""
    task = agent.task.model_copy(update={"planner": agent.task.planner.model_copy(
        update={"name": "mppi", "options": {"samples": 16, "iterations": 1}})})
    seen = []
    run(agent, GoalLine(length=3), 1, task=task, on_step=lambda agent, view: seen.append(type(agent.planner).__name__))
    assert seen == ["MPPI"] * 3


def servo(obs) -> np.ndarray:
    """A hand-coded controller of GoalLine: full speed toward the goal, slowing within 0.1. (B, 1)"""
    return np.clip(10 * (obs["desired_goal"] - obs["achieved_goal"]), -1, 1).astype(np.float32)


def reference_returns(episodes: int, seed: int) -> list[float]:
    """The servo's returns by a plain loop: reset with seed + i, step until the episode ends."""
    env, out = GoalLine(), []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(servo({k: v[None] for k, v in obs.items()})[0])
            total += float(reward)
            done = terminated or truncated
        out.append(total)
    return out


@pytest.mark.parametrize("B", [1, 2])
def test_a_policy_controller_runs_the_same_episodes_as_a_plain_loop(B):
    """Any policy goes through the one loop: the returns equal a reference loop's, bit for bit,
    on one env or two, and on_reset sees every env begin its episodes (None: all of them)."""
    begun = []
    controller = PolicyController(servo, on_reset=lambda rows: begun.append(None if rows is None else rows.tolist()))
    env = GoalLine() if B == 1 else [GoalLine() for _ in range(B)]
    result = evaluate(controller, env, 5, seed=3)
    assert [r["return"] for r in result["records"]] == reference_returns(5, 3)
    assert [r["seed"] for r in result["records"]] == [3, 4, 5, 6, 7] and result["success_rate"] == 1.0
    assert begun[0] is None and sum(B if b is None else sum(b) for b in begun) >= 5


def test_a_policy_controller_repeats_actions_and_has_no_task():
    """action_repeat=2 steps the env twice per action (the records count env steps); a task is refused."""
    calls = []
    controller = PolicyController(lambda obs: calls.append(1) or servo(obs), action_repeat=2)
    result = evaluate(controller, GoalLine(length=20), 1, seed=0)
    assert result["records"][0]["length"] == 20 and len(calls) == 10
    with pytest.raises(ValueError, match="no task to change"):
        evaluate(controller, GoalLine(), 1, task=tiny().task)
    with pytest.raises(ValueError, match="success must be 'final' or 'any'"):
        PolicyController(servo, success="best")
