"""The configurator's practice-goal choosers: the thinnest cells, and every visited cell evenly."""

import numpy as np

from jepa_agent.configurator import Configurator


def test_sparsest_takes_the_least_visited_candidates():
    visits = np.array([5.0, 1.0, 9.0, 1.0, 3.0, 2.0])
    rng = np.random.default_rng(0)
    assert sorted(Configurator.sparsest(visits, 3, rng).tolist()) == [1, 3, 5]
    ties = {tuple(sorted(Configurator.sparsest(visits, 1, np.random.default_rng(s)).tolist())) for s in range(20)}
    assert ties == {(1,), (3,)}  # the two with one visit, each chosen some of the time


def test_achiever_draws_each_cell_about_equally_often():
    """Candidates in cells of 1, 3 and 6 visits (a cell's candidates are as many as its
    visits): each cell is drawn about a third of the time."""
    cell = np.array([0] + [1] * 3 + [2] * 6)
    visits = np.array([1.0] + [3.0] * 3 + [6.0] * 6)
    idx = Configurator.achiever(visits, 30_000, np.random.default_rng(0))
    share = np.bincount(cell[idx], minlength=3) / len(idx)
    np.testing.assert_allclose(share, [1 / 3] * 3, atol=0.02)
    assert len(Configurator.achiever(visits, 4, np.random.default_rng(0))) == 4
