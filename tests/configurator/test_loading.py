"""Config files: ``base:`` chains merged under a file's own keys, and shipped configs by name."""

from __future__ import annotations

import pytest

from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import (
    ConfigError,
    config_path,
    load_config,
    merge,
    read_config_data,
    shipped_configs,
)


def test_merge_is_deep_and_the_child_wins():
    """Mappings merge key by key at every depth; lists, scalars and null in the child replace the base's."""
    base = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "f": 1, "g": {"h": 1}}
    child = {"a": {"c": [3], "d": {"x": 2}}, "f": None, "g": None}
    assert merge(base, child) == {"a": {"b": 1, "c": [3], "d": {"e": 1, "x": 2}}, "f": None, "g": None}
    assert base == {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "f": 1, "g": {"h": 1}}  # inputs untouched


def test_merge_replaces_a_module_spec_naming_another_module():
    """A module spec naming another module replaces the base's whole (its options belong to the base's module)."""
    base = {"planner": {"name": "hierarchical", "options": {"macro_steps": 6}}}
    assert merge(base, {"planner": {"name": "cem"}}) == {"planner": {"name": "cem"}}
    assert merge(base, {"planner": {"options": {"subgoal_step": 2}}}) == {
        "planner": {"name": "hierarchical", "options": {"macro_steps": 6, "subgoal_step": 2}}}
    assert merge(base, {"planner": {"name": "hierarchical", "options": {"subgoal_step": 2}}})["planner"]["options"] == {
        "macro_steps": 6, "subgoal_step": 2}


def test_a_file_holds_its_differences_from_a_relative_base(tmp_path):
    """base: ./other.yaml reads the other file first, relative to this one; chains of bases resolve in order."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "root.yaml").write_text("task: {actor: {horizon: 7}}\ntraining: {batch_size: 32}\nseed: 5\n")
    (tmp_path / "sub" / "mid.yaml").write_text("base: ../root.yaml\ntask: {actor: {mode: policy}}\nseed: 6\n")
    (tmp_path / "sub" / "leaf.json").write_text('{"base": "mid.yaml", "training": {"window": 3}, "critic": null}')
    chain: list = []
    data = read_config_data(tmp_path / "sub" / "leaf.json", chain=chain)
    assert [p.name for p in chain] == ["leaf.json", "mid.yaml", "root.yaml"]
    assert data == {"task": {"actor": {"horizon": 7, "mode": "policy"}}, "training": {"batch_size": 32, "window": 3},
                    "seed": 6, "critic": None}
    config = load_config(tmp_path / "sub" / "leaf.json")
    assert (config.task.actor.horizon, config.task.actor.mode, config.seed, config.critic) == (7, "policy", 6, None)


def test_a_shipped_base_by_name(tmp_path):
    """base: reach2d starts from the shipped config; the file's keys win."""
    (tmp_path / "mine.yaml").write_text("base: reach2d\ntask: {actor: {horizon: 16}}\n")
    mine, shipped = load_config(tmp_path / "mine.yaml"), load_config("reach2d")
    assert mine.task.actor.horizon == 16
    assert mine.model_copy(update={"task": shipped.task}) == shipped


def test_a_cycle_of_bases_is_refused_naming_the_chain(tmp_path):
    """Bases that lead back to a file already read fail with the chain spelled out."""
    (tmp_path / "a.yaml").write_text("base: ./b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: ./a.yaml\n")
    with pytest.raises(ConfigError, match=r"cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        load_config(tmp_path / "a.yaml")


def test_a_bad_base_is_refused_clearly(tmp_path):
    """An unknown shipped name lists the shipped configs; a missing file and a non-string base are named."""
    (tmp_path / "a.yaml").write_text("base: reach9d\n")
    with pytest.raises(ConfigError, match=r"base 'reach9d' is no shipped config \(shipped: .*reach2d"):
        load_config(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("base: ./nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"base './nowhere.yaml': no config file at"):
        load_config(tmp_path / "b.yaml")
    (tmp_path / "c.yaml").write_text("base: [reach2d]\n")
    with pytest.raises(ConfigError, match="base names a shipped config"):
        load_config(tmp_path / "c.yaml")


def test_an_error_below_a_base_names_the_chain(tmp_path):
    """A bad key in a file with a base is reported with the file and its bases."""
    (tmp_path / "a.yaml").write_text("base: reach2d\ntraining: {batch_sise: 3}\n")
    with pytest.raises(ConfigError, match=r"a\.yaml \(base: reach2d\.yaml\).*did you mean 'training\.batch_size'"):
        load_config(tmp_path / "a.yaml")


def test_a_bare_name_is_a_shipped_config(tmp_path, monkeypatch):
    """--config reacher reads the shipped reacher.yaml unless such a file is here; a path stays a path."""
    monkeypatch.chdir(tmp_path)
    shipped = shipped_configs()
    assert {"reach2d", "reach3d", "reacher", "pointmaze"} <= set(shipped)
    assert config_path("reacher") == shipped["reacher"]
    assert load_config("reacher") == AgentConfig.load("reacher") == load_config(shipped["reacher"])
    assert load_config("reacher").task.env == "Reacher-v5"
    (tmp_path / "reacher").write_text("seed: 3\n")  # a file of that name here is a path (and no YAML by suffix)
    with pytest.raises(ConfigError, match="is .yaml, .yml or .json"):
        load_config("reacher")
    with pytest.raises(ConfigError, match=r"no shipped config of that name \(shipped: .*reacher"):
        load_config("reacher9")
    with pytest.raises(ConfigError, match="the package ships a config of that name: --config reach2d"):
        load_config("configs/reach2d.yaml")


def test_config_text_reads_its_base_as_a_file_would(tmp_path):
    """loads_config parses YAML text; its base is a shipped name or a path relative to the given folder."""
    from jepa_agent.configurator import loads_config

    assert loads_config("base: reach3d\nseed: 4\n") == load_config("reach3d").model_copy(update={"seed": 4})
    (tmp_path / "mine.yaml").write_text("training: {window: 3}\n")
    assert loads_config("base: ./mine.yaml", folder=tmp_path).training.window == 3
    with pytest.raises(ConfigError, match=r"config text: unknown config key 'sed'"):
        loads_config("sed: 4")
