"""Tests for memory.LandmarkGraph: landmarks of visited points and the passages episodes took."""

import numpy as np
import pytest

from jepa_agent.memory import LandmarkGraph


def u_walk(n: int = 60) -> np.ndarray:
    """Points of a walk round a wall: up x=0, across y=3, down x=3 (the wall is between x=0 and x=3)."""
    up = np.stack([np.zeros(n), np.linspace(0, 3, n)], 1)
    across = np.stack([np.linspace(0, 3, n), np.full(n, 3.0)], 1)
    down = np.stack([np.full(n, 3.0), np.linspace(3, 0, n)], 1)
    return np.concatenate([up, across, down]).astype(np.float32)  # (3n, 2)


def test_every_visited_point_is_near_a_landmark():
    """Farthest-point sampling stops once every point is within spacing of a landmark."""
    pts = u_walk()
    graph = LandmarkGraph.from_episodes([{"achieved_goal": pts, "observation": pts * 2}], spacing=0.5)
    nearest = np.linalg.norm(pts[:, None] - graph.points[None], axis=-1).min(1)
    assert nearest.max() <= 0.5 + 1e-6
    assert 10 <= len(graph) <= 40
    # a landmark's observation is the stored observation of the point it was taken from
    np.testing.assert_allclose(graph.observations["observation"], graph.points * 2)


def test_sources_say_where_each_landmark_was_taken_from():
    """from_paths keeps the (episode, step) of each landmark: the path's point there is the landmark."""
    a, b = u_walk(), u_walk()[::-1] + np.float32(0.01)
    graph = LandmarkGraph.from_paths([a, b], spacing=0.3)
    for (e, t), p in zip(graph.sources.tolist(), graph.points, strict=True):
        np.testing.assert_allclose((a, b)[e][t], p)


def test_the_route_goes_the_way_the_data_went():
    """From (0, 0) to (3, 0) the straight line crosses the wall; the route climbs to y=3 and back,
    in order, and in both directions once a walk went back."""
    pts = u_walk()
    graph = LandmarkGraph.from_episodes([{"achieved_goal": pts}, {"achieved_goal": pts[::-1].copy()}], spacing=0.5)
    route = graph.points[graph.route(np.array([0.0, 0.0]), np.array([3.0, 0.0]))]  # (K, 2)
    assert route[:, 1].max() > 2.5  # over the wall
    x, y = route[:, 0], route[:, 1]
    along = np.where(x < 0.25, y, np.where(y > 2.75, 3 + x, 9 - y))  # arc length along the U
    assert (np.diff(along) > 0).all()  # each landmark farther along the U than the one before
    back = graph.points[graph.route(np.array([3.0, 0.0]), np.array([0.0, 0.0]))]
    assert back[:, 1].max() > 2.5


def test_no_route_where_the_data_never_went():
    """Passages are directed as the episodes went, and separate episodes that never meet leave no way between them."""
    pts = u_walk()
    one_way = LandmarkGraph.from_episodes([{"achieved_goal": pts}], spacing=0.5)
    assert one_way.route(np.array([3.0, 0.0]), np.array([0.0, 0.0])) == []
    apart = LandmarkGraph.from_episodes(
        [{"achieved_goal": pts[:20]}, {"achieved_goal": pts[-20:]}], spacing=0.5)
    assert apart.shortest_path(*apart.nearest(np.array([[0.0, 0.0], [3.0, 0.0]]))) is None


def test_bad_input_is_refused():
    """No episodes, a missing key, or a spacing <= 0 is a clear error."""
    with pytest.raises(ValueError, match="at least one episode"):
        LandmarkGraph.from_episodes([], spacing=0.5)
    with pytest.raises(ValueError, match="achieved_goal"):
        LandmarkGraph.from_episodes([{"observation": u_walk()}], spacing=0.5)
    with pytest.raises(ValueError, match="spacing"):
        LandmarkGraph.from_episodes([{"achieved_goal": u_walk()}], spacing=0.0)
