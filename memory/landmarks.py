"""A map of where the stored episodes went: landmarks and the passages between them.

The goal energies a planner descends (a latent distance, a probe's straight-line distance,
a critic that sees ~30 steps) fall through a wall as fast as round it. The replay already
knows the way round: no episode ever passed through a wall. :class:`LandmarkGraph` keeps
that knowledge as a graph, as Search on the Replay Buffer (SoRB, Eysenbach et al. 2019) and
Sparse Graphical Memory (Emmons et al. 2020) do:

* landmarks: visited points (in achieved-goal space, a position) chosen by farthest-point
  sampling until every visited point lies within ``spacing`` of one;
* edges: landmark ``a`` to ``b`` where some episode stepped from a point nearest ``a`` to a
  point nearest ``b`` (a passage the data took), weighted by the landmarks' distance;
* :meth:`route`: the shortest way from the landmark nearest a start to the one nearest a
  goal (Dijkstra), as the landmarks to pass.

A region is no wider than ``spacing``, so with ``spacing`` below a wall's thickness two
regions on either side of a wall are never joined: the graph respects walls it was never
told about. numpy only.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

import numpy as np


class LandmarkGraph:
    """Landmarks (L, G) in achieved-goal space, where each was taken from, and directed passages.

    Shapes: points (L, G); sources (L, 2) int64, the (episode, step) each landmark was taken
    from (its stored observation is a goal observation for the planner); edges {a: {b: weight}}.
    ``observations`` ({key: (L, ...)}) is filled by whoever holds the episodes, when wanted.
    """

    def __init__(self, points: np.ndarray, sources: np.ndarray, edges: Mapping[int, Mapping[int, float]]) -> None:
        if points.ndim != 2 or points.shape[0] == 0:
            raise ValueError(f"points must be (L, G) with L >= 1, got {points.shape}")
        if sources.shape != (points.shape[0], 2):
            raise ValueError(f"sources must be (L, 2)=({points.shape[0]}, 2), got {sources.shape}")
        self.points, self.sources = points, sources
        self.edges = {int(a): {int(b): float(w) for b, w in nbrs.items()} for a, nbrs in edges.items()}
        self.observations: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def num_edges(self) -> int:
        return sum(len(n) for n in self.edges.values())

    @classmethod
    def from_paths(cls, paths: Sequence[np.ndarray], *, spacing: float, max_landmarks: int = 1024) -> LandmarkGraph:
        """Build the map from episodes' achieved goals (``paths[e]`` (T+1, G)). Landmarks come
        first from the first point of the first episode, then farthest-point sampling, until
        every point lies within ``spacing`` of one or there are ``max_landmarks``."""
        if spacing <= 0:
            raise ValueError(f"spacing must be > 0, got {spacing}")
        if len(paths) == 0:
            raise ValueError("a landmark graph needs at least one episode, got none")
        lengths = [len(p) for p in paths]
        pts = np.concatenate([np.asarray(p, dtype=np.float64).reshape(n, -1)
                              for p, n in zip(paths, lengths, strict=True)])  # (N, G)
        chosen = [0]
        nearest = np.linalg.norm(pts - pts[0], axis=-1)  # (N,) distance to the closest landmark
        while len(chosen) < max_landmarks:
            far = int(nearest.argmax())
            if nearest[far] <= spacing:
                break
            chosen.append(far)
            nearest = np.minimum(nearest, np.linalg.norm(pts - pts[far], axis=-1))
        points = pts[chosen]  # (L, G)
        owner = cls._nearest(points, pts)  # (N,) each point's landmark
        edges: dict[int, dict[int, float]] = {}
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # (E,) first row of each episode
        for start, n in zip(starts.tolist(), lengths, strict=True):
            ids = owner[start:start + n]  # (T+1,)
            step = np.flatnonzero(ids[1:] != ids[:-1])  # (M,) steps that cross into another region
            for a, b in zip(ids[step].tolist(), ids[step + 1].tolist(), strict=True):
                edges.setdefault(a, {})[b] = float(np.linalg.norm(points[a] - points[b]))
        rows = np.asarray(chosen)
        episode = np.searchsorted(starts, rows, side="right") - 1  # (L,)
        sources = np.stack([episode, rows - starts[episode]], axis=1).astype(np.int64)  # (L, 2)
        return cls(points.astype(np.float32), sources, edges)

    @classmethod
    def from_episodes(
        cls, episodes: Iterable[Mapping[str, np.ndarray]], *, key: str = "achieved_goal", spacing: float,
        max_landmarks: int = 1024,
    ) -> LandmarkGraph:
        """:meth:`from_paths` on episodes' observations (each ``{key: (T+1, G), ...}``), with
        each landmark's observation (every key) in :attr:`observations`. Holds every episode
        at once: for large image replays, build from the paths and gather the few
        observations from the sources instead."""
        eps = [dict(ep) for ep in episodes]
        if any(key not in ep for ep in eps):
            raise ValueError(f"every episode needs observations {key!r}, got keys {sorted(eps[0])}")
        graph = cls.from_paths([ep[key] for ep in eps], spacing=spacing, max_landmarks=max_landmarks)
        graph.gather_observations(eps)
        return graph

    def gather_observations(self, episodes: Iterable[Mapping[str, np.ndarray]]) -> None:
        """Fill :attr:`observations` from the episodes the graph was built from, in the same
        order (each ``{key: (T+1, ...)}``): one pass that keeps only the landmarks' rows."""
        wanted: dict[int, list[tuple[int, int]]] = {}  # episode -> [(landmark, step)]
        for i, (e, t) in enumerate(self.sources.tolist()):
            wanted.setdefault(e, []).append((i, t))
        found: dict[str, list[np.ndarray]] = {}
        for e, ep in enumerate(episodes):
            for i, t in wanted.get(e, ()):
                for k, v in ep.items():
                    found.setdefault(k, [np.empty(0)] * len(self))[i] = np.asarray(v[t])
        self.observations = {k: np.stack(v) for k, v in found.items()}

    @staticmethod
    def _nearest(points: np.ndarray, queries: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """Index of the nearest of ``points`` (L, G) for each of ``queries`` (N, G) -> (N,)."""
        out = np.empty(len(queries), dtype=np.int64)
        for i in range(0, len(queries), chunk):
            q = queries[i:i + chunk]  # (n, G)
            out[i:i + chunk] = ((q[:, None, :] - points[None]) ** 2).sum(-1).argmin(1)
        return out

    def nearest(self, queries: np.ndarray) -> np.ndarray:
        """The landmark nearest each point. Shapes: queries (N, G) -> (N,) int64."""
        q = np.asarray(queries, dtype=np.float64).reshape(-1, self.points.shape[1])
        return self._nearest(self.points.astype(np.float64), q)

    def shortest_path(self, a: int, b: int) -> list[int] | None:
        """Landmarks from ``a`` to ``b`` (both included) along the lightest passages
        (Dijkstra), or None when the data never went from one to the other."""
        dist, prev = {a: 0.0}, {}
        todo = [(0.0, a)]
        while todo:
            d, u = heapq.heappop(todo)
            if u == b:
                path = [b]
                while path[-1] != a:
                    path.append(prev[path[-1]])
                return path[::-1]
            if d > dist.get(u, np.inf):
                continue
            for v, w in self.edges.get(u, {}).items():
                if d + w < dist.get(v, np.inf):
                    dist[v], prev[v] = d + w, u
                    heapq.heappush(todo, (d + w, v))
        return None

    def route(self, start: np.ndarray, goal: np.ndarray) -> list[int]:
        """The landmarks to pass on the way from ``start`` to ``goal`` (points (G,)): the
        shortest path between their nearest landmarks, without the start's own (the agent is
        there) and without the goal's (the goal itself comes after). Empty when they share a
        landmark or the data never joined them (then: straight to the goal).

        Shapes: start (G,), goal (G,) -> a list of landmark indices."""
        a, b = self.nearest(np.stack([start, goal]))
        path = self.shortest_path(int(a), int(b))
        return [] if path is None else path[1:-1]
