"""benchmarks.reliability on a reduced budget: every injected fault is survived, resume is
exact, the default thread count holds up under load, and a short soak neither grows memory
nor leaks files (the bad inputs: test_bad_inputs.py)."""

from __future__ import annotations

import pytest

from jepa_agent.agent.app.console import DEFAULT_THREADS, prepare_process


@pytest.fixture(autouse=True)
def one_thread():
    prepare_process(DEFAULT_THREADS)


@pytest.mark.parametrize("kind", ["env_error", "sim_unstable", "nonfinite_cost", "act_error", "nonfinite_loss", "update_error"])
def test_every_injected_fault_is_survived_and_counted(reliability, kind):
    record = reliability.inject(kind)
    assert record["survived"], record
    assert record["faults"] == {kind: 2}


def test_resume_is_bitwise_equal(reliability, tmp_path):
    assert reliability.resume_equal("jepa_agent/Reach2D-v0", tmp_path, n=150, m=100)


@pytest.mark.timing
def test_the_default_threads_do_not_spin_wait_when_a_busy_process_shares_the_machine(reliability):
    """The default thread count's median act time with busy processes on the other cores stays
    under 3x its time alone (the 2-thread contrast, for the report, is left out here). Two
    threads that spin-wait on each other measured about 18x (2.9 s against 0.16 s per update);
    one thread measured 1.84-2.20x over 8 runs on 2 vCPUs that run two busy processes at
    about 1.2x the speed of one, so 2x would fail by chance."""
    result = reliability.under_load(acts=20, trials=3, two_threads=False)
    assert result["default_threads"] == DEFAULT_THREADS == 1
    assert result["load_slowdown"] <= 3.0, result


def test_a_short_soak_grows_neither_memory_nor_open_files(reliability, tmp_path):
    result = reliability.soak(2000, 500, tmp_path)
    assert result["soak_env_steps"] >= 2000 and result["soak_buffer_full_at"] is not None
    assert result["soak_rss_growth_mb"] < 100
    assert result["soak_open_files_growth"] <= 0
