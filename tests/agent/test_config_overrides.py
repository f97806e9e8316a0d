"""Config files and command-line overrides: short keys, module options, errors naming the key."""

from __future__ import annotations

import pytest

from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import (
    ConfigError,
    apply_overrides,
    canonical_key,
    load_config,
    parse_override_tokens,
    split_world_model_options,
)


def test_parse_tokens_reads_yaml_values():
    """--k=v and --k v both parse; values are YAML scalars; dashes in keys become underscores."""
    got = parse_override_tokens(["--actor.horizon=8", "--seed", "3", "--critic=null", "--task.env-kwargs.reward_type=sparse"])
    assert got == {"actor.horizon": 8, "seed": 3, "critic": None, "task.env_kwargs.reward_type": "sparse"}
    with pytest.raises(ConfigError, match="needs a value"):
        parse_override_tokens(["--seed"])
    with pytest.raises(ConfigError, match="expected an override"):
        parse_override_tokens(["seed=3"])


@pytest.mark.parametrize(
    ("key", "full"),
    [
        ("env", "task.env"),
        ("planner", "task.planner.name"),
        ("actor.planner", "task.planner.name"),
        ("actor.horizon", "task.actor.horizon"),
        ("actor.samples", "task.planner.options.samples"),
        ("planner.iterations", "task.planner.options.iterations"),
        ("cost.goal_norm", "task.cost.goal_norm"),
        ("encoder.latent_dim", "encoder.options.latent_dim"),
        ("task.planner.samples", "task.planner.options.samples"),
        ("task.planner.options.samples", "task.planner.options.samples"),
        ("training.exploration.planner.samples", "training.exploration.planner.options.samples"),
        ("task.env_kwargs.reward_type", "task.env_kwargs.reward_type"),
        ("seed", "seed"),
    ],
)
def test_short_keys_resolve_to_full_keys(key, full):
    """Every documented short form resolves to its full dotted key."""
    assert ".".join(canonical_key(key, AgentConfig().model_dump(mode="json"))) == full


def test_issue_example_overrides():
    """--actor.planner=mppi --actor.samples=512 selects MPPI with 512 samples, other fields untouched."""
    cfg = apply_overrides(AgentConfig(), parse_override_tokens(["--actor.samples=512", "--actor.planner=mppi"]))
    assert cfg.task.planner.name == "mppi" and cfg.task.planner.options == {"samples": 512}
    assert cfg.task.actor == AgentConfig().task.actor and cfg.encoder == AgentConfig().encoder


def test_options_of_a_newly_chosen_planner_resolve_against_it():
    """An MPPI-only option is valid once the same overrides choose MPPI, in any order."""
    cfg = apply_overrides(AgentConfig(), {"actor.temperature": 1.5, "actor.planner": "mppi"})
    assert cfg.task.planner.options == {"temperature": 1.5}
    with pytest.raises(ConfigError, match="'actor.temperature'"):
        apply_overrides(AgentConfig(), {"actor.temperature": 1.5})  # CEM has no temperature


def test_modules_switch_off_and_back_on():
    """--critic=null removes the critic; --critic.name=mlp brings one back; options of an off module fail."""
    off = apply_overrides(AgentConfig(), {"critic": None})
    assert off.critic is None
    with pytest.raises(ConfigError, match="critic is off"):
        apply_overrides(off, {"critic.hidden_dim": 64})
    on = apply_overrides(off, {"critic.name": "mlp", "critic.hidden_dim": 64})
    assert on.critic.name == "mlp" and on.critic.options == {"hidden_dim": 64}


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("actor.horizn", "actor.horizon"),
        ("acter.planner", "actor.planner"),
        ("sed", "seed"),
        ("encoder.latent_dm", "encoder.latent_dim"),
        ("training.random_step", "training.random_steps"),
        ("task.planner.options.samles", "task.planner.options.samples"),
    ],
)
def test_unknown_key_names_the_closest_valid_one(key, suggestion):
    """A misspelled key raises ConfigError quoting it and the closest valid key."""
    with pytest.raises(ConfigError) as info:
        apply_overrides(AgentConfig(), {key: 1})
    assert f"'{key}'" in str(info.value) and f"did you mean '{suggestion}'" in str(info.value)


def test_bad_value_names_the_full_key():
    """A value out of range names the field it was meant for."""
    with pytest.raises(ConfigError, match=r"task\.actor\.horizon: Input should be greater than 0"):
        apply_overrides(AgentConfig(), {"actor.horizon": -1})
    with pytest.raises(ConfigError, match="is a value, not a section"):
        apply_overrides(AgentConfig(), {"seed.x": 1})


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_load_config_reads_yaml_and_json(tmp_path, suffix):
    """A partial file validates with defaults for the rest, in YAML and in JSON."""
    path = tmp_path / f"c{suffix}"
    path.write_text('{"task": {"actor": {"horizon": 9}}, "seed": 4}')
    cfg = load_config(path)
    assert cfg.task.actor.horizon == 9 and cfg.seed == 4 and cfg.training == AgentConfig().training


def test_load_config_refuses_what_is_not_a_config(tmp_path):
    """A missing file, another extension, or a list instead of a mapping is a clear error."""
    with pytest.raises(ConfigError, match="no config file"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "c.toml").write_text("seed = 1")
    with pytest.raises(ConfigError, match=r"\.yaml, \.yml or \.json"):
        load_config(tmp_path / "c.toml")
    (tmp_path / "c.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "c.yaml")


def test_split_world_model_options_of_a_checkpoint():
    """World model options go to Agent.load (parsed as YAML scalars); the rest stay as given."""
    options, rest = split_world_model_options(
        ["task.cost.effort_weight=0.1", "world_model.options.ensemble_mix=0.5", "task.route=true"])
    assert options == {"ensemble_mix": 0.5}
    assert rest == ["task.cost.effort_weight=0.1", "task.route=true"]
    assert split_world_model_options([]) == ({}, [])
