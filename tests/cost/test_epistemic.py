"""The epistemic cost term and the collection planner that seeks (or avoids) uncertainty."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent, loops
from jepa_agent.configurator import AgentConfig, ModuleSpec
from jepa_agent.configurator.collecting import epistemic_weight
from jepa_agent.configurator.loading import apply_overrides
from jepa_agent.cost import EpistemicDisagreement

from ..agent.test_run_loop import TINY


def test_the_term_scores_each_step_from_the_state_before_it():
    """Step t > 0 costs disagreement(s_{t-1}, a_t); step 0 costs 0; leading axes broadcast."""
    term = EpistemicDisagreement(lambda s, a: (s * a).sum(-1))
    states = torch.tensor([[[1.0], [2.0], [3.0]]])  # (1, H=3, D=1)
    actions = torch.tensor([[[[5.0], [7.0], [11.0]]]])  # (1, 1, H=3, A=1): broadcasts over N
    out = term(states, actions, torch.zeros(1, 1))
    assert out.shape == (1, 1, 3)
    torch.testing.assert_close(out[0, 0], torch.tensor([0.0, 1.0 * 7.0, 2.0 * 11.0]))


def ensemble_config(**over) -> AgentConfig:
    return apply_overrides(AgentConfig(), {**TINY, "world_model.ensemble_heads": 3, **over})


def test_collection_seeks_uncertainty_with_a_decaying_weight():
    """training.exploration.epistemic_weight < 0 adds the term to the collection cost only, and it decays to 0."""
    config = ensemble_config(**{"training.exploration.epistemic_weight": -2.0, "training.exploration.epistemic_decay_steps": 400})
    env = gym.make(config.task.env)
    agent = Agent.from_config(config, env)
    assert agent._epistemic is not None and len(agent.collect_actor.cost.terms) == len(agent.cost.terms) + 1
    history = agent.train([gym.make(config.task.env) for _ in range(2)], 300)
    assert agent.updates > 0 and "ensemble_loss" in history["updates"][-1]
    assert agent._epistemic.weight == pytest.approx(-2.0 * (1 - agent.env_steps / 400), abs=2 * 2.0 / 400 + 1e-9)
    assert epistemic_weight(agent.config.training.exploration, agent.env_steps) <= 0.0


def test_an_epistemic_weight_without_an_ensemble_is_refused():
    """Asking for the epistemic term of a world model without heads names the option to set."""
    config = apply_overrides(AgentConfig(), {**TINY, "training.exploration.epistemic_weight": -1.0})
    with pytest.raises(ValueError, match="ensemble_heads >= 2"):
        Agent.from_config(config, gym.make(config.task.env))
    with pytest.raises(ValueError, match="ensemble_heads"):
        apply_overrides(AgentConfig(), {**TINY, "world_model.ensemble_heads": 1})


def test_an_ensemble_changes_nothing_else():
    """Heads added after the predictor leave its initial weights as they were."""
    plain = Agent.from_config(apply_overrides(AgentConfig(), TINY), gym.make("jepa_agent/Reach2D-v0"))
    heads = Agent.from_config(ensemble_config(), gym.make("jepa_agent/Reach2D-v0"))
    for k, v in plain.world_model.state_dict().items():
        torch.testing.assert_close(v, heads.world_model.state_dict()[k], rtol=0, atol=0)


def test_practice_goals_come_from_the_replay_where_the_model_is_least_sure():
    """With practice_goals=1 every planner episode's goal is a replayed observation, the frontier's."""
    config = ensemble_config(**{"training.exploration.practice_goals": 1.0, "training.exploration.practice_candidates": 32})
    agent = Agent.from_config(config, gym.make(config.task.env))
    history = agent.train([gym.make(config.task.env) for _ in range(2)], 400)
    practised = [e for e in history["episodes"] if e["practice"]]
    assert practised and all(not e["random"] for e in practised)
    goal = agent._goal_obs[-1]["observation"]  # (B, F): the goals of the running episodes
    stored = np.concatenate([ep["obs"]["observation"] for ep in agent.replay.episodes()])
    for g in goal:
        assert np.min(np.abs(stored - g).max(1)) < 1e-6  # each is an observation the agent has had


def test_frontier_picks_the_most_uncertain_states():
    """Configurator.frontier ranks candidate states by the ensemble's disagreement."""
    from jepa_agent.configurator import Configurator

    class Fake:
        def disagreement(self, s, a):
            return s[..., 0] ** 2

    states = torch.tensor([[0.1], [3.0], [-2.0], [0.5]])
    idx = Configurator.frontier(states, Fake(), 2, action_low=-torch.ones(1), action_high=torch.ones(1))
    assert idx.tolist() == [1, 2]


def test_practice_goals_need_an_ensemble():
    """practice_goals without ensemble heads is refused with the option to set."""
    config = apply_overrides(AgentConfig(), {**TINY, "training.exploration.practice_goals": 0.5})
    with pytest.raises(ValueError, match="ensemble_heads >= 2"):
        Agent.from_config(config, gym.make(config.task.env))


@pytest.mark.parametrize("frontier", ["disagreement", "sparse"])
def test_practice_goals_on_a_goal_env_pursue_a_replayed_achieved_goal(frontier):
    """On a goal env (desired_goal, no goal observation) a practising episode's planner is asked
    for a replayed achieved_goal as its desired_goal, while the replay keeps the env's own."""
    from jepa_agent.agent.coverage import GoalCoverage
    from tests.agent.test_any_env import tiny
    from tests.agent.toy_envs import GoalLine

    extra = {"world_model": ModuleSpec(name="jepa", options={"hidden_dim": 32, "ensemble_heads": 3})}
    config = tiny(practice_goals=1.0, practice_candidates=16, practice_frontier=frontier)
    config = config.model_copy(update=extra if frontier == "disagreement" else {})
    lines = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(config, lines[0])
    agent.coverage = GoalCoverage(np.linspace(-1, 1, 21)[:, None], cells=20)
    asked = []
    act = agent._act
    agent._act = lambda obs, mode, actor: asked.append(obs["desired_goal"].copy()) or act(obs, mode, actor)
    history = agent.train(lines, 200)
    assert [e for e in history["episodes"] if e["practice"]]
    stored = np.concatenate([ep["obs"]["achieved_goal"] for ep in agent.replay.episodes()])
    env_goals = np.concatenate([ep["obs"]["desired_goal"] for ep in agent.replay.episodes()])
    assert all(np.min(np.abs(stored - g)) < 1e-6 for g in asked[-1])  # both envs practise a stored achieved goal
    assert np.all(np.abs(env_goals) <= 0.8 + 1e-6)  # the env's goals (|g| <= 0.8), not the practice ones, were stored
    for ep in agent.replay.episodes():  # the env's goal, the same at every step (a practice goal leaked nowhere)
        assert np.ptp(ep["obs"]["desired_goal"]) == 0


def test_sparse_frontier_picks_the_least_visited_cells():
    """practice_frontier=sparse ranks replayed states by the visits of their achieved_goal's cell."""
    from jepa_agent.agent.coverage import GoalCoverage
    from tests.agent.test_any_env import tiny
    from tests.agent.toy_envs import GoalLine

    config = tiny(practice_goals=1.0, practice_candidates=64, practice_frontier="sparse", random_steps=200)
    lines = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(config, lines[0])
    agent.coverage = GoalCoverage(np.linspace(-1, 1, 21)[:, None], cells=20)
    agent.train(lines, 200)  # random steps only: the replay fills, no practice yet
    chosen = loops._practice_goals(agent, 4)[0]["achieved_goal"]
    visits = agent.coverage.visits(np.concatenate([ep["obs"]["achieved_goal"] for ep in agent.replay.episodes()]))
    assert agent.coverage.visits(chosen).max() <= np.quantile(visits, 0.25)


def test_achiever_goals_are_spread_evenly_over_the_visited_cells():
    """practice_achieve=1 draws practice goals about equally often from every visited cell,
    however unevenly the replay visited them (the replay itself is far from even)."""
    from jepa_agent.agent.coverage import GoalCoverage
    from tests.agent.test_any_env import tiny
    from tests.agent.toy_envs import GoalLine

    config = tiny(practice_goals=1.0, practice_candidates=64, practice_frontier="sparse", practice_achieve=1.0,
                  random_steps=200)
    lines = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(config, lines[0])
    agent.coverage = GoalCoverage(np.linspace(-1, 1, 21)[:, None], cells=20)
    agent.train(lines, 200)  # random steps only: the replay fills, no practice yet
    stored = agent.coverage._ids(np.concatenate([ep["obs"]["achieved_goal"] for ep in agent.replay.episodes()]))
    cells, counts = np.unique(stored, return_counts=True)
    draws = [loops._practice_goals(agent, 8) for _ in range(250)]
    assert all(achieve.all() for _, achieve in draws)  # each one says it is the achiever's
    picked = agent.coverage._ids(np.concatenate([goals["achieved_goal"] for goals, _ in draws]))
    assert np.isin(picked, cells).all()
    share = np.array([(picked == c).mean() for c in cells])
    even = np.full(len(cells), 1 / len(cells))
    stored_tv, picked_tv = 0.5 * np.abs(counts / counts.sum() - even).sum(), 0.5 * np.abs(share - even).sum()
    assert stored_tv > 0.2  # the replay is uneven...
    assert picked_tv < 0.15 and picked_tv < stored_tv / 2  # ...the achiever's goals are not


def test_practice_goals_are_refused_on_a_reward_task():
    """A reward task has no goal to practise: refused before the first step."""
    from tests.agent.test_any_env import tiny
    from tests.agent.toy_envs import Line

    with pytest.raises(ValueError, match="needs a goal task"):
        Agent.from_config(tiny(practice_goals=0.5, practice_frontier="sparse"), Line())


def test_practice_then_explore_goes_random_once_the_practice_goal_is_reached():
    """training.exploration.practice_explore: practice episodes that reach their goal (within
    task.subgoal_threshold) act randomly for the rest; no other episode does."""
    from jepa_agent.agent.coverage import GoalCoverage
    from tests.agent.test_any_env import tiny
    from tests.agent.toy_envs import GoalLine

    # the latent goal energy: this tiny agent's round trip through the goal encoder and the
    # probe is too coarse for a 0.1 threshold at 600 steps (what is tested here is the switch)
    config = tiny({"cost": {"goal_space": "latent"}}, practice_goals=0.5, practice_frontier="sparse",
                  practice_explore=True)
    config = config.model_copy(update={"task": config.task.model_copy(update={"subgoal_threshold": 0.1})})
    lines = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(config, lines[0])
    agent.coverage = GoalCoverage(np.linspace(-1, 1, 21)[:, None], cells=20)
    history = agent.train(lines, 600)
    beyond = [e for e in history["episodes"] if e["beyond"]]
    assert beyond and all(e["practice"] for e in beyond)
    # planned, then random within one episode: only exploring past a reached practice goal does that
    switched = [m for m in (ep["planner_mask"] for ep in agent.replay.episodes()) if (m[:-1] & ~m[1:]).any()]
    assert switched


@pytest.mark.parametrize("achieve", [0.0, 1.0])
def test_practice_records_say_whose_goal_it_was(achieve, monkeypatch):
    """Records say which practice episodes pursued an achiever's goal (drawn over the visited
    cells); with every practice goal counted as reached at once, practice_explore sends
    both kinds past it."""
    from jepa_agent.agent.coverage import GoalCoverage
    from tests.agent.test_any_env import tiny
    from tests.agent.toy_envs import GoalLine

    config = tiny(practice_goals=1.0, practice_frontier="sparse", practice_explore=True, practice_achieve=achieve)
    lines = [GoalLine() for _ in range(2)]
    agent = Agent.from_config(config, lines[0])
    agent.coverage = GoalCoverage(np.linspace(-1, 1, 21)[:, None], cells=20)
    monkeypatch.setattr(loops, "_reached_practice", lambda agent, col: np.ones(col.steps.num_envs, dtype=bool))
    episodes = agent.train(lines, 300)["episodes"]
    practised = [e for e in episodes if e["practice"]]
    assert practised and all(e["achieve"] == bool(achieve) and e["beyond"] for e in practised)
    assert not any(e["achieve"] or e["beyond"] for e in episodes if not e["practice"])
