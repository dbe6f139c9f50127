"""Replayed policy gradients against exact answers on tabular MDPs (a3c_lib.replay, notebook 07)."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.gridworld import GridWorld
from a3c_lib.mdp import random_mdp
from a3c_lib.policy_gradient import (
    exact_policy_gradient,
    gradient_ascent,
    sample_episodes,
    softmax_policy,
)
from a3c_lib.replay import (
    cosine,
    expected_replay_gradient,
    gradient_drift,
    replay_ascent,
    replay_gradient_samples,
)
from a3c_lib.values import action_values, policy_evaluation, state_distribution

GAMMA = 0.9
# sampled tests use γ = 0.5 so that 40 steps suffice: 0.5^40 < 1e-12, the cut is invisible
GAMMA_MC, MAX_STEPS = 0.5, 40


@pytest.fixture(scope="module")
def grid_history():
    mdp = GridWorld().to_mdp()
    path = gradient_ascent(mdp, np.zeros((mdp.n_states, mdp.n_actions)), GAMMA, lr=10.0, steps=30)
    return mdp, path.thetas


@pytest.mark.parametrize("baseline", [None, "value"])
def test_age_zero_expectation_is_the_exact_gradient(baseline):
    mdp = random_mdp(6, 3, rng=1)
    theta = np.random.default_rng(2).standard_normal((6, 3))
    for importance in ("none", "action"):  # ρ = 1 at age 0
        g = expected_replay_gradient(mdp, theta, theta, GAMMA, baseline, importance)
        np.testing.assert_allclose(g, exact_policy_gradient(mdp, theta, GAMMA), atol=1e-10)


def test_expected_replay_gradient_is_the_hand_written_sum():
    """Σ_s d^μ(s) Σ_a μ(a|s)(Q^μ − V^π)(e_a − π(·|s)), written out with explicit loops."""
    mdp = random_mdp(5, 3, rng=3)
    rng = np.random.default_rng(4)
    theta, theta_old = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    pi, mu = softmax_policy(theta), softmax_policy(theta_old)
    d_mu = state_distribution(mdp, mu, GAMMA) / (1 - GAMMA)
    q_mu = action_values(mdp, policy_evaluation(mdp, mu, GAMMA), GAMMA)
    v_pi = policy_evaluation(mdp, pi, GAMMA)
    want = np.zeros((5, 3))
    for s in range(5):
        for a in range(3):
            grad_log = -pi[s].copy()
            grad_log[a] += 1.0
            want[s] += d_mu[s] * mu[s, a] * (q_mu[s, a] - v_pi[s]) * grad_log
    got = expected_replay_gradient(mdp, theta, theta_old, GAMMA, "value", "none")
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert cosine(got, exact_policy_gradient(mdp, theta, GAMMA)) < 0.999  # really different


@pytest.mark.parametrize("importance", ["none", "action", "full"])
def test_sampled_replay_matches_its_exact_expectation(importance):
    mdp = random_mdp(5, 2, rng=5)
    rng = np.random.default_rng(6)
    theta, theta_old = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    theta_old = theta + 0.3 * (theta_old - theta)  # close enough that "full" is not too wild
    episodes = sample_episodes(mdp, softmax_policy(theta_old), 20_000, rng, MAX_STEPS)
    samples = replay_gradient_samples(mdp, theta, episodes, theta_old, GAMMA_MC, "value",
                                      importance)  # (n, S, A)
    if importance == "full":  # full per-decision correction: unbiased for the exact ∇J
        want = exact_policy_gradient(mdp, theta, GAMMA_MC)
    else:
        want = expected_replay_gradient(mdp, theta, theta_old, GAMMA_MC, "value", importance)
    stderr = samples.std(axis=0) / np.sqrt(len(samples))  # (S, A)
    assert np.all(np.abs(samples.mean(axis=0) - want) <= 5 * stderr + 1e-9)
    if importance == "full":  # the tolerance is tight enough to tell "full" from "action"
        action = expected_replay_gradient(mdp, theta, theta_old, GAMMA_MC, "value", "action")
        assert np.any(np.abs(action - want) > 5 * stderr)


def test_sampled_naive_replay_is_biased_away_from_the_gradient():
    mdp = random_mdp(5, 2, rng=5)
    rng = np.random.default_rng(7)
    theta, theta_old = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    episodes = sample_episodes(mdp, softmax_policy(theta_old), 20_000, rng, MAX_STEPS)
    samples = replay_gradient_samples(mdp, theta, episodes, theta_old, GAMMA_MC)
    stderr = samples.std(axis=0) / np.sqrt(len(samples))
    gap = np.abs(samples.mean(axis=0) - exact_policy_gradient(mdp, theta, GAMMA_MC))
    assert np.any(gap > 10 * stderr)  # a real bias, far beyond the noise


def test_importance_weights_have_mean_one_under_the_old_policy():
    mu = softmax_policy(np.random.default_rng(8).standard_normal((4, 3)))
    pi = softmax_policy(np.random.default_rng(9).standard_normal((4, 3)))
    np.testing.assert_allclose(np.sum(mu * (pi / mu), axis=1), 1.0, atol=1e-12)  # exact, per s
    mdp = random_mdp(4, 3, rng=10)
    ep = sample_episodes(mdp, mu, 20_000, 11, 1)  # one step per episode: a ~ μ(·|s0)
    ratio = pi[ep.states, ep.actions] / mu[ep.states, ep.actions]  # (1, n)
    assert abs(ratio.mean() - 1.0) < 5 * ratio.std() / np.sqrt(ratio.size)


def test_drift_is_zero_at_age_zero_and_grows_back_to_the_uniform_start(grid_history):
    mdp, thetas = grid_history
    drift = gradient_drift(mdp, thetas, k=30, ages=[0, 5, 30], gamma=GAMMA)
    assert drift.cosine[0] == pytest.approx(1.0, abs=1e-12)
    assert drift.bias[0] == pytest.approx(0.0, abs=1e-10)
    assert drift.weight_variance[0] == pytest.approx(0.0, abs=1e-12)
    # samples of the uniform start policy (age 30) point clearly elsewhere (measured ≈ 0.68)
    assert drift.cosine[2] < 0.8 < drift.cosine[1]
    assert drift.bias[2] > drift.bias[1] > 0
    assert drift.weight_variance[2] > drift.weight_variance[1] > 0


def test_action_weights_do_not_remove_the_bias(grid_history):
    mdp, thetas = grid_history
    drift = gradient_drift(mdp, thetas, k=30, ages=[30], gamma=GAMMA, importance="action")
    assert drift.bias[0] > 0.1  # d^μ and Q^μ still belong to the old policy


def test_on_policy_exact_replay_ascent_is_gradient_ascent():
    mdp = GridWorld().to_mdp()
    theta0 = np.zeros((mdp.n_states, mdp.n_actions))
    j = replay_ascent(mdp, theta0, GAMMA, lr=10.0, updates=5, memory_size=1)
    np.testing.assert_allclose(j, gradient_ascent(mdp, theta0, GAMMA, 10.0, 5).objectives,
                               atol=1e-10)


def test_sampled_replay_ascent_runs_and_learns():
    mdp = GridWorld().to_mdp()
    j = replay_ascent(mdp, np.zeros((17, 4)), GAMMA, lr=10.0, updates=20, memory_size=5,
                      n_episodes=10, importance="action", rng=0)
    assert j.shape == (21,) and j[-1] > j[0] + 0.3


def test_a_fixed_old_memory_stalls_naive_learning_but_not_on_policy_learning():
    """Pre-training on an old run's data: μ mostly goes up (measured: J ≈ −0.38 vs +0.34)."""
    mdp = GridWorld().to_mdp()
    theta0, up = np.zeros((17, 4)), np.zeros((17, 4))
    up[:, 0] = 2.0  # logits of μ: "up" is e² ≈ 7 times likelier than each other action
    naive = replay_ascent(mdp, theta0, GAMMA, 10.0, 100, memory_size=1, behaviour=up)
    fresh = replay_ascent(mdp, theta0, GAMMA, 10.0, 100, memory_size=1)
    assert naive[-1] < -0.3 < 0.3 < fresh[-1]
    assert np.sum(np.diff(naive) < -1e-9) >= 2  # downhill steps (measured 3); exact ascent: 0
    assert np.all(np.diff(fresh) >= -1e-12)
    sampled = replay_ascent(mdp, theta0, GAMMA, 10.0, 2, memory_size=2, n_episodes=3,
                            behaviour=up, rng=0)
    assert sampled.shape == (3,)


@pytest.mark.parametrize("kwargs, name", [
    (dict(k=31), "k"), (dict(ages=[-1]), "ages"), (dict(ages=[11]), "ages"),
    (dict(ages=[0.5]), "ages"), (dict(importance="full"), "importance"),
])
def test_gradient_drift_rejects_bad_arguments(grid_history, kwargs, name):
    mdp, thetas = grid_history
    args = dict(k=10, ages=[0, 1], gamma=GAMMA) | kwargs
    with pytest.raises(ValueError, match=name):
        gradient_drift(mdp, thetas, **args)


@pytest.mark.parametrize("kwargs, name", [
    (dict(memory_size=0), "memory_size"), (dict(memory_size=2.5), "memory_size"),
    (dict(updates=-1), "updates"), (dict(lr=0.0), "lr"), (dict(n_episodes=0), "n_episodes"),
    (dict(importance="weird"), "importance"), (dict(importance="full"), "importance"),
    (dict(baseline="zero"), "baseline"), (dict(gamma=1.0), "gamma"),
    (dict(behaviour=np.zeros((3, 4))), "behaviour"),
])
def test_replay_ascent_rejects_bad_arguments(kwargs, name):
    mdp = GridWorld().to_mdp()
    args = dict(gamma=GAMMA, lr=1.0, updates=2, memory_size=2) | kwargs
    with pytest.raises(ValueError, match=name):
        replay_ascent(mdp, np.zeros((17, 4)), **args)
