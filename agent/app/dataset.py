"""Offline datasets in the Minari format (Farama's standard for offline RL data).

:func:`write_minari` turns the episodes of a :class:`~memory.replay.ReplayBuffer`
into a Minari dataset, :func:`load_minari` opens one by local path or id, and
:func:`fill_replay` adds a dataset's episodes to a replay buffer, so the world
model can be trained on data collected elsewhere or in earlier runs. Minari is
imported only inside these functions: ``import jepa_agent.agent`` does not need it.

How an episode of T steps maps between the two:

=================================  =============================================
ReplayBuffer                       Minari episode
=================================  =============================================
obs {"observation": (T+1, ...)}    observations (T+1, ...)           (Box space)
obs {key: (T+1, ...)}              observations {key: (T+1, ...)}   (Dict space)
actions (T, A)                     actions (T, A)
costs (T,)                         rewards (T,) = -costs
terminated                         terminations[-1]; all other steps False
not terminated (time limit)        truncations[-1]; all other steps False
goal_obs {key: (...)}              infos["goal_observation"], repeated T+1 times,
                                   laid out like the observations
planner_mask (T,)                  infos["planner_mask"] (T+1,), last one False
=================================  =============================================

Infos are per step (T+1 entries, one per observation, as Minari's DataCollector
records them), which is why the goal is repeated. Datasets written by others
usually have neither info: :func:`fill_replay` then takes the first observation
as the goal and marks no action as the planner's.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from jepa_agent.memory.replay import ReplayBuffer

if TYPE_CHECKING:
    import gymnasium
    import minari

__all__ = ["fill_replay", "load_minari", "shard_episodes", "write_minari"]

logger = logging.getLogger(__name__)

GOAL_INFO = "goal_observation"
"""Key of the per-step goal observation in a Minari episode's infos."""
PLANNER_MASK_INFO = "planner_mask"
"""Key of the per-step "the planner chose this action" flag in a Minari episode's infos."""

_DATA = "data"  # Minari keeps a dataset's files in <dataset dir>/data
_METADATA = "metadata.json"


def write_minari(
    replay: ReplayBuffer,
    dataset_id: str,
    *,
    observation_space: gymnasium.spaces.Space,
    action_space: gymnasium.spaces.Space,
    env_id: str | None = None,
    path: str | os.PathLike[str] | None = None,
    author: str | None = None,
    description: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write every episode held by ``replay`` as the Minari dataset ``dataset_id``.

    The dataset goes to ``<root>/<dataset_id>`` where ``root`` is ``path`` if
    given, else Minari's data root (``MINARI_DATASETS_PATH``, default
    ``~/.minari/datasets``), so ``minari.load_dataset(dataset_id)`` finds it once
    the root is Minari's. It is written to a hidden sibling folder first and
    renamed into place, so a failed write leaves no half dataset behind.

    ``observation_space``: a ``Box`` when the replay holds one key, "observation"
    (a flat Box env), or a ``Dict`` of Boxes with the replay's keys; shapes must
    match the stored observations. ``action_space``: a ``Box`` of shape (A,).
    ``env_id``: a registered Gymnasium id, stored as the dataset's env spec so
    ``dataset.recover_environment()`` works. Images are stored losslessly (Minari's
    JPEG encoding is turned off).

    Returns the dataset directory (the one holding ``data/``). Raises ValueError
    for an empty replay, a malformed id or spaces that do not match the data, and
    FileExistsError if the dataset exists and ``overwrite`` is False.
    """
    import minari
    from minari.dataset.minari_storage import MinariStorage
    from minari.storage.datasets_root_dir import get_dataset_path

    if replay.num_episodes == 0:
        raise ValueError("replay holds no episodes; a Minari dataset needs at least one")
    _check_dataset_id(dataset_id)
    obs_is_dict = _check_spaces(replay, observation_space, action_space)
    env_spec = None
    if env_id is not None:
        import gymnasium

        env_spec = gymnasium.spec(env_id)  # raises gymnasium's NameNotFound for unknown ids

    root = Path(path).resolve() if path is not None else Path(get_dataset_path()).resolve()
    target = root / dataset_id
    if target.exists():
        if not overwrite:
            raise FileExistsError(
                f"a Minari dataset already exists at {target}; pass overwrite=True to replace it"
            )
        if not (target / _DATA / _METADATA).is_file():
            raise FileExistsError(
                f"{target} exists but is not a Minari dataset (no {_DATA}/{_METADATA}); "
                "refusing to replace it"
            )
    target.parent.mkdir(parents=True, exist_ok=True)

    # A hidden name: minari.list_local_datasets skips dot-folders while we write.
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        # MinariStorage rather than minari.create_dataset_from_buffers: the latter
        # always writes under MINARI_DATASETS_PATH (the library never edits
        # os.environ) and instantiates the env from env_id just to read its spaces.
        storage = MinariStorage.new(
            tmp / _DATA,
            observation_space=observation_space,
            action_space=action_space,
            env_spec=env_spec,
            data_format="hdf5",
            jpeg_encoding=False,
        )
        metadata: dict[str, Any] = {"dataset_id": dataset_id, "minari_version": minari.__version__}
        if author is not None:
            metadata["author"] = {author}
        if description is not None:
            metadata["description"] = description
        storage.update_metadata(metadata)
        storage.update_episodes(_episode_buffers(replay, obs_is_dict))
        if target.exists():  # overwrite: swap the new dataset in, then drop the old one
            old = Path(
                tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old")
            )
            os.replace(target, old / target.name)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info(
        "wrote %d episodes (%d steps) as Minari dataset %r to %s",
        replay.num_episodes,
        replay.num_steps,
        dataset_id,
        target,
    )
    return target


def load_minari(id_or_path: str | os.PathLike[str]) -> minari.MinariDataset:
    """Open a Minari dataset from a local directory or by id from the local Minari store.

    ``id_or_path`` is tried first as a directory: a dataset directory (holding
    ``data/``, as :func:`write_minari` returns) or its ``data/`` folder itself.
    Otherwise a string in Minari's ``[namespace/]name-vN`` form is looked up in
    Minari's data root (``MINARI_DATASETS_PATH``). Nothing is downloaded.

    Raises FileNotFoundError naming ``id_or_path`` and listing the local dataset
    ids when neither is found.
    """
    import minari
    from minari.storage.datasets_root_dir import get_dataset_path

    candidate = Path(id_or_path).resolve()
    for data in (candidate / _DATA, candidate):
        if (data / _METADATA).is_file():
            return _open_dataset(lambda data=data: minari.MinariDataset(data), data)
    if isinstance(id_or_path, str) and _is_dataset_id(id_or_path):
        if (get_dataset_path(id_or_path) / _DATA).is_dir():
            return _open_dataset(lambda: minari.load_dataset(id_or_path, download=False),
                                 get_dataset_path(id_or_path) / _DATA)
    local = sorted(minari.list_local_datasets())
    raise FileNotFoundError(
        f"no Minari dataset directory at {str(id_or_path)!r} and no local dataset with that id "
        f"in {get_dataset_path()}; local dataset ids: {local if local else 'none'}"
    )


def _open_dataset(open_it: Callable[[], minari.MinariDataset], data: Path) -> minari.MinariDataset:
    """Minari's reader on ``data``; a file it cannot parse (metadata that is not JSON, data that
    is not HDF5 or Arrow) is one line naming the folder. Minari parses JSON and HDF5 / Arrow
    only: nothing in a dataset is unpickled or run."""
    try:
        return open_it()
    except Exception as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ValueError(f"could not read Minari dataset {data}: {type(err).__name__}: {reason[:200]}") from None


def fill_replay(
    replay: ReplayBuffer,
    dataset: minari.MinariDataset,
    *,
    max_episodes: int | None = None,
) -> int:
    """Add the episodes of a Minari dataset to ``replay``, in the dataset's order.

    Works on any Minari dataset with a Box or Dict-of-Boxes observation space and
    a Box action space: a Box observation becomes ``{"observation": ...}``, floats
    are stored as float32, costs are the negated rewards, an episode is terminated
    if its last step is, and the goal is ``infos["goal_observation"]`` when present
    (datasets from :func:`write_minari`), else the episode's first observation.
    Episodes of 0 steps are skipped. ``max_episodes``: add at most that many (the
    first ones). The replay's capacity still applies: adding more steps than it
    holds evicts its oldest episodes.

    Returns the number of steps (transitions) added. Raises ValueError for
    unsupported spaces or an episode the replay refuses, naming the episode.
    """
    import gymnasium

    if max_episodes is not None and (
        not isinstance(max_episodes, (int, np.integer)) or max_episodes < 0
    ):
        raise ValueError(f"max_episodes must be a non-negative int or None, got {max_episodes!r}")
    obs_space = dataset.observation_space
    if isinstance(obs_space, gymnasium.spaces.Box):
        obs_is_dict = False
    elif isinstance(obs_space, gymnasium.spaces.Dict) and all(
        isinstance(s, gymnasium.spaces.Box) for s in obs_space.spaces.values()
    ):
        obs_is_dict = True
    else:
        raise ValueError(
            f"dataset {dataset.id!r}: observation space must be a Box or a Dict of Boxes, "
            f"got {obs_space}"
        )
    if not isinstance(dataset.action_space, gymnasium.spaces.Box):
        raise ValueError(
            f"dataset {dataset.id!r}: action space must be a Box (continuous actions), "
            f"got {dataset.action_space}"
        )

    indices = dataset.episode_indices
    if max_episodes is not None:
        indices = indices[:max_episodes]
    steps = episodes = skipped = 0
    for ep in _read_episodes(dataset, indices):
        t = len(ep.rewards)
        if t == 0:
            skipped += 1
            continue
        try:
            obs = _to_replay_obs(ep.observations, obs_is_dict)
            infos = ep.infos or {}
            if GOAL_INFO in infos:
                goal_obs = {
                    k: v[0] for k, v in _to_replay_obs(infos[GOAL_INFO], obs_is_dict).items()
                }
            else:
                goal_obs = {k: v[0] for k, v in obs.items()}
            mask = infos.get(PLANNER_MASK_INFO)
            replay.add_episode(
                obs,
                np.asarray(ep.actions).reshape(t, -1),  # a Box of shape () or (A,) -> (T, A)
                -np.asarray(ep.rewards, dtype=np.float64),
                goal_obs,
                planner_mask=None if mask is None else np.asarray(mask[:t], dtype=bool),
                terminated=bool(ep.terminations[-1]),
            )
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise ValueError(f"dataset {dataset.id!r}, episode {ep.id}: {e}") from e
        steps += t
        episodes += 1
    logger.info(
        "added %d episodes (%d steps) from Minari dataset %r; skipped %d empty",
        episodes,
        steps,
        dataset.id,
        skipped,
    )
    return steps


def _read_episodes(dataset: minari.MinariDataset, indices: Any) -> Iterator[Any]:
    """The dataset's episodes; a data file Minari cannot parse (not HDF5 or Arrow: Minari
    reads nothing else, so nothing in it is unpickled or run) is one line naming its folder."""
    episodes = iter(dataset.iterate_episodes(indices))
    while True:
        try:
            ep = next(episodes)
        except StopIteration:
            return
        except Exception as err:
            where = getattr(dataset.storage, "data_path", dataset.id)
            reason = " ".join(str(err).split()) or type(err).__name__
            raise ValueError(f"could not read Minari dataset {where}: {type(err).__name__}: {reason[:200]}") from None
        yield ep


def shard_episodes(n_episodes: int, rank: int, world_size: int) -> list[int]:
    """Episode indices for one of ``world_size`` loaders: every i with i % world_size == rank.

    The shards of ranks 0 .. world_size-1 partition ``range(n_episodes)``. To load
    one shard: ``minari.MinariDataset(ds.storage, episode_indices=ds.episode_indices[shard])``.
    """
    for name, value in (("n_episodes", n_episodes), ("world_size", world_size), ("rank", rank)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ValueError(f"{name} must be an int, got {value!r}")
    if n_episodes < 0:
        raise ValueError(f"n_episodes must be >= 0, got {n_episodes}")
    if world_size < 1:
        raise ValueError(f"world_size must be >= 1, got {world_size}")
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size)=[0, {world_size}), got {rank}")
    return list(range(rank, n_episodes, world_size))


# -- helpers ---------------------------------------------------------------


def _is_dataset_id(dataset_id: str) -> bool:
    """Whether ``dataset_id`` is Minari's ``[namespace/]name-vN`` (version required)."""
    from minari.dataset.minari_dataset import DATASET_ID_RE

    match = DATASET_ID_RE.fullmatch(dataset_id)
    # Minari's pattern makes the version optional, but parse_dataset_id (used by
    # list_local_datasets and MinariDataset) fails on an id without one.
    return match is not None and match.group("version") is not None


def _check_dataset_id(dataset_id: Any) -> None:
    if not isinstance(dataset_id, str) or not _is_dataset_id(dataset_id):
        raise ValueError(
            "dataset_id must be Minari's '[namespace/]name-vN' (letters, digits, '_' and '-', "
            f"e.g. 'jepa_agent/reach2d-random-v0'), got {dataset_id!r}"
        )


def _check_spaces(
    replay: ReplayBuffer,
    observation_space: gymnasium.spaces.Space,
    action_space: gymnasium.spaces.Space,
) -> bool:
    """Check the spaces describe the replay's data; return whether observations are a Dict."""
    import gymnasium

    spec = replay.obs_spec or {}
    if isinstance(observation_space, gymnasium.spaces.Box):
        if set(spec) != {"observation"}:
            raise ValueError(
                "a Box observation_space needs replay observations under the one key "
                f"'observation', got keys {sorted(spec)}; pass a Dict space for those"
            )
        _check_leaf("observation_space", observation_space, *spec["observation"])
        obs_is_dict = False
    elif isinstance(observation_space, gymnasium.spaces.Dict):
        if set(observation_space.spaces) != set(spec):
            raise ValueError(
                f"observation_space keys must be the replay's observation keys {sorted(spec)}, "
                f"got {sorted(observation_space.spaces)}"
            )
        for k, (shape, dtype) in spec.items():
            _check_leaf(f"observation_space[{k!r}]", observation_space[k], shape, dtype)
        obs_is_dict = True
    else:
        raise ValueError(
            "observation_space must be a gymnasium Box or Dict, "
            f"got {type(observation_space).__name__}"
        )
    a = replay.action_dim
    if not isinstance(action_space, gymnasium.spaces.Box) or action_space.shape != (a,):
        raise ValueError(f"action_space must be a Box of shape (A,)=({a},), got {action_space}")
    return obs_is_dict


def _check_leaf(
    name: str, space: gymnasium.spaces.Space, shape: tuple[int, ...], dtype: np.dtype
) -> None:
    """One observation entry's space must be a Box of the stored shape and a compatible dtype."""
    import gymnasium

    floating = np.issubdtype(dtype, np.floating)
    ok = (
        isinstance(space, gymnasium.spaces.Box)
        and space.shape == shape
        and (np.issubdtype(space.dtype, np.floating) if floating else space.dtype == dtype)
    )
    if not ok:
        want = "a floating dtype" if floating else f"dtype {dtype}"
        raise ValueError(
            f"{name} must be a Box of shape {shape} and {want} like the replay's "
            f"observations, got {space}"
        )


def _episode_buffers(replay: ReplayBuffer, obs_is_dict: bool) -> Iterator[Any]:
    """Yield the replay's episodes as Minari EpisodeBuffers, one at a time."""
    from minari.data_collector.episode_buffer import EpisodeBuffer

    def layout(obs: dict[str, np.ndarray]) -> Any:
        return obs if obs_is_dict else obs["observation"]

    for ep in replay.episodes():
        t = len(ep["actions"])
        terminations = np.zeros(t, dtype=bool)
        terminations[-1] = ep["terminated"]
        truncations = np.zeros(t, dtype=bool)
        truncations[-1] = not ep["terminated"]
        goal = {k: np.repeat(v[None], t + 1, axis=0) for k, v in ep["goal_obs"].items()}
        mask = np.concatenate([ep["planner_mask"], np.zeros(1, dtype=bool)])  # (T+1,)
        yield EpisodeBuffer(
            observations=layout(ep["obs"]),
            actions=ep["actions"],
            rewards=-ep["costs"].astype(np.float64),
            terminations=terminations,
            truncations=truncations,
            infos={GOAL_INFO: layout(goal), PLANNER_MASK_INFO: mask},
        )


def _to_replay_obs(obs: Any, obs_is_dict: bool) -> dict[str, np.ndarray]:
    """A Minari episode's observations (array or dict of arrays) as replay observations."""
    if obs_is_dict:
        if not isinstance(obs, dict):
            raise TypeError(f"expected a dict of observation arrays, got {type(obs).__name__}")
        return {k: np.asarray(v) for k, v in obs.items()}
    return {"observation": np.asarray(obs)}


def check_dataset_id_option(dataset_id: str) -> None:
    """Refuse a bad id before collecting (and before minari is imported: it is the data extra)."""
    from jepa_agent.configurator.loading import ConfigError

    require_minari("--format minari")

    try:
        _check_dataset_id(dataset_id)
    except ValueError as err:
        raise ConfigError(f"--dataset-id: {err}") from None


def require_minari(what: str) -> None:
    """Refuse, in one line naming the extra, an option that needs minari when it is not installed."""
    from jepa_agent.configurator.loading import ConfigError

    try:
        import minari  # noqa: F401
    except ImportError:
        raise ConfigError(f"{what} needs minari: pip install -e '.[data]'") from None
