"""a3c_lib.correlation: exact autocorrelations, interleaving order, the one-vs-many claim."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.correlation import (
    autocorrelation,
    collect_states,
    interleave,
    mean_batch_correlation,
)


def test_alternating_series_exact():
    t = 10
    x = np.array([1.0, -1.0] * (t // 2))
    r = autocorrelation(x, max_lag=3)
    # mean 0, Σd² = T, Σ_{t<T-k} d_t d_{t+k} = (−1)^k (T − k)
    np.testing.assert_allclose(r, [(-1) ** k * (t - k) / t for k in range(4)])


def test_linear_ramp_matches_hand_computation():
    x = np.arange(4.0)  # deviations −1.5, −0.5, 0.5, 1.5; Σd² = 5
    # lag 1: (−1.5·−0.5) + (−0.5·0.5) + (0.5·1.5) = 1.25
    np.testing.assert_allclose(autocorrelation(x, 1), [1.0, 0.25])


def test_autocorrelation_is_shift_and_scale_invariant():
    x = np.random.default_rng(0).normal(size=50)
    np.testing.assert_allclose(autocorrelation(3.0 * x + 7.0, 5), autocorrelation(x, 5))


def test_interleave_round_robin_and_chunked():
    s = np.arange(12).reshape(6, 2)  # agent 0: 0,2,4,…  agent 1: 1,3,5,…
    np.testing.assert_array_equal(interleave(s), np.arange(12))
    np.testing.assert_array_equal(interleave(s, chunk=3), [0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11])
    s3 = np.random.default_rng(1).normal(size=(4, 3, 5))  # (T, N, obs_dim)
    out = interleave(s3)
    assert out.shape == (12, 5)
    np.testing.assert_array_equal(out[4], s3[1, 1])  # step 1 of agent 1 is the 5th sample


def test_copies_of_one_agent_give_exact_lag_scaling():
    # N identical agents: the mixed stream repeats each value N times, so r_{jN}(mixed) = r_j(one)
    x = np.random.default_rng(2).normal(size=200).cumsum()
    n = 3
    mixed = interleave(np.repeat(x[:, None], n, axis=1))
    r_one = autocorrelation(x, 5)
    r_mixed = autocorrelation(mixed, 5 * n)
    np.testing.assert_allclose(r_mixed[::n], r_one, atol=1e-12)


def test_independent_agents_decorrelate_the_stream():
    one = collect_states(n_agents=1, steps=2000, seed=0)[:, 0, 2]  # pole angle
    many = interleave(collect_states(n_agents=4, steps=500, seed=0))[:, 2]
    r_one, r_many = autocorrelation(one, 20), autocorrelation(many, 20)
    assert r_one[1] > 0.7  # one agent: neighbours are nearly the same state
    assert abs(r_many[1]) < 0.2  # four agents: neighbours come from different episodes
    assert r_many[4] > 0.6  # …but the same agent's next sample is still 4 positions later
    assert mean_batch_correlation(r_many, 20) < 0.5 * mean_batch_correlation(r_one, 20)


def test_mean_batch_correlation_extremes():
    assert mean_batch_correlation(np.ones(6), batch=6) == pytest.approx(1.0)
    assert mean_batch_correlation(np.r_[1.0, np.zeros(5)], batch=6) == 0.0
    # B=2 holds one pair, at distance 1
    assert mean_batch_correlation(np.array([1.0, 0.3]), batch=2) == pytest.approx(0.3)


def test_collect_states_shape_and_resets():
    s = collect_states(n_agents=2, steps=300, seed=3)
    assert s.shape == (300, 2, 4)
    assert np.all(np.abs(s[:, :, 2]) < 0.25)  # angle never beyond the termination bound (+reset)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: autocorrelation(np.ones(5), 1), "constant"),
        (lambda: autocorrelation(np.arange(5.0), 5), r"max_lag must be an integer in \[0, 5\)"),
        (lambda: autocorrelation(np.ones((2, 2)), 1), "1-D"),
        (lambda: interleave(np.arange(5.0)), r"\(T, N, \.\.\.\)"),
        (lambda: interleave(np.ones((5, 2)), chunk=2), "multiple of chunk"),
        (lambda: interleave(np.ones((4, 2)), chunk=0), "chunk must be an integer >= 1"),
        (lambda: mean_batch_correlation(np.ones(3), batch=4), "at least 4 lags"),
        (lambda: mean_batch_correlation(np.ones(3), batch=1), "batch must be an integer >= 2"),
        (lambda: collect_states(n_agents=0), "n_agents must be an integer >= 1"),
    ],
)
def test_bad_input_raises_one_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
