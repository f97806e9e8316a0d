"""Detour pairs: known answers on a small maze, determinism, and the refusal when too few exist."""

import pytest

from envs.maze_pairs import detour_pairs, free_cells, line_blocked, path_length

U = [  # Gymnasium-Robotics' U-maze
    [1, 1, 1, 1, 1],
    [1, 0, 0, 0, 1],
    [1, 1, 1, 0, 1],
    [1, 0, 0, 0, 1],
    [1, 1, 1, 1, 1],
]


def test_known_answers_on_the_u_maze():
    assert free_cells(U) == [(1, 1), (1, 2), (1, 3), (2, 3), (3, 1), (3, 2), (3, 3)]
    assert line_blocked(U, (1, 1), (3, 1))  # straight down through the wall row
    assert not line_blocked(U, (1, 1), (1, 3))  # along the top corridor
    assert path_length(U, (1, 1), (3, 1)) == 6 and path_length(U, (1, 1), (1, 3)) == 2
    assert path_length([[0, 1, 0]], (0, 0), (0, 2)) == -1


def test_pairs_are_blocked_long_distinct_and_seeded():
    pairs = detour_pairs(U, 4, seed=3)
    assert len(set(pairs)) == 4 and pairs == detour_pairs(U, 4, seed=3)
    for a, b in pairs:
        assert line_blocked(U, a, b) and path_length(U, a, b) >= 3
    with pytest.raises(ValueError, match="detour pairs"):
        detour_pairs(U, 100)
