"""Tests for agent.app.dataset (Minari datasets) and ReplayBuffer.episodes."""

from types import SimpleNamespace

import numpy as np
import pytest

minari = pytest.importorskip("minari")
pytest.importorskip("h5py")

import gymnasium as gym  # noqa: E402

import jepa_agent.agent.app.dataset as dataset_module  # noqa: E402
from jepa_agent.agent.app.dataset import fill_replay, load_minari, shard_episodes, write_minari  # noqa: E402
from jepa_agent.memory import ReplayBuffer, ReplayBufferConfig  # noqa: E402

A = 2
ACTION_SPACE = gym.spaces.Box(-1.0, 1.0, (A,), np.float32)
STATE_SPACE = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)


def make_episode(rng, t, *, image=None, flat=False, terminated=False):
    """A random episode as add_episode takes it (keyword arguments included)."""
    obs = {"observation" if flat else "state": rng.normal(size=(t + 1, 3)).astype(np.float32)}
    goal = {k: rng.normal(size=v.shape[1:]).astype(np.float32) for k, v in obs.items()}
    if image is not None:
        obs["pixels"] = rng.integers(0, 256, (t + 1, *image), dtype=np.uint8)
        goal["pixels"] = rng.integers(0, 256, image, dtype=np.uint8)
    return {
        "obs": obs,
        "actions": rng.uniform(-1, 1, (t, A)).astype(np.float32),
        "costs": rng.normal(size=t).astype(np.float32),
        "goal_obs": goal,
        "planner_mask": rng.random(t) < 0.5,
        "terminated": terminated,
    }


def make_replay(episodes, capacity=1_000_000):
    replay = ReplayBuffer(ReplayBufferConfig(capacity=capacity))
    for ep in episodes:
        replay.add_episode(
            ep["obs"],
            ep["actions"],
            ep["costs"],
            ep["goal_obs"],
            planner_mask=ep["planner_mask"],
            terminated=ep["terminated"],
        )
    return replay


def assert_episode_equal(got, want):
    assert set(got["obs"]) == set(want["obs"])
    for k in want["obs"]:
        assert got["obs"][k].dtype == want["obs"][k].dtype, k
        np.testing.assert_array_equal(got["obs"][k], want["obs"][k])
        assert got["goal_obs"][k].dtype == want["goal_obs"][k].dtype, k
        np.testing.assert_array_equal(got["goal_obs"][k], want["goal_obs"][k])
    np.testing.assert_array_equal(got["actions"], want["actions"])
    np.testing.assert_array_equal(got["costs"], want["costs"])
    np.testing.assert_array_equal(got["planner_mask"], want["planner_mask"])
    assert got["terminated"] is want["terminated"]


def dict_space(image=None):
    spaces = {"state": STATE_SPACE}
    if image is not None:
        spaces["pixels"] = gym.spaces.Box(0, 255, image, np.uint8)
    return gym.spaces.Dict(spaces)


# -- ReplayBuffer.episodes ------------------------------------------------------


def test_episodes_round_trips_add_episode_oldest_first():
    """episodes() yields exactly what add_episode stored, oldest first, after evictions too."""
    rng = np.random.default_rng(0)
    eps = [make_episode(rng, t, image=(4, 4, 3), terminated=t % 2 == 0) for t in (4, 3, 6, 2, 5)]
    replay = make_replay(eps, capacity=14)  # holds the last three (6 + 2 + 5 = 13 steps)
    got = list(replay.episodes())
    assert len(got) == replay.num_episodes == 3
    for g, w in zip(got, eps[2:], strict=True):
        assert_episode_equal(g, w)


def test_episodes_yields_copies():
    """Writing into a yielded episode leaves the buffer unchanged."""
    rng = np.random.default_rng(1)
    ep = make_episode(rng, 3)
    replay = make_replay([ep])
    first = next(replay.episodes())
    first["obs"]["state"][:] = 99.0
    first["actions"][:] = 99.0
    first["goal_obs"]["state"][:] = 99.0
    assert_episode_equal(next(replay.episodes()), ep)


def test_episodes_refuses_an_episode_evicted_mid_iteration():
    """Evicting an episode not yet yielded during iteration raises RuntimeError."""
    rng = np.random.default_rng(2)
    replay = make_replay([make_episode(rng, 3) for _ in range(3)], capacity=9)
    it = replay.episodes()
    next(it)
    e = make_episode(rng, 6)
    replay.add_episode(e["obs"], e["actions"], e["costs"], e["goal_obs"])  # evicts two
    with pytest.raises(RuntimeError, match="evicted"):
        next(it)


def test_episodes_of_empty_buffer_is_empty():
    """An empty buffer yields no episodes."""
    assert list(ReplayBuffer().episodes()) == []


# -- write_minari / load_minari / fill_replay round trips -------------------------


def test_round_trip_dict_observations(tmp_path):
    """Replay -> Minari -> replay keeps dict obs, actions, costs, masks, flags and goals."""
    rng = np.random.default_rng(3)
    eps = [make_episode(rng, t, image=(8, 8, 3), terminated=t == 4) for t in (4, 1, 6)]
    d = write_minari(
        make_replay(eps),
        "test/dict-v0",
        observation_space=dict_space((8, 8, 3)),
        action_space=ACTION_SPACE,
        path=tmp_path,
    )
    assert d == tmp_path / "test" / "dict-v0" and (d / "data" / "metadata.json").is_file()
    ds = load_minari(d)
    assert ds.total_episodes == 3 and ds.total_steps == 11

    back = ReplayBuffer()
    assert fill_replay(back, ds) == 11
    got = list(back.episodes())
    assert len(got) == 3
    for g, w in zip(got, eps, strict=True):
        assert_episode_equal(g, w)


def test_minari_episode_fields(tmp_path):
    """Minari sees rewards = -costs, one termination or truncation at the end, per-step goals."""
    rng = np.random.default_rng(4)
    eps = [make_episode(rng, 3, flat=True, terminated=True), make_episode(rng, 5, flat=True)]
    d = write_minari(
        make_replay(eps),
        "flat-v1",
        observation_space=STATE_SPACE,
        action_space=ACTION_SPACE,
        path=tmp_path,
    )
    terminated, truncated = list(load_minari(d))
    np.testing.assert_array_equal(terminated.terminations, [False, False, True])
    np.testing.assert_array_equal(terminated.truncations, [False, False, False])
    np.testing.assert_array_equal(truncated.terminations, [False] * 5)
    np.testing.assert_array_equal(truncated.truncations, [False] * 4 + [True])
    for ep, want in zip((terminated, truncated), eps, strict=True):
        np.testing.assert_array_equal(ep.rewards, -want["costs"].astype(np.float64))
        # A Box observation space: observations and goals are bare arrays, not dicts.
        np.testing.assert_array_equal(ep.observations, want["obs"]["observation"])
        goal = ep.infos["goal_observation"]
        assert goal.shape == (len(ep) + 1, 3)
        np.testing.assert_array_equal(
            goal, np.broadcast_to(want["goal_obs"]["observation"], goal.shape)
        )


def test_round_trip_flat_box_observations(tmp_path):
    """A flat Box env's replay comes back under "observation" with flags and goals intact."""
    rng = np.random.default_rng(5)
    eps = [make_episode(rng, t, flat=True, terminated=t == 2) for t in (2, 7)]
    d = write_minari(
        make_replay(eps),
        "flat-v0",
        observation_space=STATE_SPACE,
        action_space=ACTION_SPACE,
        path=tmp_path,
    )
    back = ReplayBuffer()
    assert fill_replay(back, load_minari(d)) == 9
    assert back.num_terminated == 1
    for g, w in zip(back.episodes(), eps, strict=True):
        assert_episode_equal(g, w)


def test_round_trip_uint8_image_is_lossless(tmp_path):
    """A noise image large enough for Minari's JPEG path comes back bit-exact and uint8."""
    rng = np.random.default_rng(6)
    shape = (32, 32, 3)  # Minari JPEG-encodes uint8 Boxes from 32x32 up unless told not to
    eps = [make_episode(rng, 3, image=shape)]
    d = write_minari(
        make_replay(eps),
        "image-v0",
        observation_space=dict_space(shape),
        action_space=ACTION_SPACE,
        path=tmp_path,
    )
    back = ReplayBuffer()
    fill_replay(back, load_minari(d))
    (got,) = back.episodes()
    assert got["obs"]["pixels"].dtype == np.uint8
    assert_episode_equal(got, eps[0])


def test_write_records_env_spec_author_and_description(tmp_path):
    """env_id, author and description land in the dataset's metadata."""
    pytest.importorskip("mujoco")
    from jepa_agent import envs  # noqa: F401  (registers jepa_agent/Reach2D-v0)

    rng = np.random.default_rng(7)
    d = write_minari(
        make_replay([make_episode(rng, 2, flat=True)]),
        "meta-v0",
        observation_space=STATE_SPACE,
        action_space=ACTION_SPACE,
        env_id="jepa_agent/Reach2D-v0",
        path=tmp_path,
        author="someone",
        description="two steps",
    )
    ds = load_minari(d)
    assert ds.env_spec.id == "jepa_agent/Reach2D-v0"
    assert ds.spec.dataset_id == "meta-v0"
    assert ds.storage.metadata["author"] == {"someone"}
    assert ds.storage.metadata["description"] == "two steps"


# -- loading ------------------------------------------------------------------


def test_load_by_id_and_by_path(tmp_path, monkeypatch):
    """A dataset written to Minari's root loads by id, by its directory and by its data/ folder."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    rng = np.random.default_rng(8)
    d = write_minari(
        make_replay([make_episode(rng, 4)]),
        "jepa/load-v2",
        observation_space=dict_space(),
        action_space=ACTION_SPACE,
    )
    assert d == tmp_path / "jepa" / "load-v2"
    assert list(minari.list_local_datasets()) == ["jepa/load-v2"]
    for source in ("jepa/load-v2", d, str(d), d / "data"):
        ds = load_minari(source)
        assert ds.spec.dataset_id == "jepa/load-v2" and ds.total_steps == 4


def test_missing_dataset_lists_local_ids(tmp_path, monkeypatch):
    """An unknown id or path raises FileNotFoundError naming it and the local ids."""
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    rng = np.random.default_rng(9)
    write_minari(
        make_replay([make_episode(rng, 2)]),
        "present-v0",
        observation_space=dict_space(),
        action_space=ACTION_SPACE,
    )
    with pytest.raises(FileNotFoundError, match=r"'absent-v0'.*\['present-v0'\]"):
        load_minari("absent-v0")
    with pytest.raises(FileNotFoundError, match="nowhere.*present-v0"):
        load_minari(tmp_path / "nowhere")


# -- refusals -------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id", ["noversion", "name-v", "bad name-v0", "../up-v0", "a/.b-v0", ""]
)
def test_bad_dataset_id_refused(tmp_path, bad_id):
    """A dataset id not of the form [namespace/]name-vN raises ValueError quoting it."""
    replay = make_replay([make_episode(np.random.default_rng(10), 2)])
    with pytest.raises(
        ValueError, match=r"\[namespace/\]name-vN.*got " + repr(bad_id).replace(".", r"\.")
    ):
        write_minari(
            replay, bad_id, observation_space=dict_space(), action_space=ACTION_SPACE, path=tmp_path
        )
    assert list(tmp_path.iterdir()) == []


def test_empty_replay_refused(tmp_path):
    """Writing an empty replay raises ValueError."""
    with pytest.raises(ValueError, match="no episodes"):
        write_minari(
            ReplayBuffer(),
            "empty-v0",
            observation_space=dict_space(),
            action_space=ACTION_SPACE,
            path=tmp_path,
        )


@pytest.mark.parametrize(
    ("observation_space", "action_space", "message"),
    [
        (STATE_SPACE, ACTION_SPACE, "one key 'observation'"),
        (gym.spaces.Dict({"other": STATE_SPACE}), ACTION_SPACE, r"keys must be .*\['state'\]"),
        (dict_space(), gym.spaces.Box(-1, 1, (3,)), r"shape \(A,\)=\(2,\)"),
        (gym.spaces.Dict({"state": gym.spaces.Box(-1, 1, (4,))}), ACTION_SPACE, r"shape \(3,\)"),
        (
            gym.spaces.Dict({"state": gym.spaces.Box(0, 9, (3,), np.uint8)}),
            ACTION_SPACE,
            "floating",
        ),
    ],
)
def test_spaces_that_do_not_match_the_data_refused(
    tmp_path, observation_space, action_space, message
):
    """Spaces whose keys, shapes or dtypes disagree with the replay raise ValueError."""
    replay = make_replay([make_episode(np.random.default_rng(11), 2)])
    with pytest.raises(ValueError, match=message):
        write_minari(
            replay,
            "spaces-v0",
            observation_space=observation_space,
            action_space=action_space,
            path=tmp_path,
        )


def test_overwrite_refused_unless_asked(tmp_path):
    """Writing over a dataset raises FileExistsError unless overwrite=True, which replaces it."""
    rng = np.random.default_rng(12)
    kwargs = {"observation_space": dict_space(), "action_space": ACTION_SPACE, "path": tmp_path}
    d = write_minari(make_replay([make_episode(rng, 2)]), "same-v0", **kwargs)
    with pytest.raises(FileExistsError, match=str(d)):
        write_minari(make_replay([make_episode(rng, 3)]), "same-v0", **kwargs)
    assert load_minari(d).total_steps == 2

    d2 = write_minari(make_replay([make_episode(rng, 3)] * 2), "same-v0", overwrite=True, **kwargs)
    assert d2 == d and load_minari(d).total_steps == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same-v0"]  # no temporary folders left

    (tmp_path / "plain-v0").mkdir()
    with pytest.raises(FileExistsError, match="not a Minari dataset"):
        write_minari(make_replay([make_episode(rng, 2)]), "plain-v0", overwrite=True, **kwargs)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    """An error while writing episodes leaves no dataset and no temporary folder."""

    def broken(replay, obs_is_dict):
        raise OSError("disk full")
        yield

    monkeypatch.setattr(dataset_module, "_episode_buffers", broken)
    replay = make_replay([make_episode(np.random.default_rng(13), 2)])
    with pytest.raises(OSError, match="disk full"):
        write_minari(
            replay,
            "broken-v0",
            observation_space=dict_space(),
            action_space=ACTION_SPACE,
            path=tmp_path,
        )
    assert list(tmp_path.iterdir()) == []


# -- datasets written by others ----------------------------------------------------


def test_fill_replay_from_plain_minari_dataset(tmp_path, monkeypatch):
    """A plain Minari dataset loads as float32 obs, goal = first obs, costs = -rewards."""
    from minari.data_collector.episode_buffer import EpisodeBuffer

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    rng = np.random.default_rng(14)
    episodes = []
    for t, terminated in ((3, True), (5, False), (2, False)):
        terminations = np.zeros(t, dtype=bool)
        terminations[-1] = terminated
        episodes.append(
            EpisodeBuffer(
                observations=rng.normal(size=(t + 1, 4)),  # float64, as many datasets are
                actions=rng.uniform(-1, 1, (t, A)),
                rewards=rng.normal(size=t),
                terminations=terminations,
                truncations=~terminations & (np.arange(t) == t - 1),
            )
        )
    with pytest.warns(UserWarning):  # Minari asks for author, permalink, ...
        minari.create_dataset_from_buffers(
            "others/plain-v0",
            episodes,
            observation_space=gym.spaces.Box(-np.inf, np.inf, (4,), np.float64),
            action_space=gym.spaces.Box(-1, 1, (A,), np.float64),
        )

    replay = ReplayBuffer()
    assert fill_replay(replay, load_minari("others/plain-v0"), max_episodes=2) == 8
    got = list(replay.episodes())
    assert len(got) == 2
    for g, want in zip(got, episodes[:2], strict=True):
        assert g["obs"]["observation"].dtype == np.float32
        np.testing.assert_allclose(g["obs"]["observation"], want.observations, rtol=1e-6)
        np.testing.assert_array_equal(g["goal_obs"]["observation"], g["obs"]["observation"][0])
        np.testing.assert_allclose(g["costs"], -want.rewards, rtol=1e-6)
        np.testing.assert_allclose(g["actions"], want.actions, rtol=1e-6)
        assert not g["planner_mask"].any()
    assert [g["terminated"] for g in got] == [True, False]


def fake_dataset(episodes, observation_space, action_space):
    """A stand-in for MinariDataset with just what fill_replay reads."""
    return SimpleNamespace(
        id="fake-v0",
        observation_space=observation_space,
        action_space=action_space,
        episode_indices=np.arange(len(episodes)),
        iterate_episodes=lambda idx: (episodes[i] for i in idx),
    )


def test_fill_replay_skips_empty_episodes():
    """Episodes of 0 steps are skipped and not counted."""
    rng = np.random.default_rng(15)

    def ep(i, t):
        return minari.EpisodeData(
            id=i,
            observations=rng.normal(size=(t + 1, 3)),
            actions=rng.normal(size=(t, A)),
            rewards=rng.normal(size=t),
            terminations=np.zeros(t, dtype=bool),
            truncations=np.zeros(t, dtype=bool),
            infos={},
        )

    ds = fake_dataset([ep(0, 2), ep(1, 0), ep(2, 3)], STATE_SPACE, ACTION_SPACE)
    replay = ReplayBuffer()
    assert fill_replay(replay, ds) == 5
    np.testing.assert_array_equal(replay.episode_lengths(), [2, 3])


def test_fill_replay_refuses_discrete_actions():
    """A dataset with a non-Box action space raises ValueError naming the space."""
    ds = fake_dataset([], STATE_SPACE, gym.spaces.Discrete(3))
    with pytest.raises(ValueError, match="action space must be a Box.*Discrete"):
        fill_replay(ReplayBuffer(), ds)


def test_fill_replay_names_the_bad_episode():
    """An episode the replay refuses is named in the ValueError."""
    bad = minari.EpisodeData(
        id=7,
        observations=np.zeros((3, 3)),  # T+1 = 3 but T = 3 below
        actions=np.zeros((3, A)),
        rewards=np.zeros(3),
        terminations=np.zeros(3, dtype=bool),
        truncations=np.zeros(3, dtype=bool),
        infos={},
    )
    with pytest.raises(ValueError, match=r"episode 7: obs\['observation'\] must be \(T\+1"):
        fill_replay(ReplayBuffer(), fake_dataset([bad], STATE_SPACE, ACTION_SPACE))


# -- sharding -----------------------------------------------------------------------


@pytest.mark.parametrize("world_size", [1, 2, 3, 5])
@pytest.mark.parametrize("n_episodes", [0, 1, 4, 11])
def test_shard_episodes_partition(n_episodes, world_size):
    """The shards of all ranks partition range(n_episodes), each i going to rank i % world_size."""
    shards = [shard_episodes(n_episodes, r, world_size) for r in range(world_size)]
    assert sorted(i for s in shards for i in s) == list(range(n_episodes))
    for rank, shard in enumerate(shards):
        assert all(i % world_size == rank for i in shard)


@pytest.mark.parametrize(("rank", "world_size"), [(-1, 2), (2, 2), (0, 0), (1.0, 2)])
def test_shard_episodes_bad_rank(rank, world_size):
    """A rank outside [0, world_size) or a non-positive world_size raises ValueError."""
    with pytest.raises(ValueError, match="rank|world_size"):
        shard_episodes(4, rank, world_size)
