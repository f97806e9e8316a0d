"""Tests for memory.ReplayBuffer and memory.to_torch."""

import json
import os

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from jepa_agent.memory import ReplayBuffer, ReplayBufferConfig
from jepa_agent.memory.replay import to_torch

A = 2


def episode(ep: int, t: int, *, image: bool = False):
    """An episode whose every entry encodes (episode id, step), so samples can be checked."""
    steps = np.arange(t + 1)
    obs = {"observation": np.stack([np.full(t + 1, ep), steps], axis=1).astype(np.float32)}
    goal = {"observation": np.array([ep, -1.0], dtype=np.float32)}
    if image:
        pix = np.zeros((t + 1, 3, 4, 4), dtype=np.uint8)
        pix[:, 0] = ep
        pix[:, 1] = steps[:, None, None]
        obs["pixels"] = pix
        goal["pixels"] = np.full((3, 4, 4), 200, dtype=np.uint8)
    actions = np.stack([np.full(t, ep), np.arange(t)], axis=1).astype(np.float32)  # (T, A)
    costs = (1000.0 * ep + np.arange(t)).astype(np.float32)
    mask = np.arange(t) % 2 == 0
    return obs, actions, costs, goal, mask


def filled(lengths, capacity=1_000_000, image=False) -> ReplayBuffer:
    buf = ReplayBuffer(ReplayBufferConfig(capacity=capacity))
    for ep, t in enumerate(lengths):
        obs, actions, costs, goal, mask = episode(ep, t, image=image)
        buf.add_episode(obs, actions, costs, goal, planner_mask=mask)
    return buf


def test_sample_shapes_and_dtypes():
    """sample() returns the documented keys, shapes and dtypes."""
    buf = filled([10, 7, 12])
    b, w = 5, 4
    s = buf.sample(b, w, rng=np.random.default_rng(0))
    assert set(s) == {
        "obs",
        "actions",
        "costs",
        "planner_mask",
        "terminals",
        "goal_obs",
        "future_obs",
        "future_offset",
    }
    assert s["terminals"].shape == (b, w) and s["terminals"].dtype == np.bool_
    assert s["obs"]["observation"].shape == (b, w + 1, 2)
    assert s["actions"].shape == (b, w, A) and s["actions"].dtype == np.float32
    assert s["costs"].shape == (b, w) and s["costs"].dtype == np.float32
    assert s["planner_mask"].shape == (b, w) and s["planner_mask"].dtype == np.bool_
    assert s["goal_obs"]["observation"].shape == (b, 2)
    assert s["future_obs"]["observation"].shape == (b, 2)
    assert s["future_offset"].shape == (b,) and s["future_offset"].dtype == np.int64
    assert buf.num_steps == len(buf) == 29 and buf.num_episodes == 3


def test_windows_equal_stored_slices_and_stay_in_one_episode():
    """Every sampled window is the stored slice t..t+W of a single episode (known answer)."""
    lengths = [5, 9, 3, 12]
    buf = filled(lengths)
    w = 4
    s = buf.sample(500, w, rng=np.random.default_rng(1))
    obs = s["obs"]["observation"]  # (B, W+1, 2)
    ep = obs[:, 0, 0].astype(int)
    t0 = obs[:, 0, 1].astype(int)
    assert not np.isin(ep, [2]).any()  # episode 2 (T=3) is shorter than W
    for i in range(len(ep)):
        e, t = ep[i], t0[i]
        ref_obs, ref_act, ref_cost, ref_goal, ref_mask = episode(e, lengths[e])
        assert 0 <= t <= lengths[e] - w
        np.testing.assert_array_equal(obs[i], ref_obs["observation"][t : t + w + 1])
        np.testing.assert_array_equal(s["actions"][i], ref_act[t : t + w])
        np.testing.assert_array_equal(s["costs"][i], ref_cost[t : t + w])
        np.testing.assert_array_equal(s["planner_mask"][i], ref_mask[t : t + w])
        np.testing.assert_array_equal(s["goal_obs"]["observation"][i], ref_goal["observation"])


def test_window_starts_are_uniform_over_all_valid_positions():
    """Each valid (episode, start) pair is drawn with equal probability."""
    lengths = [4, 10]  # W=4: 1 start in episode 0, 7 in episode 1
    buf = filled(lengths)
    s = buf.sample(16_000, 4, rng=np.random.default_rng(2))
    obs = s["obs"]["observation"]
    pairs = obs[:, 0, 0] * 100 + obs[:, 0, 1]
    _, counts = np.unique(pairs, return_counts=True)
    assert len(counts) == 8
    assert np.all(np.abs(counts - 2000) < 250)


def test_every_step_starts_cover_each_transition_about_equally_the_last_too():
    """window_starts=every_step: a start is drawn over every step (T per episode) and a window
    that would run past the end starts at the last that fits: the final transition (where a
    termination is) is in W/T of the windows, against 1/(T-W+1) with the default."""
    W, T = 4, 20
    buf = ReplayBuffer(ReplayBufferConfig(window_starts="every_step"))
    obs, actions, costs, goal, mask = episode(0, T)
    buf.add_episode(obs, actions, costs, goal, planner_mask=mask, terminated=True)
    s = buf.sample(20_000, W, rng=np.random.default_rng(0))
    starts = s["obs"]["observation"][:, 0, 1]
    assert starts.max() == T - W and starts.min() == 0  # every window fits in the episode
    ends = s["terminals"][:, -1]
    assert s["terminals"][:, :-1].sum() == 0
    assert abs(ends.mean() - W / T) < 0.01  # (T - W + 1 starts clamp to T - W: W of T)
    per_step = np.bincount((starts[:, None] + np.arange(W)).ravel().astype(int), minlength=T) / (20_000 * W)
    assert abs(per_step[T - 1] - 1 / T) < 0.005  # the final transition: as often as a mid one
    assert abs(per_step[T // 2] - 1 / T) < 0.005
    default = filled([T]).sample(20_000, W, rng=np.random.default_rng(0))
    assert abs((default["obs"]["observation"][:, 0, 1] == T - W).mean() - 1 / (T - W + 1)) < 0.01


def test_future_obs_same_episode_and_later():
    """future_obs comes from the window's episode, future_offset steps after its start, beyond the window when possible."""
    lengths = [6, 9, 4]
    buf = filled(lengths)
    w = 3
    s = buf.sample(2000, w, rng=np.random.default_rng(3))
    obs = s["obs"]["observation"]
    fut = s["future_obs"]["observation"]
    ep, t0 = obs[:, 0, 0], obs[:, 0, 1]
    np.testing.assert_array_equal(fut[:, 0], ep)
    np.testing.assert_array_equal(fut[:, 1], t0 + s["future_offset"])
    length = np.array(lengths)[ep.astype(int)]
    off = s["future_offset"]
    assert (off >= 1).all() and (t0 + off <= length).all()
    continues = t0 + w < length
    assert (off[continues] > w).all()
    assert (~continues).any() and continues.any()


def test_short_episodes_raise():
    """Sampling a window longer than every episode raises a clear ValueError."""
    buf = filled([3, 2])
    with pytest.raises(ValueError, match="no episode has at least window=4 steps"):
        buf.sample(2, 4, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="no episode"):
        ReplayBuffer().sample(2, 1, rng=np.random.default_rng(0))


def test_fifo_eviction_keeps_capacity():
    """Adding past capacity evicts the oldest whole episodes and keeps steps <= capacity."""
    buf = filled([], capacity=20)
    for ep in range(30):
        t = 3 + ep % 5
        buf.add_episode(*episode(ep, t)[:4])
        assert buf.num_steps <= 20
    kept = buf.sample(400, 1, rng=np.random.default_rng(4))["obs"]["observation"][:, 0, 0]
    ids = np.unique(kept).astype(int)
    assert ids.max() == 29
    # The kept episodes are the newest ones, contiguous up to the last.
    np.testing.assert_array_equal(ids, np.arange(30 - buf.num_episodes, 30))
    assert buf.num_steps == sum(3 + e % 5 for e in range(30 - buf.num_episodes, 30))
    with pytest.raises(ValueError, match="more than the buffer capacity 20"):
        buf.add_episode(*episode(99, 21)[:4])


def test_content_survives_growth_and_wraparound():
    """Windows stay exact after the storage grows and wraps around under eviction."""
    lengths = [50 + (i * 37) % 90 for i in range(60)]
    buf = filled(lengths, capacity=700)
    s = buf.sample(300, 5, rng=np.random.default_rng(5))
    obs = s["obs"]["observation"]
    ep, t0 = obs[:, 0, 0].astype(int), obs[:, 0, 1].astype(int)
    for i in range(len(ep)):
        np.testing.assert_array_equal(
            obs[i], episode(ep[i], lengths[ep[i]])[0]["observation"][t0[i] : t0[i] + 6]
        )
        np.testing.assert_array_equal(s["actions"][i, :, 1], np.arange(t0[i], t0[i] + 5))


def test_same_seed_same_batch():
    """Sampling with equally seeded generators gives identical batches."""
    buf = filled([8, 11, 6])
    a = buf.sample(16, 3, rng=np.random.default_rng(7))
    b = buf.sample(16, 3, rng=np.random.default_rng(7))
    c = buf.sample(16, 3, rng=np.random.default_rng(8))
    assert_batches_equal(a, b)
    assert not np.array_equal(a["obs"]["observation"], c["obs"]["observation"])


def assert_batches_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], dict):
            assert_batches_equal(a[k], b[k])
        else:
            assert a[k].dtype == b[k].dtype
            np.testing.assert_array_equal(a[k], b[k])


def test_save_load_round_trip(tmp_path):
    """A loaded buffer holds the same episodes and samples the same batches; no temp file is left."""
    buf = filled([4, 5, 7, 3], capacity=15, image=True)  # eviction has happened
    path = tmp_path / "replay.npz"
    buf.save(path)
    assert os.listdir(tmp_path) == ["replay.npz"]
    loaded = ReplayBuffer.load(path)
    assert loaded.config == buf.config
    assert (loaded.num_steps, loaded.num_episodes) == (buf.num_steps, buf.num_episodes)
    np.testing.assert_array_equal(loaded.episode_lengths(), buf.episode_lengths())
    assert loaded.obs_spec == buf.obs_spec
    assert_batches_equal(
        loaded.sample(32, 3, rng=np.random.default_rng(9)),
        buf.sample(32, 3, rng=np.random.default_rng(9)),
    )
    loaded.add_episode(*episode(10, 6, image=True)[:4])  # still usable and consistent
    assert loaded.num_steps <= 15


def test_save_load_empty(tmp_path):
    """An empty buffer round-trips."""
    ReplayBuffer(ReplayBufferConfig(capacity=5)).save(tmp_path / "e.npz")
    loaded = ReplayBuffer.load(tmp_path / "e.npz")
    assert loaded.num_steps == 0 and loaded.config.capacity == 5


def test_interrupted_save_keeps_existing_file(tmp_path, monkeypatch):
    """A save that fails midway leaves the previous file intact and no temp file behind."""
    path = tmp_path / "replay.npz"
    filled([4, 5]).save(path)
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        filled([9, 9, 9]).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["replay.npz"]
    monkeypatch.undo()
    assert ReplayBuffer.load(path).num_steps == 9


def test_load_missing_or_corrupt_file(tmp_path):
    """Loading a missing file raises FileNotFoundError; a corrupt one a ValueError naming the path."""
    with pytest.raises(FileNotFoundError, match="replay buffer file not found"):
        ReplayBuffer.load(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="could not read replay buffer from .*bad.npz"):
        ReplayBuffer.load(bad)
    good = tmp_path / "good.npz"
    filled([5]).save(good)
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="could not read replay buffer"):
        ReplayBuffer.load(trunc)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ValueError, match="could not read replay buffer"):
        ReplayBuffer.load(other)


def test_nan_rejected_naming_key_and_step():
    """NaN in observations or actions is rejected with the key and step in the message."""
    buf = ReplayBuffer()
    obs, actions, costs, goal, _ = episode(0, 6)
    obs["observation"][3, 1] = np.nan
    with pytest.raises(ValueError, match=r"obs\['observation'\] contains NaN at step 3"):
        buf.add_episode(obs, actions, costs, goal)
    obs, actions, costs, goal, _ = episode(0, 6)
    actions[2, 0] = np.nan
    with pytest.raises(ValueError, match="actions contains NaN at step 2"):
        buf.add_episode(obs, actions, costs, goal)
    assert buf.num_steps == 0


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda o, a, c, g, m: (o, a[:-1], c[:-1], g, m[:-1]),
            r"obs\['observation'\] must be \(T\+1, \.\.\.\) with T\+1=6",
        ),
        (lambda o, a, c, g, m: (o, a, c[:-1], g, m), r"costs must be \(T,\)=\(6,\), got \(5,\)"),
        (lambda o, a, c, g, m: (o, a, c, g, m[:-1]), r"planner_mask must be \(T,\)=\(6,\) bool"),
        (lambda o, a, c, g, m: (o, a[:, 0], c, g, m), r"actions must be \(T, A\)"),
        (
            lambda o, a, c, g, m: (o, a, c, {"other": g["observation"]}, m),
            "goal_obs keys must match",
        ),
        (
            lambda o, a, c, g, m: ({"x": o["observation"]}, a, c, {"x": g["observation"]}, m),
            "obs keys must be",
        ),
        (
            lambda o, a, c, g, m: (o, a[:, :1], c, g, m),
            r"actions must be \(T, A\)=\(6, 2\) like earlier",
        ),
        (
            lambda o, a, c, g, m: ({"observation": o["observation"][:, :1]}, a, c, g, m),
            r"must be \(T\+1, \*\(2,\)\)",
        ),
    ],
)
def test_shape_and_key_errors(mutate, message):
    """Inconsistent shapes or keys raise ValueError saying what was expected."""
    buf = filled([4])
    with pytest.raises(ValueError, match=message):
        obs, actions, costs, goal, mask = mutate(*episode(1, 6))
        buf.add_episode(obs, actions, costs, goal, planner_mask=mask)
    assert buf.num_episodes == 1


def test_uint8_images_keep_dtype():
    """uint8 image observations are stored and sampled as uint8 with exact values."""
    buf = filled([6, 8], image=True)
    s = buf.sample(64, 3, rng=np.random.default_rng(11))
    pix = s["obs"]["pixels"]
    assert pix.dtype == np.uint8 and pix.shape == (64, 4, 3, 4, 4)
    np.testing.assert_array_equal(pix[:, :, 0, 0, 0], s["obs"]["observation"][:, :, 0])
    np.testing.assert_array_equal(pix[:, :, 1, 2, 3], s["obs"]["observation"][:, :, 1])
    assert s["goal_obs"]["pixels"].dtype == np.uint8 and (s["goal_obs"]["pixels"] == 200).all()
    assert s["future_obs"]["pixels"].dtype == np.uint8
    with pytest.raises(ValueError, match=r"obs\['pixels'\] dtype must be uint8"):
        obs, actions, costs, goal, _ = episode(2, 5, image=True)
        obs["pixels"] = obs["pixels"].astype(np.float32)
        buf.add_episode(obs, actions, costs, goal)


def test_float64_observations_stored_as_float32():
    """Floating observations are stored as float32 whatever float width arrives."""
    buf = ReplayBuffer()
    obs, actions, costs, goal, _ = episode(0, 5)
    buf.add_episode({"observation": obs["observation"].astype(np.float64)}, actions, costs, goal)
    s = buf.sample(2, 2, rng=np.random.default_rng(0))
    assert s["obs"]["observation"].dtype == np.float32


def test_default_planner_mask_is_false():
    """Without planner_mask every sampled mask entry is False."""
    buf = ReplayBuffer()
    buf.add_episode(*episode(0, 5)[:4])
    assert not buf.sample(8, 2, rng=np.random.default_rng(0))["planner_mask"].any()


def test_to_torch_dtypes_and_device():
    """to_torch gives float32 floats, uint8 images, bool masks and int64 ints on the device."""
    buf = filled([6, 8], image=True)
    t = to_torch(buf.sample(4, 2, rng=np.random.default_rng(0)), "cpu")
    assert t["obs"]["observation"].dtype == torch.float32
    assert t["obs"]["pixels"].dtype == torch.uint8
    assert t["planner_mask"].dtype == torch.bool
    assert t["future_offset"].dtype == torch.int64
    assert t["actions"].dtype == torch.float32 and t["actions"].shape == (4, 2, A)
    assert t["goal_obs"]["pixels"].device == torch.device("cpu")
    assert to_torch({"x": np.zeros(2, np.int32), "y": np.zeros(2)}, "cpu")["x"].dtype == torch.int64


def test_config_is_strict():
    """ReplayBufferConfig rejects unknown fields and non-positive capacity."""
    with pytest.raises(ValidationError):
        ReplayBufferConfig(capacity=0)
    with pytest.raises(ValidationError):
        ReplayBufferConfig(capcity=10)


def test_terminal_flag_marks_only_the_last_step_of_a_terminated_episode(tmp_path):
    """terminals is True exactly at the last transition of a terminated episode, and survives save/load."""
    buf = ReplayBuffer()
    for ep, (t, term) in enumerate([(6, True), (8, False)]):
        obs, actions, costs, goal, mask = episode(ep, t)
        buf.add_episode(obs, actions, costs, goal, planner_mask=mask, terminated=term)
    for b in (buf, _roundtrip(buf, tmp_path)):
        s = b.sample(400, 2, rng=np.random.default_rng(0))
        ep = s["obs"]["observation"][:, 0, 0].astype(int)
        t0 = s["obs"]["observation"][:, 0, 1].astype(int)
        expected = (ep[:, None] == 0) & (t0[:, None] + np.arange(2) == 5)
        assert np.array_equal(s["terminals"], expected) and expected.any()


def test_version_1_files_load_without_terminals(tmp_path):
    """A buffer file written before terminal flags loads, with no episode terminated."""
    buf = filled([5, 7])
    path = tmp_path / "old.npz"
    buf.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k not in ("meta", "terminal")}
        meta = json.loads(str(data["meta"]))
    meta["version"] = 1
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    old = ReplayBuffer.load(path)
    assert old.num_steps == 12 and not old.sample(50, 2, rng=np.random.default_rng(0))["terminals"].any()


def _roundtrip(buf: ReplayBuffer, tmp_path) -> ReplayBuffer:
    path = tmp_path / "buf.npz"
    buf.save(path)
    return ReplayBuffer.load(path)
