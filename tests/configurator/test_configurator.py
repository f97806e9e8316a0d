"""Tests for configurator: configs, registries and plugins, building modules, subgoals."""

import json
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from pydantic import ValidationError

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.actor import CEM, Actor, ActorConfig, MLPPolicy, Planner
from jepa_agent.configurator import (
    PLANNERS,
    AgentConfig,
    Configurator,
    ModuleSpec,
    TaskSpec,
    action_bounds,
    observation_shapes,
)
from jepa_agent.cost import Cost, CostConfig, MLPCritic
from jepa_agent.perception import MLPEncoder
from jepa_agent.world_model import JEPAWorldModel

CPU = torch.device("cpu")


def tiny_config(**task) -> AgentConfig:
    return AgentConfig(
        task=TaskSpec(planner=ModuleSpec(name="cem", options={"samples": 16, "elites": 4}), **task),
        encoder=ModuleSpec(name="mlp", options={"latent_dim": 8, "hidden_dim": 16}),
        world_model=ModuleSpec(name="jepa", options={"hidden_dim": 16}),
        critic=ModuleSpec(name="mlp", options={"hidden_dim": 16}),
        policy=ModuleSpec(name="mlp", options={"hidden_dim": 16}),
        device="cpu",
    )


def test_defaults_validate():
    """The default AgentConfig validates and resolves every module."""
    cfg = AgentConfig()
    assert cfg.task.planner.name in PLANNERS.names
    assert AgentConfig.model_validate(cfg.model_dump()) == cfg


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_file_round_trip(tmp_path, suffix):
    """save -> load returns an equal config in YAML and JSON."""
    cfg = tiny_config().with_overrides({"task.actor.horizon": 7, "seed": 3, "task.cost.goal_norm": "l1"})
    path = tmp_path / f"agent{suffix}"
    cfg.save(path)
    assert AgentConfig.load(path) == cfg
    if suffix == ".json":
        assert json.loads(path.read_text())["seed"] == 3


def test_unknown_planner_suggests_closest():
    """An unknown planner name is refused naming it, the closest match and the known names."""
    with pytest.raises(ValueError) as err:
        TaskSpec(planner=ModuleSpec(name="cme"))
    msg = str(err.value)
    assert "unknown planner 'cme'" in msg and "did you mean 'cem'" in msg
    assert all(name in msg for name in PLANNERS.names)
    with pytest.raises(ValueError, match="unknown planner 'cme'; did you mean 'cem'"):
        PLANNERS.resolve("cme")


def test_misspelled_option_names_it_and_the_fix():
    """A misspelled option key is refused naming the key and the valid one it resembles."""
    with pytest.raises(ValueError) as err:
        TaskSpec(planner=ModuleSpec(name="cem", options={"sampels": 8}))
    assert "'sampels'" in str(err.value) and "'samples'" in str(err.value)


def test_bad_option_value_refused():
    """An out-of-range option value is refused before anything is built."""
    with pytest.raises(ValueError, match="samples"):
        TaskSpec(planner=ModuleSpec(name="mppi", options={"samples": 0}))


PLUGIN = textwrap.dedent(
    '''
    import torch
    from jepa_agent.actor import SamplingPlanner, SamplingPlannerConfig


    class HalfStepConfig(SamplingPlannerConfig):
        step: float = 0.5


    class HalfStep(SamplingPlanner):
        """Moves the mean halfway to the best sample."""

        config_class = HalfStepConfig

        def refit(self, samples, costs, mean, std):
            best = samples[torch.arange(samples.shape[0]), costs.argmin(1)]
            return mean + self.config.step * (best - mean), std


    class NotAPlanner:
        pass
    '''
)


@pytest.fixture()
def plugin_module(tmp_path, monkeypatch):
    name = "jepa_test_plugin_planners"
    (tmp_path / f"{name}.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_import_path_plugin_resolves_and_builds(plugin_module):
    """A user's Planner subclass plugs in by "module:Class" with its own validated config."""
    spec = ModuleSpec(name=f"{plugin_module}:HalfStep", options={"step": 0.25, "samples": 8})
    task = TaskSpec(planner=spec)
    planner = Configurator.build_planner(task.planner)
    assert isinstance(planner, Planner) and type(planner).__name__ == "HalfStep"
    assert planner.config.step == 0.25 and planner.config.samples == 8
    with pytest.raises(ValueError, match="'stpe'.*'step'"):
        TaskSpec(planner=ModuleSpec(name=f"{plugin_module}:HalfStep", options={"stpe": 1}))


def test_import_path_non_planner_refused(plugin_module):
    """A class that is not a Planner, or a missing module/attribute, is refused clearly."""
    with pytest.raises(ValueError, match="must be a subclass of Planner"):
        PLANNERS.resolve(f"{plugin_module}:NotAPlanner")
    with pytest.raises(ValueError, match="has no attribute 'Nope'"):
        PLANNERS.resolve(f"{plugin_module}:Nope")
    with pytest.raises(ValueError, match="cannot import"):
        PLANNERS.resolve("no_such_module_xyz:Planner")


def test_with_overrides():
    """Dotted overrides make a new config; an unknown key raises; the original is unchanged."""
    cfg = tiny_config()
    new = cfg.with_overrides({"task.actor.horizon": 7, "task.planner.options.samples": 32})
    assert new.task.actor.horizon == 7 and new.task.planner.options["samples"] == 32
    assert cfg.task.actor.horizon == ActorConfig().horizon
    with pytest.raises(ValueError, match="task.nope.horizon"):
        cfg.with_overrides({"task.nope.horizon": 3})
    with pytest.raises(ValueError, match="horizn"):
        cfg.with_overrides({"task.actor.horizn": 3})


def test_configs_are_frozen():
    """Assigning to a config field raises, at every level."""
    cfg = tiny_config()
    with pytest.raises(ValidationError):
        cfg.seed = 5
    with pytest.raises(ValidationError):
        cfg.task.actor.horizon = 3
    with pytest.raises(ValidationError):
        cfg.training.lr = 1.0


@pytest.fixture(scope="module")
def reach2d():
    env = gym.make("jepa_agent/Reach2D-v0")
    yield env
    env.close()


def build(reach2d, cfg=None):
    low, high = action_bounds(reach2d.action_space, CPU)
    conf = Configurator(
        cfg or tiny_config(), input_shapes=observation_shapes(reach2d.observation_space),
        action_low=low, action_high=high, device=CPU,
    )
    torch.manual_seed(0)
    return conf, conf.build()


def test_build_with_reach2d_spaces(reach2d):
    """build() gives modules of the configured types with the env's dimensions."""
    _, m = build(reach2d)
    assert isinstance(m.encoder, MLPEncoder) and m.encoder.input_dim == 8 and m.encoder.latent_dim == 8
    assert isinstance(m.world_model, JEPAWorldModel) and m.world_model.encoder is m.encoder
    assert m.world_model.action_dim == 2 and m.world_model.latent_dim == 8
    assert isinstance(m.critic, MLPCritic) and isinstance(m.policy, MLPPolicy)
    assert m.policy.action_dim == 2
    assert isinstance(m.cost, Cost) and m.cost.critic is m.critic
    assert isinstance(m.planner, CEM) and m.planner.config.samples == 16
    assert isinstance(m.actor, Actor) and m.actor.planner is m.planner
    assert m.actor.horizon == tiny_config().task.actor.horizon


def test_build_without_critic_and_policy(reach2d):
    """critic=None and policy=None build a planner-only agent."""
    cfg = tiny_config().model_copy(update={"critic": None, "policy": None})
    _, m = build(reach2d, cfg)
    assert m.critic is None and m.policy is None and m.cost.critic is None
    assert not m.actor.use_policy_proposals


def goal_obs(achieved: list[list[float]]) -> dict[str, torch.Tensor]:
    ag = torch.tensor(achieved)
    B = ag.shape[0]
    return {"observation": torch.randn(B, 8), "achieved_goal": ag, "desired_goal": ag.clone()}


def test_subgoals_advance_only_when_reached(reach2d):
    """advance_goals switches an env only within subgoal_threshold of its subgoal, and stops at the last."""
    conf, m = build(reach2d, tiny_config(subgoal_threshold=0.05))
    g0 = goal_obs([[0.1, 0.1], [0.1, 0.1]])
    g1 = goal_obs([[0.3, 0.0], [0.3, 0.0]])
    first = conf.set_goals([g0, g1], m.world_model)
    latents = torch.stack([m.world_model.encode_target(g) for g in (g0, g1)])  # (L, B, D)
    torch.testing.assert_close(first, latents[0])
    s = torch.zeros(2, 8)
    # env 0 is within 0.05 of subgoal 0, env 1 is 0.1 away
    conf.advance_goals({"achieved_goal": torch.tensor([[0.12, 0.1], [0.2, 0.1]])}, s)
    assert conf.goal_index.tolist() == [1, 0]
    torch.testing.assert_close(conf.goal_latent(), torch.stack([latents[1, 0], latents[0, 1]]))
    # env 0 reaches the last subgoal and stays there; env 1 still has not reached subgoal 0
    conf.advance_goals({"achieved_goal": torch.tensor([[0.3, 0.0], [0.3, 0.0]])}, s)
    assert conf.goal_index.tolist() == [1, 0]
    conf.advance_goals({"achieved_goal": torch.tensor([[0.3, 0.0], [0.1, 0.1]])}, s)
    assert conf.goal_index.tolist() == [1, 1]
    conf.advance_goals({"achieved_goal": torch.tensor([[0.3, 0.0], [0.3, 0.0]])}, s)
    assert conf.goal_index.tolist() == [1, 1]


def test_goal_latent_before_set_goals_raises(reach2d):
    """Asking for the goal latent before set_goals raises RuntimeError."""
    conf, _ = build(reach2d)
    with pytest.raises(RuntimeError, match="set_goals"):
        conf.goal_latent()


def test_action_bounds_refuses_discrete_and_infinite():
    """action_bounds refuses Discrete and unbounded Box spaces with clear messages."""
    with pytest.raises(ValueError, match="1-D continuous Box"):
        action_bounds(spaces.Discrete(3), CPU)
    with pytest.raises(ValueError, match="finite action bounds"):
        action_bounds(spaces.Box(-np.inf, np.inf, (2,), np.float32), CPU)
    low, high = action_bounds(spaces.Box(np.array([-1, -0.5], np.float32), np.array([0.5, 2.0], np.float32)), CPU)
    assert low.tolist() == [-1.0, -0.5] and high.tolist() == [0.5, 2.0]


def test_observation_shapes():
    """observation_shapes maps Dict keys to shapes and a flat Box to the key 'observation'."""
    d = spaces.Dict({"a": spaces.Box(0, 1, (3,)), "b": spaces.Box(0, 1, (2, 2))})
    assert observation_shapes(d) == {"a": (3,), "b": (2, 2)}
    assert observation_shapes(spaces.Box(0, 1, (5,))) == {"observation": (5,)}


def test_override_below_a_scalar_is_an_unknown_key():
    """A dotted key that descends into a scalar field raises ValueError naming the key."""
    with pytest.raises(ValueError, match="seed.x"):
        AgentConfig().with_overrides({"seed.x": 1})


SAMPLING_PLUGIN = textwrap.dedent(
    '''
    from jepa_agent.actor import SamplingPlanner


    class KeepMean(SamplingPlanner):
        """A sampling planner that only overrides refit (the documented override point)."""

        def refit(self, samples, costs, mean, std):
            return mean, std
    '''
)


def test_sampling_planner_subclass_gets_sampling_config(tmp_path, monkeypatch):
    """A SamplingPlanner subclass that only overrides refit accepts the sampling options."""
    name = "jepa_test_plugin_keepmean"
    (tmp_path / f"{name}.py").write_text(SAMPLING_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        planner = Configurator.build_planner(ModuleSpec(name=f"{name}:KeepMean", options={"samples": 8}))
        assert planner.config.samples == 8
    finally:
        sys.modules.pop(name, None)


def test_critic_gamma_must_match_cost_gamma():
    """A critic discounting differently from the cost is refused with both values named."""
    with pytest.raises(ValueError, match=r"critic gamma must equal task.cost.gamma=0.8.*got 0.9"):
        tiny_config(cost=CostConfig(gamma=0.8))

