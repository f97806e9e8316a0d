"""Env ids as Gymnasium reads them: ``some_module:SomeEnv-v0`` imports the module that
registers the env, then makes it; a module that is missing or registers another id is one
clear line."""

from __future__ import annotations

import sys
import textwrap

import gymnasium as gym
import pytest

from jepa_agent.agent.app.cli import main
from jepa_agent.agent.environments import make_env, register_optional_suites, split_env_id
from jepa_agent.configurator import AgentConfig, TaskSpec


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A folder on sys.path for the modules a test writes; their modules and ids are gone afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    register_optional_suites("jepa_agent/Reach2D-v0")  # ours stay registered: only the test's ids go
    before_ids, before_modules = set(gym.registry), set(sys.modules)
    yield tmp_path
    for env_id in set(gym.registry) - before_ids:
        del gym.registry[env_id]
    for name in set(sys.modules) - before_modules:
        sys.modules.pop(name, None)


def write_module(folder, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(body))


def test_split_env_id_reads_gymnasiums_module_syntax():
    """'module:Id' splits at its colon, a plain id has no module, and a second colon is refused."""
    assert split_env_id("my_lab.envs:Arm-v0") == ("my_lab.envs", "Arm-v0")
    assert split_env_id("jepa_agent/Reach2D-v0") == (None, "jepa_agent/Reach2D-v0")
    with pytest.raises(ValueError, match="is not an id"):
        split_env_id("a:b:C-v0")


def test_module_colon_id_imports_the_module_and_makes_the_env(module_dir):
    """task.env 'module:Id' imports the module (which registers Id) and makes that env, as gymnasium.make does."""
    write_module(module_dir, "jepa_test_registers_point", """
        import gymnasium
        gymnasium.register("JepaTestPoint-v0", entry_point="tests.agent.toy_envs:DictPoint")
    """)
    assert "JepaTestPoint-v0" not in gym.registry
    env = make_env(AgentConfig(task=TaskSpec(env="jepa_test_registers_point:JepaTestPoint-v0")))
    assert env.spec.id == "JepaTestPoint-v0" and type(env.unwrapped).__name__ == "DictPoint"
    env.close()


def test_unknown_module_names_the_module(module_dir):
    """An id whose module cannot be imported fails with one line naming the module (not 'unknown env')."""
    with pytest.raises(ValueError) as info:
        register_optional_suites("jepa_test_no_such_module:Foo-v0")
    message = str(info.value)
    assert "no module named 'jepa_test_no_such_module'" in message and "\n" not in message
    write_module(module_dir, "jepa_test_broken", "import jepa_test_missing_dependency\n")
    with pytest.raises(ValueError, match="importing module 'jepa_test_broken' failed: No module named "
                                         "'jepa_test_missing_dependency'"):
        register_optional_suites("jepa_test_broken:Foo-v0")


def test_a_module_without_the_id_says_what_it_registered(module_dir):
    """A module that registers other ids names them; one that registers none says so."""
    write_module(module_dir, "jepa_test_registers_other", """
        import gymnasium
        gymnasium.register("JepaTestOther-v0", entry_point="tests.agent.toy_envs:DictPoint")
    """)
    with pytest.raises(ValueError, match=r"'JepaTestPoint-v0' is not registered \(it registered JepaTestOther-v0\)"):
        register_optional_suites("jepa_test_registers_other:JepaTestPoint-v0")
    write_module(module_dir, "jepa_test_registers_nothing", "X = 1\n")
    with pytest.raises(ValueError, match="it registered no env"):
        register_optional_suites("jepa_test_registers_nothing:JepaTestPoint-v0")


def test_cli_names_an_unknown_module_in_one_line(tmp_path, capsys):
    """`train --env missing_module:Id` exits 1 with one error line naming the module, and writes nothing."""
    argv = ["train", "--env", "jepa_test_no_such_module:Foo-v0", "--out", str(tmp_path / "never"), "--steps", "10"]
    assert main(argv) == 1
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("jepa-agent")]
    assert len(lines) == 1 and "'jepa_test_no_such_module'" in lines[0]
    assert not (tmp_path / "never").exists()


# --------------------------------------------------------------------------- the default config
def test_a_reward_defined_env_gets_the_reward_recipe_by_default():
    """No config: a reward-defined env gets configs/reward.yaml with the overrides on top; the
    shipped locomotion configs are that recipe and their env id."""
    from jepa_agent.agent.environments import default_config
    from jepa_agent.configurator.loading import load_config

    config = default_config({"task.env": "Walker2d-v5", "training.batch_size": 64})
    recipe = load_config("reward")
    assert config.task.env == "Walker2d-v5" and config.training.batch_size == 64
    assert config.task.planner == recipe.task.planner and config.critic == recipe.critic
    assert config.model_dump() == load_config("walker2d").model_copy(
        update={"training": load_config("walker2d").training.model_copy(update={"batch_size": 64})}).model_dump()
    for name, env in (("hopper", "Hopper-v5"), ("halfcheetah", "HalfCheetah-v5"), ("ant", "Ant-v5")):
        assert load_config(name).model_dump() == default_config({"task.env": env}).model_dump()


def test_a_goal_env_keeps_the_built_in_defaults():
    from jepa_agent.agent.environments import default_config
    from jepa_agent.configurator.loading import load_config

    assert default_config({"task.env": "jepa_agent/Reach2D-v0"}) == AgentConfig()
    assert default_config() == AgentConfig()
    reacher = default_config({"task.env": "Reacher-v5"})
    assert reacher.task.env == "Reacher-v5" and reacher.critic == load_config("reward").critic
    # an objective the overrides name is the one that decides
    goal = default_config({"task.env": "Reacher-v5", "task.objective": "goal"})
    assert goal == AgentConfig().model_copy(update={"task": goal.task}) and goal.task.objective == "goal"


def test_the_objective_rule_known_answers():
    from jepa_agent.configurator.resolve import Facts, resolve_objective

    assert resolve_objective("auto", Facts.of(["observation"])) == "reward"
    assert resolve_objective("auto", Facts.of(["observation", "achieved_goal", "desired_goal"])) == "goal"
    assert resolve_objective("both", Facts.of(["observation"])) == "both"


def test_train_without_a_config_uses_the_recipe(tmp_path):
    """`jepa-agent train --set task.env=Hopper-v5` trains the recipe's agent (its config.yaml says so)."""
    import yaml

    out = tmp_path / "run"
    main(["train", "--set", "task.env=Hopper-v5", "--steps", "60", "--episodes", "1", "--video", "0", "--log", "none",
          "--set", "training.random_steps=50", "--set", "training.pretrain_updates=1", "--set", "training.batch_size=8",
          "--set", "task.planner.options.samples=8", "--out", str(out)])
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["task"]["planner"]["name"] == "mppi" and saved["critic"]["name"] == "q"
    assert saved["task"]["cost"]["gamma"] == 0.99 and saved["training"]["random_steps"] == 50
