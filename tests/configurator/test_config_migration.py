"""Configs written before the exploration fields had a section of their own still load: files,
overrides, checkpoints and attribute reads, each with a DeprecationWarning naming the new key."""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest
import yaml

from jepa_agent import envs  # noqa: F401  (registers the reach envs)
from jepa_agent.agent import Agent
from jepa_agent.agent.checkpoint import read_file, write_file
from jepa_agent.configurator import AgentConfig, ConfigError, TrainingConfig
from jepa_agent.configurator.config import MOVED_TO_EXPLORATION
from jepa_agent.configurator.loading import apply_overrides, load_config, validate_config

OLD = {"exploration_std": 0.1, "random_action_repeat": 3, "collect_planner": {"name": "mppi"},
       "collect_cost": {"effort_weight": 0.5}, "epistemic_weight": -1.0, "epistemic_decay_steps": 100,
       "practice_goals": 0.5, "practice_candidates": 32, "practice_explore": True, "practice_frontier": "sparse",
       "practice_achieve": 0.25}
NEW = {"std": 0.1, "random_repeat": 3, "planner": {"name": "mppi"}, "cost": {"effort_weight": 0.5},
       "epistemic_weight": -1.0, "epistemic_decay_steps": 100, "practice_goals": 0.5, "practice_candidates": 32,
       "practice_explore": True, "practice_frontier": "sparse", "practice_achieve": 0.25}


def test_every_old_key_is_listed_with_its_new_name():
    """The table of moved keys names every exploration field once, and no training field."""
    assert sorted(MOVED_TO_EXPLORATION.values()) == sorted(NEW) == sorted(TrainingConfig.model_fields["exploration"]
                                                                           .annotation.model_fields)
    assert set(MOVED_TO_EXPLORATION) == set(OLD) and not set(OLD) & set(TrainingConfig.model_fields)


def test_a_file_with_the_old_keys_loads_as_the_new_section(tmp_path):
    """training.practice_goals & co. in a file become training.exploration.*, with a warning naming each new key."""
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump({"training": {"batch_size": 32, **OLD}}))
    new.write_text(yaml.safe_dump({"training": {"batch_size": 32, "exploration": NEW}}))
    with pytest.warns(DeprecationWarning) as caught:
        loaded = load_config(old)
    text = " ".join(str(w.message) for w in caught)
    assert "training.practice_goals is now training.exploration.practice_goals" in text
    assert "training.collect_planner is now training.exploration.planner" in text
    assert loaded == load_config(new) and loaded.training.batch_size == 32


def test_an_override_with_an_old_key_sets_the_new_one():
    """--training.practice_goals=0.5 (and a module option under the old planner key) still work, with a warning."""
    with pytest.warns(DeprecationWarning, match="training.practice_goals is now training.exploration.practice_goals"):
        config = apply_overrides(AgentConfig(), {"training.practice_goals": 0.5})
    assert config.training.exploration.practice_goals == 0.5
    with pytest.warns(DeprecationWarning, match="training.exploration.planner"):
        config = apply_overrides(AgentConfig(), {"training.collect_planner.samples": 16})
    assert config.training.exploration.planner.options["samples"] == 16
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new keys warn about nothing
        assert apply_overrides(AgentConfig(), {"training.exploration.practice_goals": 0.5}) == config.with_overrides(
            {"training.exploration.planner.samples": 128, "training.exploration.practice_goals": 0.5})


def test_an_old_and_a_new_key_for_one_field_are_refused():
    """Giving training.practice_goals and training.exploration.practice_goals together is an error naming both."""
    with pytest.raises(ConfigError, match="training.practice_goals is training.exploration.practice_goals, which is given too"):
        validate_config({"training": {"practice_goals": 0.5, "exploration": {"practice_goals": 0.2}}})


def test_the_old_attribute_names_read_the_new_fields():
    """config.training.practice_goals reads training.exploration.practice_goals, with a warning."""
    config = AgentConfig.model_validate({"training": {"exploration": NEW}})
    for old, new in MOVED_TO_EXPLORATION.items():
        with pytest.warns(DeprecationWarning, match=f"training.{old} is now training.exploration.{new}"):
            assert getattr(config.training, old) == getattr(config.training.exploration, new)


def test_a_checkpoint_saved_with_the_old_keys_loads(tmp_path):
    """A checkpoint whose config has the flat exploration keys loads, its exploration section filled from them."""
    config = AgentConfig().with_overrides({"encoder.hidden_dim": 16, "world_model.hidden_dim": 16,
                                           "training.exploration.cost": {"effort_weight": 0.3},
                                           "training.exploration.std": 0.05})
    Agent.from_config(config, gym.make("jepa_agent/Reach2D-v0")).save(tmp_path / "a.safetensors")
    state = read_file(tmp_path / "a.safetensors")
    training = state["config"]["training"]
    exploration = training.pop("exploration")
    training.update({old: exploration[new] for old, new in MOVED_TO_EXPLORATION.items()})
    write_file(tmp_path / "a.safetensors", state)
    with pytest.warns(DeprecationWarning, match="training.exploration_std is now training.exploration.std"):
        loaded = Agent.load(tmp_path / "a.safetensors")
    assert loaded.config == config
