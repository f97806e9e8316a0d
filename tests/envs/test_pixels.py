"""Pixel observations and goal images of the reach envs (headless rendering, MUJOCO_GL=egl).

tests/conftest.py sets MUJOCO_GL=egl (unless the caller chose a backend) before mujoco is
imported; a machine without a working headless OpenGL fails these tests rather than
skipping them.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from jepa_agent import envs
from jepa_agent.envs import Reach2DEnv, Reach3DEnv
from jepa_agent.envs.pixels import PixelRenderer, make_renderer

ENV_CLASSES = [Reach2DEnv, Reach3DEnv]


@pytest.fixture(params=ENV_CLASSES, ids=lambda cls: cls.__name__)
def env_cls(request):
    return request.param


def make(env_cls, **kwargs):
    return env_cls(obs_type="pixels", **kwargs)


def changed_pixels(a: np.ndarray, b: np.ndarray) -> int:
    """Pixels (over H, W) that differ in any channel of two (C, H, W) images."""
    return int(np.any(a != b, axis=0).sum())


def test_observation_entries_per_obs_type(env_cls):
    """obs_type picks the entries: pixels are (3, 64, 64) uint8, state stays float32, goals always."""
    expected = {
        "state": {"observation", "achieved_goal", "desired_goal"},
        "pixels": {"pixels", "achieved_goal", "desired_goal"},
        "pixels+state": {"pixels", "observation", "achieved_goal", "desired_goal"},
    }
    for obs_type, keys in expected.items():
        env = env_cls(obs_type=obs_type)
        obs, info = env.reset(seed=0)
        assert set(obs) == keys == set(env.observation_space.spaces)
        assert set(info["goal_observation"]) == keys
        assert env.observation_space.contains(obs)
        if "pixels" in keys:
            assert obs["pixels"].shape == (3, 64, 64) and obs["pixels"].dtype == np.uint8
        if "observation" in keys:
            assert obs["observation"].dtype == np.float32
        env.close()


def test_unknown_obs_type_and_bad_image_size_rejected():
    """A misspelled obs_type or a non-positive image size fails at construction, naming the choices."""
    with pytest.raises(ValueError, match="obs_type must be one of.*'pixel'"):
        Reach2DEnv(obs_type="pixel")
    with pytest.raises(ValueError, match="image_size"):
        Reach2DEnv(obs_type="pixels", image_size=(0, 64))


def test_image_is_not_constant_and_follows_the_arm(env_cls):
    """The pixel observation has many colours, and moving the arm changes many pixels."""
    env = make(env_cls)
    obs, _ = env.reset(seed=0)
    first = obs["pixels"]
    assert len(np.unique(first.reshape(3, -1), axis=1).T) > 10
    for _ in range(10):
        obs, *_ = env.step(np.ones(env.action_space.shape, dtype=np.float32))
    assert changed_pixels(first, obs["pixels"]) > 20
    env.close()


def test_goal_image_matches_a_render_of_the_goal_configuration(env_cls):
    """goal_observation()['pixels'] equals the observation of the arm resting at the goal, bit for bit."""
    env = make(env_cls)
    env.reset(seed=3)
    goal_qpos = env.goal_qpos
    goal_pixels = env.goal_observation()["pixels"]
    # The same goal, the arm placed exactly at it: the observation must be the goal image.
    obs, info = env.reset(options={"goal_qpos": goal_qpos, "qpos": goal_qpos})
    np.testing.assert_array_equal(obs["pixels"], goal_pixels)
    np.testing.assert_array_equal(info["goal_observation"]["pixels"], goal_pixels)
    np.testing.assert_array_equal(env.goal_image(), goal_pixels.transpose(1, 2, 0))
    # Anywhere else, it is not.
    obs, _ = env.reset(options={"goal_qpos": goal_qpos, "qpos": env.home_qpos})
    assert changed_pixels(obs["pixels"], goal_pixels) > 20
    env.close()


def test_goal_image_follows_the_goal_and_is_a_copy(env_cls):
    """A new goal gives a new goal image; the returned image is a copy."""
    env = make(env_cls)
    env.reset(seed=0, options={"goal_qpos": env.home_qpos + 0.5})
    a = env.goal_observation()["pixels"]
    a[:] = 0
    assert env.goal_observation()["pixels"].any()
    before = env.goal_observation()["pixels"]
    env.reset(seed=0, options={"goal_qpos": env.home_qpos - 0.5})
    assert changed_pixels(env.goal_observation()["pixels"], before) > 20
    env.close()


def test_goal_marker_is_hidden_from_pixels_but_rendered_for_people(env_cls):
    """Moving only the goal leaves the pixel observation unchanged, while render() shows the marker."""
    env = make(env_cls, render_mode="rgb_array", width=64, height=64)
    qpos = env.home_qpos
    obs_a, _ = env.reset(options={"qpos": qpos, "goal_qpos": qpos + 1.0})
    view_a = env.render()
    obs_b, _ = env.reset(options={"qpos": qpos, "goal_qpos": qpos - 1.0})
    view_b = env.render()
    np.testing.assert_array_equal(obs_a["pixels"], obs_b["pixels"])
    assert np.any(view_a != view_b)
    env.close()


def test_frame_stack_keeps_the_newest_frame_last(env_cls):
    """With frame_stack=3 the pixels are (9, H, W): all equal after reset, shifted by one per step."""
    env = make(env_cls, frame_stack=3)
    obs0, info = env.reset(seed=1)
    p0 = obs0["pixels"]
    assert p0.shape == (9, 64, 64)
    np.testing.assert_array_equal(p0[:3], p0[6:])
    obs1, *_ = env.step(np.ones(env.action_space.shape, dtype=np.float32))
    p1 = obs1["pixels"]
    np.testing.assert_array_equal(p1[3:6], p0[6:])  # the old newest frame moved one slot back
    assert changed_pixels(p1[6:], p0[6:]) > 0
    goal = info["goal_observation"]["pixels"]
    assert goal.shape == (9, 64, 64)
    np.testing.assert_array_equal(goal[:3], goal[6:])
    env.close()


def test_image_size_and_proprioception_are_configurable():
    """image_size=(48, 80) gives (3, 48, 80) images; pixels+state carries the state vector too."""
    env = Reach2DEnv(obs_type="pixels+state", image_size=(48, 80))
    obs, _ = env.reset(seed=0)
    assert obs["pixels"].shape == (3, 48, 80)
    state = Reach2DEnv()
    state_obs, _ = state.reset(seed=0)
    np.testing.assert_array_equal(obs["observation"], state_obs["observation"])
    env.close()


def test_pixel_renderer_sizes_its_buffer_and_restores_the_model(env_cls):
    """The pixel renderer renders at its own size with multisampling off, leaving the model's
    240x240 offscreen settings for render() untouched."""
    env = make(env_cls, render_mode="rgb_array")
    model = env.model
    before = (model.vis.global_.offwidth, model.vis.global_.offheight, model.vis.quality.offsamples)
    env.reset(seed=0)
    assert (model.vis.global_.offwidth, model.vis.global_.offheight, model.vis.quality.offsamples) == before
    assert env.render().shape == (240, 240, 3)
    renderer = PixelRenderer(model, camera=env.CAMERA, height=32, width=40)
    assert renderer.render(env.data).shape == (32, 40, 3)
    renderer.close()
    env.close()


def test_pixel_renderer_rejects_unknown_camera_and_bad_sizes():
    """An unknown camera names the model's cameras; bad sizes and stacks fail clearly."""
    model = Reach2DEnv().model
    with pytest.raises(ValueError, match="camera 'top' not in the model; cameras: \\['topdown'\\]"):
        PixelRenderer(model, camera="top")
    with pytest.raises(ValueError, match="frame_stack"):
        PixelRenderer(model, camera="topdown", frame_stack=0)
    with pytest.raises(ValueError, match="positive"):
        PixelRenderer(model, camera="topdown", height=0)


def test_missing_opengl_error_names_the_variable(monkeypatch):
    """When no OpenGL context can be made, the error names MUJOCO_GL and both headless choices."""

    def no_context(*args, **kwargs):
        raise RuntimeError("no display")

    monkeypatch.setattr(mujoco, "Renderer", no_context)
    monkeypatch.setenv("MUJOCO_GL", "egl")
    with pytest.raises(RuntimeError, match="MUJOCO_GL='egl'.*MUJOCO_GL=egl.*MUJOCO_GL=osmesa.*no display"):
        make_renderer(Reach2DEnv().model, 64, 64)
    env = Reach2DEnv(obs_type="pixels")
    with pytest.raises(RuntimeError, match="MUJOCO_GL"):
        env.reset(seed=0)


@pytest.mark.parametrize("obs_type", ["pixels", "pixels+state"])
def test_check_env_passes_with_pixels(env_cls, obs_type):
    """Gymnasium's check_env accepts the pixel variants (rendering included)."""
    env_id = next(i for i, entry in envs.ENV_IDS.items() if entry.endswith(env_cls.__name__))
    env = gym.make(env_id, obs_type=obs_type, render_mode="rgb_array", width=64, height=64).unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    unexpected = [str(w.message) for w in caught if "infinity" not in str(w.message)]
    assert unexpected == []
    env.close()


def test_registered_ids_take_the_pixel_options():
    """gym.make passes obs_type/image_size/frame_stack through to the registered envs."""
    for env_id in envs.ENV_IDS:
        env = gym.make(env_id, obs_type="pixels", image_size=32, frame_stack=2)
        obs, _ = env.reset(seed=0)
        assert obs["pixels"].shape == (6, 32, 32)
        env.close()
