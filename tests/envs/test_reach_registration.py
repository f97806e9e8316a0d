"""Registration of the reach environments under the jepa_agent namespace."""

from __future__ import annotations

import importlib
import warnings

import gymnasium as gym
import pytest

from jepa_agent import envs


@pytest.mark.parametrize(
    ("env_id", "class_name"),
    [("jepa_agent/Reach2D-v0", "Reach2DEnv"), ("jepa_agent/Reach3D-v0", "Reach3DEnv")],
)
def test_gym_make_builds_registered_env(env_id, class_name):
    """gym.make(id) after `import envs` builds the env with a 50-step time limit."""
    spec = gym.spec(env_id)
    assert spec.entry_point == f"jepa_agent.envs.{class_name.lower().removesuffix('env')}:{class_name}"
    assert spec.max_episode_steps == 50
    env = gym.make(env_id, success_threshold=0.1)
    assert type(env.unwrapped).__name__ == class_name
    assert env.unwrapped.success_threshold == 0.1
    env.close()


def test_reimport_does_not_warn_or_fail():
    """Reloading envs neither re-registers nor warns about overriding an id."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.reload(envs)
    assert set(envs.ENV_IDS) <= set(gym.registry)
