"""Faults while training: the episode ends, training goes on, nothing non-finite is kept."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.actor import CEM, CEMConfig, PlanProblem
from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import apply_overrides
from jepa_agent.envs.faults import InjectFaults

from .test_run_loop import TINY

ENV = "jepa_agent/Reach2D-v0"


def config(**over) -> AgentConfig:
    return apply_overrides(AgentConfig(), {**TINY, **over})


def finite_replay(agent: Agent) -> bool:
    batch = agent.replay.sample(256, 1, rng=np.random.default_rng(0))
    arrays = [*batch["obs"].values(), batch["actions"], batch["costs"]]
    return all(np.isfinite(a).all() for a in arrays if a.dtype.kind == "f")


def finite_weights(agent: Agent) -> bool:
    modules = (agent.world_model, agent.critic, agent.policy, agent.probe)
    return all(torch.isfinite(t).all() for m in modules if m is not None for t in m.state_dict().values())


@pytest.mark.parametrize(
    ("what", "kind"),
    [("raise", "env_error"), ("nan", "nonfinite_obs"), ("nan_reward", "nonfinite_reward"), ("explode", "sim_unstable")],
)
def test_an_env_fault_ends_the_episode_and_training_goes_on(what, kind):
    faulty = InjectFaults(gym.make(ENV), {30: what, 120: what})  # once while exploring, once while planning
    agent = Agent.from_config(config(), gym.make(ENV))
    history = agent.train([faulty, gym.make(ENV)], 300)
    assert agent.env_steps >= 300 and agent.updates > 0
    assert agent.faults == {kind: 2}
    ended = [e for e in history["episodes"] if e["fault"] is not None]
    assert [e["fault"] for e in ended] == [kind, kind]
    assert finite_replay(agent) and finite_weights(agent)
    assert 29 in agent.replay.episode_lengths()  # the faulted episode, kept up to the step before


class NaNForHalf(CEM):
    """A user planner whose cost is NaN for every other candidate."""

    def evaluate(self, problem, actions, z=None):
        costs = super().evaluate(problem, actions, z)
        costs = costs.clone()
        costs[:, ::2] = float("nan")
        return self._rank_nonfinite_last(costs)


def test_non_finite_candidate_costs_never_win():
    """Known answer: cost = -a (the largest action is best); the NaN candidates would win
    if their cost were read as anything but worst."""
    planner = CEM(CEMConfig(samples=64, iterations=1, elites=4))

    class World:  # a world model with identity dynamics in a 1-D latent
        latent_var_dim, latent_dim, action_dim = 0, 1, 1

        def rollout(self, s0, actions, z=None):
            return s0[:, None, :] + actions.cumsum(1)

    def cost(states, actions, goal):  # (B, N, K, H, D) -> (B, N, K)
        c = -states[..., 0].sum(-1)
        return torch.where(actions[..., 0].sum(-1) > 0, torch.full_like(c, float("nan")), c)

    problem = PlanProblem(
        s0=torch.zeros(3, 1), goal=torch.zeros(3, 1), horizon=4, action_low=torch.tensor([-1.0]),
        action_high=torch.tensor([1.0]), world_model=World(), cost=cost, generator=torch.Generator().manual_seed(0),
    )
    result = planner.plan(problem)
    assert torch.isfinite(result.actions).all() and torch.isfinite(result.cost).all()
    assert (result.actions.sum((1, 2)) <= 0).all()  # a NaN-cost candidate (positive sum) never won
    assert planner.take_faults()["nonfinite_cost"] > 0


def test_a_planner_of_nans_is_counted_and_acts_finite():
    agent = Agent.from_config(config(), gym.make(ENV))
    agent.actor.planner.__class__ = NaNForHalf
    agent.collect_actor.planner.__class__ = NaNForHalf
    agent.train([gym.make(ENV) for _ in range(2)], 300)
    assert agent.faults.get("nonfinite_cost", 0) > 0 and set(agent.faults) == {"nonfinite_cost"}
    assert finite_replay(agent) and finite_weights(agent)


def test_a_module_that_raises_while_acting_ends_the_episodes(monkeypatch):
    agent = Agent.from_config(config(), gym.make(ENV))
    real, calls = agent.collect_actor.act, []

    def sometimes(*a, **kw):
        calls.append(1)
        if len(calls) in (5, 40):
            raise RuntimeError("my encoder's CUDA kernel failed")
        return real(*a, **kw)

    monkeypatch.setattr(agent.collect_actor, "act", sometimes)
    history = agent.train([gym.make(ENV) for _ in range(2)], 300)
    assert agent.env_steps >= 300 and agent.faults == {"act_error": 2}
    assert sum(e["fault"] == "act_error" for e in history["episodes"]) == 4  # two envs, twice
    assert finite_replay(agent) and finite_weights(agent)


def test_non_finite_losses_never_reach_the_weights(monkeypatch):
    agent = Agent.from_config(config(), gym.make(ENV))
    real, calls = agent.world_model.loss, []

    def nan_loss(batch, **kw):
        loss, info = real(batch, **kw)
        calls.append(1)
        return (loss * float("nan") if len(calls) % 3 == 0 else loss), info

    monkeypatch.setattr(agent.world_model, "loss", nan_loss)
    agent.train([gym.make(ENV) for _ in range(2)], 300)
    assert agent.faults["nonfinite_loss"] == len(calls) // 3 > 0
    assert finite_weights(agent)


def test_an_update_that_raises_is_skipped_and_counted(monkeypatch):
    agent = Agent.from_config(config(), gym.make(ENV))
    real, calls = agent.critic.loss, []

    def raises_once(batch):
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("my critic's loss got a bad shape")
        return real(batch)

    monkeypatch.setattr(agent.critic, "loss", raises_once)
    agent.train([gym.make(ENV) for _ in range(2)], 300)
    assert agent.faults == {"update_error": 1} and agent.updates == len(calls) - 1


def test_a_broken_env_stops_training_with_an_error():
    broken = InjectFaults(gym.make(ENV), {t: "raise" for t in range(1, 10_000)})
    agent = Agent.from_config(config(), gym.make(ENV))
    with pytest.raises(RuntimeError, match="100 steps in a row had a fault"):
        agent.train([broken], 5000)


def test_actions_out_of_bounds_from_a_users_planner_are_refused():
    agent = Agent.from_config(config(), gym.make(ENV))
    env = gym.make(ENV)
    obs, info = env.reset(seed=0)
    agent.reset(goal=env.unwrapped.goal_observation())
    real = agent.actor.planner.plan

    def too_far(problem):
        result = real(problem)
        result.actions = result.actions * 0 + 3.0
        return result

    agent.actor.planner.plan = too_far
    with pytest.raises(ValueError, match=r"planner CEM returned actions outside the action space: .* got values from 3 to 3"):
        agent.act(obs)
