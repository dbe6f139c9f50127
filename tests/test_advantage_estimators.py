"""Exact bias and variance of the n-step and GAE(λ) advantage estimators on the grid MDP."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.advantage_estimators import (
    gae_moments,
    gae_stats,
    n_step_moments,
    n_step_stats,
    noisy_critic,
)
from a3c_lib.gridworld import GridWorld
from a3c_lib.returns import gae, n_step_returns
from a3c_lib.values import policy_evaluation, uniform_policy

GAMMA = 0.9


@pytest.fixture(scope="module")
def grid():
    mdp = GridWorld().to_mdp()
    pi = uniform_policy(mdp)
    return mdp, pi, policy_evaluation(mdp, pi, GAMMA)


def test_an_exact_critic_leaves_no_bias_and_one_step_no_variance(grid):
    mdp, pi, v = grid
    for n in (1, 2, 5, 30):
        assert n_step_stats(mdp, pi, GAMMA, v, n).bias < 1e-12
    for lam in (0.0, 0.3, 0.9, 1.0):
        assert gae_stats(mdp, pi, GAMMA, v, lam).bias < 1e-12
    # a deterministic MDP: given (s, a), r + γV̂(s') − V̂(s) is not random at all
    assert n_step_stats(mdp, pi, GAMMA, noisy_critic(v, 0.3), 1).variance == 0.0
    assert gae_stats(mdp, pi, GAMMA, noisy_critic(v, 0.3), 0.0).variance == 0.0


def test_lambda_limits_are_the_one_step_and_monte_carlo_estimators(grid):
    mdp, pi, v = grid
    v_hat = noisy_critic(v, 0.3, seed=1)
    for a, b in zip(gae_moments(mdp, pi, GAMMA, v_hat, 0.0),
                    n_step_moments(mdp, pi, GAMMA, v_hat, 1), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    # λ = 1 is n = ∞; γ^400 ≈ 5e-19, so n = 400 is ∞ to rounding
    for a, b in zip(gae_moments(mdp, pi, GAMMA, v_hat, 1.0),
                    n_step_moments(mdp, pi, GAMMA, v_hat, 400), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert gae_stats(mdp, pi, GAMMA, v_hat, 1.0).bias < 1e-10  # Monte Carlo: unbiased


def test_bias_falls_and_variance_rises_from_zero_as_n_and_lambda_grow(grid):
    mdp, pi, v = grid
    v_hat = noisy_critic(v, 0.1)
    n_bias = [n_step_stats(mdp, pi, GAMMA, v_hat, n).bias for n in (1, 2, 4, 8, 16, 32)]
    lam_bias = [gae_stats(mdp, pi, GAMMA, v_hat, lam).bias for lam in (0, 0.5, 0.8, 0.95, 1)]
    lam_var = [gae_stats(mdp, pi, GAMMA, v_hat, lam).variance for lam in (0, 0.5, 0.8, 0.95, 1)]
    assert np.all(np.diff(n_bias) < 0) and np.all(np.diff(lam_bias) < 0)
    assert lam_var[0] == 0.0 and np.all(np.diff(lam_var) > 0)
    # the trade-off: an intermediate λ beats both ends on mean squared error
    mse = [gae_stats(mdp, pi, GAMMA, v_hat, lam).mse for lam in (0, 0.8, 1)]
    assert mse[1] < min(mse[0], mse[2])


def _sample(mdp, pi, s, a, rng, steps):
    """One trajectory from (s, a): rewards, states s_0..s_K and whether it terminated."""
    states, rewards = [s], []
    for _ in range(steps):
        rewards.append(mdp.reward[s, a])
        s = mdp.next_state[s, a]
        states.append(s)
        if mdp.terminal[s]:
            return np.array(rewards), np.array(states), True
        a = rng.choice(mdp.n_actions, p=pi[s])
    return np.array(rewards), np.array(states), False


@pytest.mark.parametrize("n, lam", [(3, 0.7)])
def test_exact_moments_match_sampled_trajectories(grid, n, lam):
    """Sampled with returns.n_step_returns / returns.gae: mean within 4 standard errors."""
    mdp, pi, v = grid
    v_hat = noisy_critic(v, 0.3, seed=2)
    v_hat[mdp.terminal] = 0.0
    rng = np.random.default_rng(0)
    mean_n, var_n = n_step_moments(mdp, pi, GAMMA, v_hat, n)
    mean_l, var_l = gae_moments(mdp, pi, GAMMA, v_hat, lam)
    for s, a in ((12, 1), (8, 2)):  # the start cell, a cell near the trap
        est_n, est_l = [], []
        for _ in range(2000):
            r, states, ended = _sample(mdp, pi, s, a, rng, steps=200)  # γ^200 ≈ 7e-10
            T = len(r)
            term = np.zeros(T, bool)
            term[-1] = ended
            values, next_values = v_hat[states[:-1]], v_hat[states[1:]]
            k = min(n, T)  # the n-step estimate at t = 0 sees only the first n steps
            no = np.zeros(k, bool)
            est_n.append(n_step_returns(r[:k], term[:k], no, next_values[:k], GAMMA)[0]
                         - values[0])
            est_l.append(gae(r, values, term, np.zeros(T, bool), next_values, GAMMA, lam)[0])
        for est, mean, var in ((est_n, mean_n, var_n), (est_l, mean_l, var_l)):
            est = np.array(est)
            se = max(np.sqrt(var[s, a] / len(est)), 1e-12)
            assert abs(est.mean() - mean[s, a]) < 4 * se + 1e-12
            assert var[s, a] == pytest.approx(est.var(), rel=0.15, abs=1e-12)


def test_bad_input_names_the_argument(grid):
    mdp, pi, v = grid
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        n_step_stats(mdp, pi, GAMMA, v, 0)
    with pytest.raises(ValueError, match=r"lam must be a number in \[0, 1\]"):
        gae_stats(mdp, pi, GAMMA, v, 1.5)
    with pytest.raises(ValueError, match=r"v_hat must be a finite array of shape \(17,\)"):
        gae_stats(mdp, pi, GAMMA, v[:3], 0.5)
    with pytest.raises(ValueError, match="error must be a finite number >= 0"):
        noisy_critic(v, -1.0)
    with pytest.raises(ValueError, match="mdp must be a TabularMDP"):
        n_step_stats("grid", pi, GAMMA, v, 1)
