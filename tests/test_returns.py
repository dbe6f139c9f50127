"""Discounted and n-step returns against hand-worked lists and a brute-force sum."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.returns import discounted_returns, gae, n_step_returns


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


def _random_rollout(shape, seed):
    """A rollout with every kind of episode end; next_values[t] = values[t+1] inside an episode."""
    rng = np.random.default_rng(seed)
    rewards = rng.standard_normal(shape)
    terminated = rng.random(shape) < 0.15
    truncated = (rng.random(shape) < 0.15) & ~terminated
    values = rng.standard_normal(shape)
    next_values = np.concatenate([values[1:], rng.standard_normal((1, *shape[1:]))])
    ended = terminated | truncated
    next_values[ended] = rng.standard_normal(ended.sum())  # V of the final observation
    return rewards, values, terminated, truncated, next_values


def test_gae_by_hand():
    # γ = 0.5, λ = 0.5, no episode end. δ = r + γV(s') − V(s):
    # δ_2 = 1 + 0.5·4 − 1 = 2, δ_1 = 0 + 0.5·1 − 2 = −1.5, δ_0 = 2 + 0.5·2 − 3 = 0
    # Â_2 = 2, Â_1 = −1.5 + 0.25·2 = −1, Â_0 = 0 + 0.25·(−1) = −0.25
    rewards, values = np.array([2.0, 0.0, 1.0]), np.array([3.0, 2.0, 1.0])
    next_values, no = np.array([2.0, 1.0, 4.0]), np.zeros(3, dtype=bool)
    np.testing.assert_allclose(gae(rewards, values, no, no, next_values, 0.5, 0.5),
                               [-0.25, -1.0, 2.0], rtol=0, atol=1e-15)
    # truncated at step 1: Â_1 = δ_1 = −1.5 (bootstraps from V(s'_1) = 1) and does not see Â_2
    trunc = np.array([False, True, False])
    np.testing.assert_allclose(gae(rewards, values, no, trunc, next_values, 0.5, 0.5),
                               [-0.375, -1.5, 2.0], rtol=0, atol=1e-15)
    # terminated at step 1: δ_1 = 0 + 0 − 2 = −2 (V(terminal) = 0), Â_0 = 0 + 0.25·(−2)
    np.testing.assert_allclose(gae(rewards, values, trunc, no, next_values, 0.5, 0.5),
                               [-0.5, -2.0, 2.0], rtol=0, atol=1e-15)


@pytest.mark.parametrize("shape", [(9,), (11, 4)])
def test_gae_lambda_zero_is_the_one_step_td_error(shape):
    rewards, values, terminated, truncated, next_values = _random_rollout(shape, 2)
    gamma = 0.9
    delta = rewards + gamma * (1.0 - terminated) * next_values - values
    np.testing.assert_array_equal(gae(rewards, values, terminated, truncated, next_values,
                                      gamma, 0.0), delta)


@pytest.mark.parametrize("shape", [(9,), (11, 4)])
def test_gae_lambda_one_is_the_n_step_advantage(shape):
    rewards, values, terminated, truncated, next_values = _random_rollout(shape, 3)
    for gamma in (0.0, 0.5, 0.99, 1.0):
        n_step = n_step_returns(rewards, terminated, truncated, next_values, gamma) - values
        np.testing.assert_allclose(gae(rewards, values, terminated, truncated, next_values,
                                       gamma, 1.0), n_step, rtol=0, atol=1e-12)


def test_gae_is_the_lambda_weighted_average_of_n_step_advantages():
    # One episode of T steps that terminates at its end: Â^λ_t = (1 − λ) Σ_{n=1}^{T−t−1}
    # λ^{n−1} Â^{(n)}_t + λ^{T−t−1} Â^{(T−t)}_t (the Monte Carlo advantage takes the rest).
    rng = np.random.default_rng(4)
    T, gamma, lam = 6, 0.9, 0.7
    rewards, values = rng.standard_normal(T), rng.standard_normal(T)
    v_after = np.append(values[1:], 0.0)  # V(s_{t+1}); the terminal state is worth 0

    def n_step_advantage(t, n):
        k = min(n, T - t)
        boot = v_after[t + k - 1] if t + k < T else 0.0
        return sum(gamma**i * rewards[t + i] for i in range(k)) + gamma**k * boot - values[t]

    expected = [(1 - lam) * sum(lam ** (n - 1) * n_step_advantage(t, n) for n in range(1, T - t))
                + lam ** (T - t - 1) * n_step_advantage(t, T - t) for t in range(T)]
    terminated = np.arange(T) == T - 1
    got = gae(rewards, values, terminated, np.zeros(T, bool), v_after, gamma, lam)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_gae_bad_input_names_the_argument():
    r, no = np.ones(3), np.zeros(3, dtype=bool)
    with pytest.raises(ValueError, match="values must have the shape of rewards"):
        gae(r, np.ones(2), no, no, r, 0.9, 0.9)
    with pytest.raises(ValueError, match="next_values must have the shape of rewards"):
        gae(r, r, no, no, np.ones(4), 0.9, 0.9)
    with pytest.raises(ValueError, match=r"gamma must be a number in \[0, 1\]"):
        gae(r, r, no, no, r, 1.1, 0.9)
    for lam in (-0.1, 1.5, float("nan"), "1", True):
        with pytest.raises(ValueError, match=r"lam must be a number in \[0, 1\], got"):
            gae(r, r, no, no, r, 0.9, lam)
    with pytest.raises(ValueError, match="T >= 1"):
        gae(np.ones(0), np.ones(0), np.zeros(0, bool), np.zeros(0, bool), np.ones(0), 0.9, 0.9)
