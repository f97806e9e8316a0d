"""benchmarks/stats.py: the interquartile mean and the (stratified) bootstrap interval."""

import numpy as np
import pytest

from benchmarks.stats import bootstrap_ci, iqm


def test_iqm_known_answers():
    """The IQM drops floor(n/4) values at each end (scipy's trim_mean(x, 0.25)); n < 4 is the mean."""
    assert iqm([1.0, 2.0, 3.0]) == pytest.approx(2.0)
    assert iqm([0.0, 2.0, 3.0, 100.0]) == pytest.approx(2.5)
    assert iqm([5.0, -50.0, 1.0, 2.0, 3.0, 4.0, 99.0, 6.0]) == pytest.approx(3.5)
    assert iqm([[1.0, 2.0], [3.0, 4.0]]) == pytest.approx(2.5)  # flattened
    with pytest.raises(ValueError, match="at least one value"):
        iqm([])


def test_bootstrap_interval_is_seeded_and_brackets_the_iqm():
    """The 95% interval is the same on every call and contains the IQM of the seeds."""
    values = [0.98, 0.48, 0.86, 0.94, 0.90, 0.98]
    lo, hi = bootstrap_ci(values)
    assert (lo, hi) == bootstrap_ci(values)
    assert lo <= iqm(values) <= hi and lo >= min(values) and hi <= max(values)
    assert bootstrap_ci(values, seed=1) != (lo, hi)


def test_one_task_given_as_a_list_of_tasks_is_the_same_interval():
    values = [3.0, 1.0, 4.0, 1.0, 5.0]
    assert bootstrap_ci([values]) == bootstrap_ci(values)


def test_stratified_bootstrap_resamples_within_each_task():
    """Two tasks whose seeds agree have no spread to resample: the interval is the point.
    Pooled instead of stratified, replicates drawing 0s from both tasks would widen it."""
    assert bootstrap_ci([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], np.mean) == pytest.approx((0.5, 0.5))
    lo, hi = bootstrap_ci([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], np.mean)
    assert lo == hi
    # different seed counts per task are fine; the interval holds the statistic of the data
    tasks = [[1.0, 2.0, 3.0], [10.0, 11.0]]
    lo, hi = bootstrap_ci(tasks)
    assert lo <= iqm(np.concatenate([np.asarray(t) for t in tasks])) <= hi


def test_a_narrower_confidence_gives_a_narrower_interval():
    values = np.random.default_rng(0).normal(size=20)
    lo95, hi95 = bootstrap_ci(values)
    lo50, hi50 = bootstrap_ci(values, confidence=0.5)
    assert lo95 < lo50 < hi50 < hi95


@pytest.mark.parametrize(("values", "message"), [([], "at least one value"), ([[1.0], []], "task 1 has no values")])
def test_bad_input_is_named(values, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_ci(values)
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\)"):
        bootstrap_ci([1.0, 2.0], confidence=1.0)
