"""configurator.resolve: every auto of a config decided once, from named facts."""

from __future__ import annotations

import sys
import textwrap

import gymnasium as gym
import pytest

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.configurator import AgentConfig, ModuleSpec
from jepa_agent.configurator.resolve import Facts, resolve, sets_own_subgoals

GOAL_OBS = Facts(frozenset({"observation", "achieved_goal", "desired_goal"}))  # Reach2D: a goal observation too
FLAT = Facts(frozenset({"observation"}), has_goal_observation=False)  # Reacher: a reward task
MAZE = Facts(GOAL_OBS.observation_keys, has_goal_observation=False)  # PointMaze: the goal is desired_goal
HIER = {"task.planner": {"name": "hierarchical"}, "coarse_world_model": {"name": "jepa", "options": {"k": 4}}}


def decided(config: AgentConfig) -> tuple:
    """The values resolve decides, as a tuple."""
    return (config.device, config.task.objective, config.task.cost.goal_space,
            config.world_model.options.get("temporal_coef"), config.critic.options.get("nonnegative"),
            config.goal_encoder.options.get("normalize_output"))


@pytest.mark.parametrize(("facts", "expected"), [
    (GOAL_OBS, ("cpu", "goal", "latent", 1.0, True, True)),
    (FLAT, ("cpu", "reward", "latent", 0.0, False, True)),
    (MAZE, ("cpu", "goal", "probe", 1.0, True, True)),
    (Facts(MAZE.observation_keys, cuda_available=True), ("cuda", "goal", "latent", 1.0, True, True)),
])
def test_every_auto_of_the_defaults_is_decided_from_the_facts(facts, expected):
    """device, objective, goal space and the options left None get the value the facts call for."""
    assert decided(resolve(AgentConfig(), facts)) == expected


def test_goal_space_follows_the_goal_the_probe_and_the_planner():
    """The probe measures a desired_goal position only with a goal encoder, a probe of achieved_goal,
    and a planner that sets no subgoal latents of its own; latent otherwise."""
    space = lambda overrides, facts=MAZE: resolve(AgentConfig().with_overrides(overrides), facts).task.cost.goal_space  # noqa: E731
    assert space({}) == "probe"
    assert space({}, GOAL_OBS) == "latent"
    assert space({"goal_encoder": None}) == "latent"
    assert space({"probe": None}) == "latent"
    assert space({"probe.key": "observation"}) == "latent"
    assert space(HIER) == "latent"
    assert space({"cost.goal_space": "latent"}) == "latent"
    assert space({"cost.goal_space": "probe"}, GOAL_OBS) == "probe"


SUBGOAL_PLUGIN = textwrap.dedent(
    '''
    from typing import ClassVar

    from jepa_agent.actor import CEM, CEMConfig


    class SubgoalConfig(CEMConfig):
        sets_subgoals: ClassVar[bool] = True


    class Subgoals(CEM):
        """A planner whose config declares that it sets subgoal latents of its own."""

        config_class = SubgoalConfig
    '''
)


def test_a_planner_that_sets_subgoals_says_so_in_its_config_class(tmp_path, monkeypatch):
    """Whether a planner sets its own subgoals is its config class's declaration, not its name."""
    name = "jepa_test_plugin_subgoals"
    (tmp_path / f"{name}.py").write_text(SUBGOAL_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert sets_own_subgoals(ModuleSpec(name=f"{name}:Subgoals"))
        assert sets_own_subgoals(ModuleSpec(name="hierarchical"))
        assert not sets_own_subgoals(ModuleSpec(name="cem"))
        config = AgentConfig().with_overrides({"planner": f"{name}:Subgoals"})
        assert resolve(config, MAZE).task.cost.goal_space == "latent"
    finally:
        sys.modules.pop(name, None)


def test_the_collection_cost_is_decided_for_the_collection_planner():
    """A collection cost of its own (exploration.cost) gets the goal space of the planner that collects."""
    config = AgentConfig().with_overrides({**HIER, "training.exploration.cost": {"effort_weight": 0.02}})
    resolved = resolve(config, MAZE)
    assert resolved.task.cost.goal_space == "latent"  # the hierarchical task planner's
    assert resolved.training.exploration.cost == {"effort_weight": 0.02, "goal_space": "probe"}  # CEM collects
    empty = config.with_overrides({"training.exploration.cost": {}})
    assert resolve(empty, MAZE).training.exploration.cost == {}


def test_given_values_are_kept_and_resolving_twice_changes_nothing():
    """Concrete values stay as given; a resolved config resolves to itself."""
    config = AgentConfig().with_overrides({"device": "cpu", "task.objective": "both", "cost.goal_space": "latent",
                                           "world_model.temporal_coef": 0.5, "critic.nonnegative": False,
                                           "goal_encoder.normalize_output": False})
    assert decided(resolve(config, MAZE)) == ("cpu", "both", "latent", 0.5, False, False)
    once = resolve(AgentConfig(), MAZE)
    assert resolve(once, MAZE) == once and resolve(once, GOAL_OBS) == once
    assert resolve(AgentConfig().with_overrides({"critic": None, "goal_encoder": None}), MAZE).critic is None


def test_the_agent_builds_from_the_resolved_config_and_saves_the_given_one(tmp_path):
    """The modules see concrete values; agent.config, and so the checkpoint, keeps the autos, and
    the loaded agent resolves them again to the same config."""
    config = AgentConfig().with_overrides({"encoder.hidden_dim": 16, "world_model.hidden_dim": 16, "actor.samples": 8})
    agent = Agent.from_config(config, gym.make("jepa_agent/Reach2D-v0"))
    assert agent.config == config and agent.config.device == "auto" and agent.config.task.objective == "auto"
    resolved = agent.configurator.config
    assert resolved == resolve(config, agent.configurator.facts)
    assert (resolved.task.objective, resolved.task.cost.goal_space) == ("goal", "latent")
    assert agent.world_model.config.temporal_coef == 1.0 and agent.critic.config.nonnegative is True
    agent.save(tmp_path / "agent.safetensors")
    loaded = Agent.load(tmp_path / "agent.safetensors")
    assert loaded.config == config and loaded.configurator.config == resolved


def test_a_new_task_is_resolved_as_the_first_was():
    """Agent.reset(task) resolves the new task's autos; the agent's objective follows it."""
    config = AgentConfig().with_overrides({"encoder.hidden_dim": 16, "world_model.hidden_dim": 16,
                                           "task.objective": "goal"})
    agent = Agent.from_config(config, gym.make("jepa_agent/Reach2D-v0"))
    env = gym.make("jepa_agent/Reach2D-v0")
    _, info = env.reset(seed=0)
    agent.reset(config.task.model_copy(update={"objective": "auto"}), goal=info["goal_observation"])
    assert agent.configurator.objective == "goal" == agent.configurator.config.task.objective
    assert agent.configurator.given.task.objective == "auto"
