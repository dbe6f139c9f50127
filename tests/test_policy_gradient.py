"""Softmax, ∇log π, and ∇J: the theorem vs finite differences, REINFORCE vs the theorem."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.gridworld import GridWorld
from a3c_lib.mdp import TabularMDP, random_mdp
from a3c_lib.policy_gradient import (
    exact_policy_gradient,
    finite_difference_gradient,
    grad_log_pi,
    gradient_ascent,
    log_softmax,
    sample_episodes,
    sampled_policy_gradient,
    softmax_policy,
)
from a3c_lib.values import objective


def test_softmax_by_hand_and_numerically_stable():
    np.testing.assert_allclose(softmax_policy([[0.0, np.log(3.0)]]), [[0.25, 0.75]])
    pi = softmax_policy(np.array([[1000.0, -1000.0, 1000.0], [-800.0, -800.0, -800.0]]))
    assert np.all(np.isfinite(pi))
    np.testing.assert_allclose(pi, [[0.5, 0.0, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    theta = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(softmax_policy(theta + 7.0), softmax_policy(theta))  # shift-proof
    np.testing.assert_allclose(softmax_policy(theta).sum(axis=1), 1.0)
    np.testing.assert_allclose(log_softmax(theta), np.log(softmax_policy(theta)))
    assert np.isfinite(log_softmax(np.array([[0.0, 1000.0]]))).all()


@pytest.mark.parametrize("theta", [[1.0, 2.0], [[np.nan, 0.0]], np.zeros((0, 2))])
def test_bad_theta_raises(theta):
    with pytest.raises(ValueError, match="theta must be a finite 2-D array"):
        softmax_policy(theta)


def test_grad_log_pi_matches_finite_differences():
    rng = np.random.default_rng(1)
    theta, eps = rng.standard_normal((3, 4)), 1e-6
    for s, a in [(0, 0), (1, 3), (2, 1)]:
        numeric = np.zeros_like(theta)
        for index in np.ndindex(theta.shape):
            step = np.zeros_like(theta)
            step[index] = eps
            numeric[index] = (log_softmax(theta + step)[s, a]
                              - log_softmax(theta - step)[s, a]) / (2 * eps)
        np.testing.assert_allclose(grad_log_pi(theta, s, a), numeric, atol=1e-8)
    with pytest.raises(ValueError, match=r"\(s, a\) must index theta"):
        grad_log_pi(theta, 3, 0)


@pytest.mark.parametrize(
    ("seed", "n_states", "n_actions", "gamma"),
    [(0, 3, 2, 0.5), (1, 5, 3, 0.9), (2, 6, 4, 0.95), (3, 4, 2, 0.99), (4, 8, 3, 0.0)],
)
def test_exact_gradient_equals_central_finite_differences(seed, n_states, n_actions, gamma):
    rng = np.random.default_rng(seed)
    mdp = random_mdp(n_states, n_actions, rng=rng, n_terminal=1)
    theta = rng.standard_normal((n_states, n_actions))
    exact = exact_policy_gradient(mdp, theta, gamma)
    numeric = finite_difference_gradient(mdp, theta, gamma, eps=1e-5)
    assert np.linalg.norm(exact) > 1e-3  # a non-trivial gradient
    assert np.linalg.norm(exact - numeric) <= 1e-6 * np.linalg.norm(numeric)


def test_exact_gradient_of_a_one_state_bandit_in_closed_form():
    # One state that loops forever: J = r_π/(1 − γ), so ∂J/∂θ_b = π_b (r_b − r_π)/(1 − γ).
    reward, gamma = np.array([1.0, 3.0, -2.0]), 0.8
    mdp = TabularMDP([[0, 0, 0]], [reward])
    theta = np.array([[0.3, -0.2, 0.5]])
    pi = softmax_policy(theta)[0]
    expected = pi * (reward - pi @ reward) / (1 - gamma)
    np.testing.assert_allclose(exact_policy_gradient(mdp, theta, gamma)[0], expected)


def test_gradient_is_zero_when_every_action_is_equally_good():
    mdp = TabularMDP(np.random.default_rng(0).integers(0, 4, (4, 3)), np.ones((4, 3)))
    theta = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(exact_policy_gradient(mdp, theta, 0.9), 0.0, atol=1e-12)


def test_sample_episodes_follow_the_mdp_and_stop_at_terminals():
    mdp = random_mdp(5, 3, rng=3, n_terminal=1)
    pi = softmax_policy(np.zeros((5, 3)))
    ep = sample_episodes(mdp, pi, n_episodes=500, rng=0, max_steps=30)
    assert ep.states.shape == ep.actions.shape == ep.rewards.shape == ep.alive.shape
    assert ep.states.shape[1] == 500 and ep.states.shape[0] <= 30
    assert np.all(ep.alive[1:] <= ep.alive[:-1])  # once over, an episode stays over
    np.testing.assert_array_equal(ep.states[1:], mdp.next_state[ep.states[:-1], ep.actions[:-1]])
    np.testing.assert_array_equal(ep.rewards, mdp.reward[ep.states, ep.actions] * ep.alive)
    assert np.all(mdp.terminal[ep.states] == ~ep.alive)


def _z_scores(samples, exact):
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])  # standard error per entry
    reached = se > 0
    # entries no episode ever touches are exactly zero in every sample: the exact value must be 0
    np.testing.assert_allclose(exact[~reached], 0.0, atol=1e-12)
    return np.abs(samples.mean(axis=0) - exact)[reached] / se[reached]


@pytest.mark.parametrize("baseline", [None, "value", "random"])
def test_sampled_gradient_is_unbiased(baseline):
    rng = np.random.default_rng(7)
    mdp, gamma = random_mdp(5, 3, rng=rng, n_terminal=1), 0.8
    theta = rng.standard_normal((5, 3))
    if baseline == "random":
        baseline = rng.normal(size=5) * 3  # any b(s) leaves the mean unchanged
    samples = sampled_policy_gradient(mdp, theta, gamma, 40_000, rng=rng, baseline=baseline,
                                      return_samples=True)
    assert samples.shape == (40_000, 5, 3)
    z = _z_scores(samples, exact_policy_gradient(mdp, theta, gamma))
    assert z.max() < 4.5, z  # 15 entries: all within 4.5 standard errors


def test_sampled_gradient_on_the_gridworld_is_unbiased_and_the_baseline_cuts_variance():
    mdp, gamma = GridWorld().to_mdp(), 0.9
    theta = np.random.default_rng(0).standard_normal((mdp.n_states, 4)) * 0.5
    exact = exact_policy_gradient(mdp, theta, gamma)
    plain = sampled_policy_gradient(mdp, theta, gamma, 4000, rng=1, return_samples=True)
    based = sampled_policy_gradient(mdp, theta, gamma, 4000, rng=2, baseline="value",
                                    return_samples=True)
    assert _z_scores(plain, exact).max() < 5
    assert _z_scores(based, exact).max() < 5
    total_var_plain = plain.var(axis=0).sum()
    total_var_based = based.var(axis=0).sum()
    assert total_var_based < 0.5 * total_var_plain, (total_var_based, total_var_plain)


def test_sampled_gradient_error_shrinks_like_one_over_sqrt_n():
    rng = np.random.default_rng(3)
    mdp, gamma = random_mdp(4, 2, rng=rng, n_terminal=1), 0.7
    theta = rng.standard_normal((4, 2))
    exact = exact_policy_gradient(mdp, theta, gamma)
    samples = sampled_policy_gradient(mdp, theta, gamma, 25_600, rng=rng, return_samples=True)
    errors = []
    for n in (25, 400, 6400):  # split the episodes into batches of n and average the error
        means = samples.reshape(-1, n, 4, 2).mean(axis=1)  # (25600/n, S, A)
        errors.append(np.sqrt(np.mean(np.sum((means - exact) ** 2, axis=(1, 2)))))
    assert errors[0] > errors[1] > errors[2]
    assert errors[1] < errors[0] / 2.5 and errors[2] < errors[1] / 2.5  # √16 = 4 in expectation


def test_sampled_gradient_mean_and_defaults():
    mdp = TabularMDP([[0, 0]], [[1.0, 0.0]])
    g = sampled_policy_gradient(mdp, np.zeros((1, 2)), 0.0, 5000, rng=0)  # γ = 0: one step
    assert g.shape == (1, 2)
    np.testing.assert_allclose(g, [[0.25, -0.25]], atol=0.02)  # π_b (r_b − r_π) = ±½·½
    again = sampled_policy_gradient(mdp, np.zeros((1, 2)), 0.0, 5000, rng=0)
    np.testing.assert_array_equal(g, again)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"baseline": "mean"}, "baseline must be None, 'value' or an array"),
        ({"baseline": np.zeros(3)}, "baseline must be None, 'value' or an array"),
        ({"n_episodes": 0}, "n_episodes must be an integer >= 1"),
        ({"max_steps": 0}, "max_steps must be an integer >= 1"),
        ({"gamma": 1.5}, r"gamma must be in \[0, 1\)"),
        ({"theta": np.zeros((3, 2))}, r"theta must have shape \(S, A\) = \(2, 2\)"),
    ],
)
def test_sampled_gradient_bad_arguments(kwargs, match):
    mdp = TabularMDP([[1, 0], [1, 1]], [[1.0, 0.0], [0.0, 0.0]], terminal=[False, True])
    args = {"mdp": mdp, "theta": np.zeros((2, 2)), "gamma": 0.9, "n_episodes": 10, "rng": 0}
    with pytest.raises(ValueError, match=match):
        sampled_policy_gradient(**(args | kwargs))


@pytest.mark.parametrize("fn", [exact_policy_gradient, finite_difference_gradient])
@pytest.mark.parametrize("gamma", [1.5, -0.1, float("nan")])
def test_gradients_reject_bad_gamma(fn, gamma):
    with pytest.raises(ValueError, match=r"gamma must be in \[0, 1\), got"):
        fn(TabularMDP([[0, 0]], [[1.0, 0.0]]), np.zeros((1, 2)), gamma)


def test_gradient_ascent_climbs_j():
    mdp, gamma = GridWorld().to_mdp(), 0.9
    theta0 = np.zeros((mdp.n_states, 4))
    path = gradient_ascent(mdp, theta0, gamma, lr=1.0, steps=60)
    assert path.thetas.shape == (61, mdp.n_states, 4) and path.objectives.shape == (61,)
    np.testing.assert_array_equal(path.thetas[0], theta0)
    assert path.objectives[0] == pytest.approx(objective(mdp, softmax_policy(theta0), gamma))
    assert np.all(np.diff(path.objectives) > -1e-12)  # small steps never go down here
    assert path.objectives[-1] > path.objectives[0] + 0.3  # and really go up
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        gradient_ascent(mdp, theta0, gamma, lr=0.0, steps=3)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        gradient_ascent(mdp, theta0, gamma, lr=0.1, steps=-1)
