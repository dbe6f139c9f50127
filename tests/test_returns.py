"""Discounted and n-step returns against hand-worked lists and a brute-force sum."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.returns import discounted_returns, n_step_returns


def _brute_force(rewards, gamma, bootstrap=0.0):
    """G_t = Σ_{k>=t} γ^{k−t} r_k + γ^{T−t} bootstrap, one t at a time."""
    n = len(rewards)
    return np.array([sum(gamma ** (k - t) * rewards[k] for k in range(t, n))
                     + gamma ** (n - t) * bootstrap for t in range(n)])


def test_discounted_returns_by_hand():
    # G_2 = 3, G_1 = 2 + ½·3 = 3.5, G_0 = 1 + ½·3.5 = 2.75
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 2.0, 3.0]), 0.5), [2.75, 3.5, 3.0])
    # with G_3 = 8: G_2 = 3 + 4 = 7, G_1 = 2 + 3.5 = 5.5, G_0 = 1 + 2.75 = 3.75
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 2.0, 3.0]), 0.5, 8.0),
                               [3.75, 5.5, 7.0])


def test_discounted_returns_limits_and_brute_force():
    rewards = np.random.default_rng(0).standard_normal(12)
    np.testing.assert_allclose(discounted_returns(rewards, 0.0), rewards)  # γ = 0: just r_t
    np.testing.assert_allclose(discounted_returns(rewards, 1.0), np.cumsum(rewards[::-1])[::-1])
    np.testing.assert_allclose(discounted_returns(rewards, 0.9, bootstrap_value=2.0),
                               _brute_force(rewards, 0.9, 2.0))
    assert discounted_returns(np.zeros(0), 0.9).shape == (0,)


def test_n_step_returns_without_episode_ends_bootstrap_from_the_last_value():
    rewards = np.array([1.0, 0.0, 2.0, -1.0])
    next_values = np.array([5.0, 6.0, 7.0, 3.0])  # only the last one is used
    no = np.zeros(4, dtype=bool)
    np.testing.assert_allclose(n_step_returns(rewards, no, no, next_values, 0.9),
                               _brute_force(rewards, 0.9, bootstrap=3.0))


def test_terminated_means_zero_future_truncated_means_bootstrap():
    rewards = np.array([1.0, 1.0, 1.0, 1.0])
    next_values = np.array([10.0, 20.0, 30.0, 40.0])
    no = np.zeros(4, dtype=bool)
    ends_at_1 = np.array([False, True, False, False])
    gamma = 0.5
    # terminated at step 1: G_1 = 1 (V(terminal) = 0); G_0 = 1 + ½·1 = 1.5; the next episode
    # (steps 2, 3) bootstraps from V = 40: G_3 = 1 + 20 = 21, G_2 = 1 + 10.5 = 11.5
    np.testing.assert_allclose(n_step_returns(rewards, ends_at_1, no, next_values, gamma),
                               [1.5, 1.0, 11.5, 21.0])
    # truncated at step 1: G_1 = 1 + ½·V(s'_1) = 11, G_0 = 1 + 5.5 = 6.5; steps 2, 3 as before
    np.testing.assert_allclose(n_step_returns(rewards, no, ends_at_1, next_values, gamma),
                               [6.5, 11.0, 11.5, 21.0])
    # terminated at the rollout's last step: no bootstrap from V(s'_3) at all
    last = np.array([False, False, False, True])
    np.testing.assert_allclose(n_step_returns(rewards, last, no, next_values, gamma),
                               [1.875, 1.75, 1.5, 1.0])


def test_batch_of_environments_equals_one_column_at_a_time():
    rng = np.random.default_rng(1)
    shape = (7, 3)  # (T, N)
    rewards = rng.standard_normal(shape)
    terminated = rng.random(shape) < 0.2
    truncated = (rng.random(shape) < 0.2) & ~terminated
    next_values = rng.standard_normal(shape)
    batch = n_step_returns(rewards, terminated, truncated, next_values, 0.9)
    assert batch.shape == shape
    for i in range(shape[1]):
        column = n_step_returns(rewards[:, i], terminated[:, i], truncated[:, i],
                                next_values[:, i], 0.9)
        np.testing.assert_allclose(batch[:, i], column)


def test_bad_shapes_raise_naming_the_argument():
    r, no = np.ones(3), np.zeros(3, dtype=bool)
    with pytest.raises(ValueError, match=r"rewards must be a 1-D array \(T,\)"):
        discounted_returns(np.ones((2, 2)), 0.9)
    with pytest.raises(ValueError, match="terminated must have the shape of rewards"):
        n_step_returns(r, np.zeros(2, dtype=bool), no, r, 0.9)
    with pytest.raises(ValueError, match="truncated must have the shape of rewards"):
        n_step_returns(r, no, np.zeros(4, dtype=bool), r, 0.9)
    with pytest.raises(ValueError, match="next_values must have the shape of rewards"):
        n_step_returns(r, no, no, np.ones((3, 1)), 0.9)
    with pytest.raises(ValueError, match=r"rewards must have shape \(T,\) or \(T, N\)"):
        n_step_returns(np.ones((2, 2, 2)), np.zeros((2, 2, 2), bool), np.zeros((2, 2, 2), bool),
                       np.ones((2, 2, 2)), 0.9)
    with pytest.raises(ValueError, match="T >= 1"):
        n_step_returns(np.ones(0), np.zeros(0, bool), np.zeros(0, bool), np.ones(0), 0.9)


@pytest.mark.parametrize("gamma", [1.5, -0.1, float("nan"), "0.9", True])
def test_bad_gamma_raises(gamma):
    with pytest.raises(ValueError, match=r"gamma must be a number in \[0, 1\], got"):
        discounted_returns(np.ones(3), gamma)
    no = np.zeros(3, dtype=bool)
    with pytest.raises(ValueError, match=r"gamma must be a number in \[0, 1\], got"):
        n_step_returns(np.ones(3), no, no, np.ones(3), gamma)
