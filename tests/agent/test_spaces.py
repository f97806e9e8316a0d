"""Dict observations as Gymnasium envs give them: every non-goal entry encoded in name order,
scalar Box entries as (B, 1) from acting to replay to a reloaded agent, and entries the
agent cannot read refused with their name and the fix."""

from __future__ import annotations

import json
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from jepa_agent.agent import Agent
from jepa_agent.agent.app.cli import main
from jepa_agent.agent.spaces import EncoderEntries, adapt_observation, inspect_env
from jepa_agent.configurator import ModuleSpec
from tests.agent.test_any_env import tiny
from tests.agent.test_cli_commands import TINY
from tests.agent.toy_envs import DictPoint, Line

BOX = spaces.Box(-1.0, 1.0, (2,), np.float32)
STATE_KEYS = ("position", "time", "to_target", "velocity")


class _Spaces:
    def __init__(self, observation_space, action_space=BOX):
        self.observation_space, self.action_space = observation_space, action_space


def with_encoder(**options):
    return tiny().model_copy(update={"encoder": ModuleSpec(name="mlp", options={"latent_dim": 8, **options})})


def test_the_dict_test_env_passes_gymnasiums_checker():
    """DictPoint (with and without goal entries) follows the Gymnasium API (env_checker.check_env)."""
    check_env(DictPoint(), skip_render_check=True)
    check_env(DictPoint(with_goal=True), skip_render_check=True)


def test_dict_without_observation_encodes_every_non_goal_entry_in_name_order():
    """No 'observation' entry: the MLP encoder reads all entries but the goal ones, sorted by
    name (not the env's order); the scalar 'time' entry counts as shape (1,)."""
    env = DictPoint(with_goal=True)
    assert list(env.observation_space.spaces)[:2] == ["desired_goal", "velocity"]  # declared out of order
    agent = Agent.from_config(tiny(), env)
    assert agent.world_model.encoder.keys == STATE_KEYS
    assert agent.world_model.encoder.input_dim == 7
    assert agent.input_shapes["time"] == (1,) and agent.input_shapes["desired_goal"] == (2,)
    flat = Agent.from_config(tiny(), _Spaces(spaces.Box(-1.0, 1.0, (), np.float32)))
    assert flat.input_shapes == {"observation": (1,)}  # a scalar flat Box is {"observation": (1,)}


def test_an_observation_entry_or_explicit_keys_keep_their_order():
    """With an 'observation' entry only it is encoded; encoder.options.keys is read in its own order."""
    goal_env = _Spaces(spaces.Dict({"observation": BOX, "achieved_goal": BOX, "desired_goal": BOX, "extra": BOX}))
    assert Agent.from_config(tiny(), goal_env).world_model.encoder.keys == ("observation",)
    agent = Agent.from_config(with_encoder(keys=["velocity", "position"]), DictPoint())
    assert agent.world_model.encoder.keys == ("velocity", "position")


def test_scalar_entries_get_a_feature_axis_single_or_batched():
    """A 0-D entry becomes (1,), a batch of them (B, 1) (B = 1 included where the caller says
    it is batched); adapting an adapted observation changes nothing."""
    spec = inspect_env(DictPoint())
    one, _ = DictPoint().reset(seed=0)
    single = adapt_observation(one, spec.hwc_keys, spec.input_shapes)
    assert single["time"].shape == (1,) and single["position"].shape == (2,)
    batch = {k: np.stack([v, v, v]) for k, v in one.items()}  # as a vector env of 3 gives it
    assert adapt_observation(batch, spec.hwc_keys, spec.input_shapes)["time"].shape == (3, 1)
    just_time = {"time": (1,)}
    assert adapt_observation({"time": np.zeros(3)}, (), just_time)["time"].shape == (3, 1)
    assert adapt_observation({"time": np.zeros(1)}, (), just_time, batched=True)["time"].shape == (1, 1)
    assert adapt_observation({"time": np.zeros(1)}, (), just_time)["time"].shape == (1,)
    again = adapt_observation(single, spec.hwc_keys, spec.input_shapes)
    assert all(np.array_equal(again[k], single[k]) and again[k].shape == single[k].shape for k in single)


def test_scalar_entries_are_stored_and_replayed_as_b_by_1():
    """Training on a Dict env with a scalar entry stores it as (1,) per step and samples (B, T, 1) windows."""
    envs = [DictPoint(), DictPoint()]
    agent = Agent.from_config(tiny(random_steps=30, pretrain_updates=2), envs[0])
    agent.train(envs, 40)
    assert agent.replay.obs_spec["time"][0] == (1,)
    batch = agent.replay.sample(5, 3, rng=np.random.default_rng(0))  # windows of 3 steps: 4 observations
    assert batch["obs"]["time"].shape == (5, 4, 1) and batch["obs"]["position"].shape == (5, 4, 2)
    t = batch["obs"]["time"][:, :, 0]  # time climbs by 1 / length each step within an episode
    np.testing.assert_allclose(np.diff(t, axis=1), 0.1, atol=1e-6)


def test_a_scalar_observation_trains_and_evaluates_on_one_env():
    """A 0-D Box observation on a single env (a batch of one, where (1,) could be read either
    way) is stored as (1,) per step and evaluated; a vector env of two likewise."""
    agent = Agent.from_config(tiny(random_steps=20, pretrain_updates=2), Line(scalar=True))
    assert agent.input_shapes == {"observation": (1,)}
    agent.train([Line(scalar=True)], 30)
    agent.train(gym.vector.SyncVectorEnv([lambda: Line(scalar=True)] * 2), 30)
    assert agent.replay.obs_spec["observation"][0] == (1,) and agent.faults == {}
    assert agent.evaluate(Line(scalar=True), 1)["records"][0]["length"] == 10
    agent.reset()
    assert agent.act(np.array(0.1, np.float32)).shape == (1,)


UNREADABLE = [
    ("mode", spaces.Discrete(3), "observation entry 'mode' is Discrete(3): the MLP encoder reads Box entries; "
                                 "leave it out with encoder.options.keys=[position, velocity]"),
    ("name", spaces.Text(4), "observation entry 'name' is Text(1, 4, "),
    ("arm", spaces.Dict({"joint": BOX}), "observation entry 'arm' is a nested Dict (entries ['joint'])"),
    ("grid", spaces.Box(0.0, 1.0, (3, 4), np.float32), "observation entry 'grid' is a 2-D float32 Box (3, 4)"),
]


@pytest.mark.parametrize(("key", "space", "message"), UNREADABLE, ids=[u[0] for u in UNREADABLE])
def test_entries_the_agent_cannot_read_are_named_with_the_fix(key, space, message):
    """A Discrete, Text, nested Dict or 2-D float entry is refused naming the entry, what it is
    and the fix (encoder.options.keys without it, or a wrapper)."""
    env = _Spaces(spaces.Dict({"position": BOX, "velocity": BOX, key: space}))
    with pytest.raises(ValueError) as info:
        Agent.from_config(tiny(), env)
    text = str(info.value)
    assert text.startswith(message) and "encoder.options.keys=[position, velocity]" in text
    assert "wrap the env" in text and "\n" not in text


def test_an_entry_left_out_by_the_encoder_keys_is_dropped():
    """With encoder.options.keys naming the Box entries, a Discrete entry is dropped on the way in: acting works."""
    env = _Spaces(spaces.Dict({"position": BOX, "velocity": BOX, "mode": spaces.Discrete(3)}))
    agent = Agent.from_config(with_encoder(keys=["position", "velocity"]), env)
    assert set(agent.input_shapes) == {"position", "velocity"}
    agent.reset()
    obs = {"position": np.zeros(2, np.float32), "velocity": np.ones(2, np.float32), "mode": 2}
    assert agent.act(obs).shape == (2,)
    with pytest.raises(ValueError, match="'desired_goal' is Discrete\\(3\\): the agent reads the goal entries"):
        Agent.from_config(with_encoder(keys=["position"]), _Spaces(spaces.Dict(  # goal entries are always read
            {"position": BOX, "achieved_goal": BOX, "desired_goal": spaces.Discrete(3)}
        )))


def test_an_image_entry_read_by_the_mlp_encoder_names_the_conv_encoder():
    """An image entry among the entries the MLP encoder reads is refused naming it and encoder=conv."""
    image = spaces.Box(0, 255, (8, 8, 3), np.uint8)
    env = _Spaces(spaces.Dict({"camera": image, "position": BOX}))
    with pytest.raises(ValueError, match=r"observation entry 'camera' is an image \(3, 8, 8\): the MLP encoder reads "
                                         r"1-D entries; encode images with encoder=conv .* encoder.options.keys=\[position\]"):
        Agent.from_config(tiny(), env)


def test_encoder_entries_are_read_from_the_options():
    """EncoderEntries: the default names nothing; keys (or conv_state's state.keys) name entries and the option."""
    assert EncoderEntries.of(ModuleSpec(name="mlp")) == EncoderEntries(None, "encoder.options.keys", "the MLP encoder")
    named = EncoderEntries.of(ModuleSpec(name="mlp", options={"keys": ["b", "a"]}))
    assert named.named == frozenset({"a", "b"})
    both = EncoderEntries.of(ModuleSpec(name="conv_state", options={"state": {"keys": ["position"]}}))
    assert both.named == frozenset({"position"}) and both.option == "encoder.options.state.keys"


@pytest.fixture
def dict_env_module(tmp_path, monkeypatch):
    """A module in a temporary folder that registers DictPoint as JepaTestDictPoint-v0 when imported."""
    (tmp_path / "jepa_test_dict_envs.py").write_text(textwrap.dedent("""
        import gymnasium
        gymnasium.register("JepaTestDictPoint-v0", entry_point="tests.agent.toy_envs:DictPoint",
                           kwargs={"length": 10})
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "jepa_test_dict_envs:JepaTestDictPoint-v0"
    gym.registry.pop("JepaTestDictPoint-v0", None)
    sys.modules.pop("jepa_test_dict_envs", None)


def test_dict_env_trains_from_the_cli_by_module_id_and_the_saved_agent_acts(dict_env_module, tmp_path):
    """`train --env module:Id` on a Dict env with a scalar entry and no option set trains, and
    the saved agent loads with the same input order, acts, and resumes training."""
    out = tmp_path / "run"
    assert main(["train", "--env", dict_env_module, "--out", str(out), "--steps", "60", "--episodes", "1",
                 "--video", "0", *TINY, "--training.random_steps=30"]) == 0
    result = json.loads((out / "eval.json").read_text())
    assert result["env_steps"] == 60 and result["updates"] > 0 and np.isfinite(result["mean_return"])
    (checkpoint,) = [p for p in out.glob("checkpoint.*") if p.is_file()]
    agent = Agent.load(checkpoint)
    assert agent.world_model.encoder.keys == STATE_KEYS and agent.input_shapes["time"] == (1,)
    env = gym.make(dict_env_module)
    obs, _ = env.reset(seed=3)
    agent.reset()
    action = agent.act(obs)
    assert action.shape == (2,) and np.all(np.abs(action) <= 1.0)
    assert agent.evaluate(env, 1)["records"][0]["length"] == 10
    resumed = Agent.load(checkpoint, resume=True)
    resumed.train(resumed.envs, 20)
    assert resumed.replay.obs_spec["time"][0] == (1,) and resumed.env_steps >= 80
