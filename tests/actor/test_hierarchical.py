"""The hierarchical planner: subgoals from the coarse level, replanning rule, composition."""

import pytest
import torch

from jepa_agent.actor import CEM, CEMConfig, HierarchicalConfig, HierarchicalPlanner, PlanProblem
from jepa_agent.configurator import AgentConfig, Configurator, ModuleSpec
from jepa_agent.cost import Cost, LatentGoalDistance
from jepa_agent.world_model import WorldModel

from .test_planners import PointMass

K = 4


class Jump(WorldModel):
    """The exact coarse model of PointMass: K steps of the mean action ``m``, ``s' = s + 0.1 K m``."""

    k = K

    def __init__(self) -> None:
        super().__init__()
        self.latent_dim, self.action_dim = 2, 2

    def step(self, s, a, z=None):
        return s + 0.1 * K * a


def planner(high_iterations: int = 4, **options) -> HierarchicalPlanner:
    cost = Cost([(LatentGoalDistance("l2"), 1.0)], gamma=1.0)
    cem = lambda n, i=4: CEM(CEMConfig(samples=n, iterations=i, elites=8))  # noqa: E731
    return HierarchicalPlanner(HierarchicalConfig(macro_steps=3, **options), high=cem(128, high_iterations), low=cem(64),
                               coarse_model=Jump(), coarse_cost=cost)


def problem(s0, goal, seed=0) -> PlanProblem:
    return PlanProblem(s0=s0, goal=goal, horizon=2, action_low=-torch.ones(2), action_high=torch.ones(2),
                       world_model=PointMass(), cost=Cost([(LatentGoalDistance("sq"), 1.0)], gamma=1.0),
                       generator=torch.Generator().manual_seed(seed))


def test_the_subgoal_is_the_first_coarse_step_toward_the_goal():
    """Goal 2.0 away along x: the top's first coarse latent is one full jump (0.1 K = 0.4) toward
    it, and the fine plan heads there."""
    hp = planner()
    result = hp.plan(problem(torch.zeros(1, 2), torch.tensor([[2.0, 0.0]])))
    torch.testing.assert_close(hp.subgoal, torch.tensor([[0.4, 0.0]]), atol=0.05, rtol=0)
    assert result.actions[0, 0, 0] > 0.5 and abs(float(result.actions[0, 0, 1])) < 0.5
    assert hp.last_high is not None and hp.last_high.states.shape == (1, 3, 2)  # the imagined subgoals


def test_direct_hands_a_goal_within_one_coarse_step_to_the_fine_level():
    """Goal 0.3 away (one jump reaches 0.4): with ``direct`` the fine level gets the goal
    itself; without, the top's first predicted latent (near the goal, but not it). A far
    goal gets the first jump either way (it makes a fifth of the plan's progress)."""
    near, far = torch.tensor([[0.3, 0.0]]), torch.tensor([[2.0, 0.0]])
    hp = planner(16, direct=0.9)
    hp.plan(problem(torch.zeros(1, 2), near))
    assert torch.equal(hp.subgoal, near)
    hp = planner(16)
    hp.plan(problem(torch.zeros(1, 2), near))
    assert not torch.equal(hp.subgoal, near) and hp.last_high is not None
    torch.testing.assert_close(hp.subgoal, hp.last_high.states[:, 0])
    hp = planner(16, direct=0.9)
    hp.plan(problem(torch.zeros(1, 2), far))
    torch.testing.assert_close(hp.subgoal, torch.tensor([[0.4, 0.0]]), atol=0.05, rtol=0)


def test_subgoal_step_picks_a_later_coarse_latent():
    hp = planner(subgoal_step=2)
    hp.plan(problem(torch.zeros(1, 2), torch.tensor([[2.0, 0.0]])))
    assert hp.last_high is not None
    torch.testing.assert_close(hp.subgoal, hp.last_high.states[:, 1])  # two jumps: about 0.8 along x
    assert 0.6 < float(hp.subgoal[0, 0]) < 0.9
    with pytest.raises(ValueError, match="subgoal_step must be at most macro_steps"):
        HierarchicalConfig(macro_steps=3, subgoal_step=4)


def test_new_subgoals_every_k_steps_at_episode_starts_and_when_reached():
    hp = planner(subgoal_threshold=0.05)
    calls = []
    plan = hp.high.plan
    hp.high.plan = lambda p: calls.append(p.s0.clone()) or plan(p)
    s, goal = torch.zeros(2, 2), torch.tensor([[2.0, 0.0], [0.0, -2.0]])
    for _ in range(2 * K - 1):
        hp.plan(problem(s, goal))
    assert len(calls) == 2  # steps 0 and K (the state does not move here: nothing is reached)
    before = hp.subgoal.clone()
    hp.reset(torch.tensor([True, False]))  # a new episode in env 0 only
    assert hp.due(s).tolist() == [True, False]
    hp.plan(problem(s, torch.tensor([[-2.0, 0.0], [0.0, -2.0]])))
    assert hp.subgoal[0, 0] < 0 and torch.equal(hp.subgoal[1], before[1])
    near = hp.subgoal + 0.01  # both envs now stand on their subgoal: replanned at once
    assert hp.due(near).tolist() == [True, True]


def test_the_configurator_composes_it_and_refuses_what_it_cannot_build():
    from jepa_agent.world_model import CoarseWorldModel, CoarseWorldModelConfig

    spec = ModuleSpec(name="hierarchical", options={"macro_steps": 2, "high": {"name": "mppi", "options": {"samples": 16}}})
    coarse = CoarseWorldModel(CoarseWorldModelConfig(k=3), latent_dim=4, primitive_dim=2)
    hp = Configurator.build_planner(spec, coarse_model=coarse)
    assert isinstance(hp, HierarchicalPlanner) and type(hp.high).__name__ == "MPPI" and hp.every == 3
    assert hp.coarse_cost.gamma == pytest.approx(0.9**3)  # K primitive steps per coarse step
    with pytest.raises(ValueError, match="coarse level"):
        Configurator.build_planner(spec)
    with pytest.raises(ValueError, match="needs a goal task"):
        Configurator.build_planner(spec, coarse_model=coarse, objective="reward")
    with pytest.raises(ValueError, match="coarse_world_model"):
        AgentConfig.model_validate({"task": {"planner": {"name": "hierarchical"}}})
    with pytest.raises(ValueError, match="samplez"):
        AgentConfig.model_validate({"task": {"planner": {"name": "hierarchical", "options": {
            "low": {"name": "cem", "options": {"samplez": 3}}}}}, "coarse_world_model": {"name": "jepa"}})
