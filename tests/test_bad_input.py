"""Property tests: generated bad configs, overrides, observations and transitions are each
refused with one clear line that names what was wrong (never accepted, never an internal
error such as IndexError or AttributeError)."""

from __future__ import annotations

import math
import string

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jepa_agent.agent import Agent
from jepa_agent.agent.app.cli import error_line
from jepa_agent.configurator import AgentConfig
from jepa_agent.configurator.loading import (
    ConfigError,
    apply_overrides,
    parse_override_tokens,
    validate_config,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Numeric fields that must be positive (or >= 0) wherever they live in the config.
POSITIVE = [
    "actor.samples", "actor.iterations", "actor.horizon", "training.lr", "training.batch_size",
    "training.window", "encoder.latent_dim", "encoder.hidden_dim", "world_model.hidden_dim",
    "critic.hidden_dim", "replay.capacity", "seed", "task.action_repeat", "training.critic_lr",
]
SECTIONS = ["task", "encoder", "world_model", "critic", "policy", "training", "replay", "memory", "actor"]
bad_numbers = st.one_of(
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=8),
    st.lists(st.integers(), min_size=1, max_size=3),
    st.dictionaries(st.sampled_from("abc"), st.integers(), min_size=1, max_size=2),
    st.integers(max_value=-1),
    st.floats(max_value=-1e-3, allow_nan=False, allow_subnormal=False),
    st.just(float("nan")),
    st.just(float("-inf")),
)


def assert_clear(err: BaseException, *mentions: str) -> None:
    """A refusal a user can act on: a ValueError/TypeError/KeyError family error whose one
    line names what was wrong."""
    assert isinstance(err, (ValueError, TypeError, KeyError)), f"{type(err).__name__}: {err}"
    line = error_line(err)
    assert "\n" not in line and len(line) < 800
    for m in mentions:
        assert m in line, f"{m!r} not in {line!r}"


@SETTINGS
@given(key=st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True), section=st.sampled_from(["", *SECTIONS]))
def test_unknown_config_keys_are_named(key, section):
    dotted = f"{section}.{key}" if section else key
    try:
        apply_overrides(AgentConfig(), {dotted: 1})
    except ConfigError as err:
        assert_clear(err, key)
        return
    assert key in AgentConfig.model_fields or key in _fields_of(section), f"{dotted} was accepted"


def _fields_of(section: str) -> set[str]:
    data = AgentConfig().model_dump()
    node = data.get(section, data.get("task", {}).get(section, {})) if section else data
    node = node if isinstance(node, dict) else {}
    return set(node) | set(node.get("options", {}) if isinstance(node.get("options"), dict) else {})


@SETTINGS
@given(field=st.sampled_from(POSITIVE), value=bad_numbers)
def test_bad_values_name_the_field_and_the_value(field, value):
    with pytest.raises(ConfigError) as info:
        apply_overrides(AgentConfig(), {field: value})
    assert_clear(info.value, field.split(".")[-1])


@SETTINGS
@given(section=st.sampled_from(SECTIONS[:-1]), value=st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)))
def test_a_section_that_is_not_a_mapping_is_refused(section, value):
    with pytest.raises(ConfigError) as info:
        validate_config({section: value})
    assert_clear(info.value, section)


@SETTINGS
@given(token=st.text(alphabet=string.ascii_letters + string.digits + "-_.=", max_size=12))
def test_malformed_override_tokens(token):
    try:
        overrides = parse_override_tokens([token])
        apply_overrides(AgentConfig(), overrides)
    except ConfigError as err:
        assert_clear(err)
        return
    # accepted only when it was a well-formed override of a real key
    assert token.startswith("--") and "=" in token


@pytest.fixture(scope="module")
def agent_and_obs():
    config = apply_overrides(AgentConfig(), {"task.env": "Reacher-v5", "task.objective": "reward", "device": "cpu"})
    env = gym.make("Reacher-v5")
    agent = Agent.from_config(config, env)
    obs, _ = env.reset(seed=0)
    agent.reset()
    return agent, obs


@SETTINGS
@given(shape=st.lists(st.integers(0, 12), min_size=0, max_size=3))
def test_observations_of_the_wrong_shape(agent_and_obs, shape):
    agent, obs = agent_and_obs
    shape = tuple(shape)
    if shape in ((10,),) or (len(shape) == 2 and shape[1] == 10 and shape[0] > 0):
        return  # a good shape
    with pytest.raises((ValueError, TypeError)) as info:
        agent.act(np.zeros(shape, dtype=np.float32))
    assert_clear(info.value, "observation")


@SETTINGS
@given(index=st.integers(0, 9), bad=st.sampled_from([math.nan, math.inf, -math.inf]), batch=st.booleans())
def test_observations_with_nan_or_inf_name_the_key_and_index(agent_and_obs, index, bad, batch):
    agent, obs = agent_and_obs
    x = np.array(obs, dtype=np.float64)
    x[index] = bad
    with pytest.raises(ValueError) as info:
        agent.act(np.stack([obs, x]) if batch else x)
    assert_clear(info.value, "'observation'", "must be finite", str(index))


@SETTINGS
@given(dtype=st.sampled_from(["U3", "O", "c8", "c16", "M8[s]", "S2"]))
def test_observations_of_the_wrong_dtype(agent_and_obs, dtype):
    agent, obs = agent_and_obs
    with pytest.raises((TypeError, ValueError)) as info:
        agent.act(np.zeros(10, dtype=dtype))
    assert_clear(info.value, "observation")


@SETTINGS
@given(reward=st.one_of(st.lists(st.floats(-1, 1, allow_subnormal=False), min_size=2, max_size=4), st.just(math.nan), st.text(alphabet=string.ascii_letters, min_size=1, max_size=3)))
def test_transitions_that_do_not_fit(agent_and_obs, reward):
    agent, obs = agent_and_obs
    agent.reset()
    agent.act(obs)
    with pytest.raises((ValueError, TypeError)) as info:
        agent.observe(obs, reward, False)
    assert_clear(info.value, "reward")


@SETTINGS
@given(env_id=st.from_regex(r"[A-Z][a-zA-Z]{2,10}-v[0-9]", fullmatch=True))
def test_unknown_env_ids(env_id):
    from jepa_agent.agent.environments import register_optional_suites

    if env_id in gym.registry:
        return
    with pytest.raises(ValueError) as info:
        register_optional_suites(env_id)
    assert_clear(info.value, "unknown env", env_id)


def test_a_near_miss_env_id_gets_the_closest_ids():
    from jepa_agent.agent.environments import register_optional_suites

    with pytest.raises(ValueError, match="did you mean Reacher-v5"):
        register_optional_suites("Reacher-v9")
