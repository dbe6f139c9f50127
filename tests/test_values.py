"""V, Q, A, ρ^π and J against closed forms, hand-worked chains and brute-force power series."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.gridworld import GridWorld
from a3c_lib.mdp import TabularMDP, random_mdp
from a3c_lib.values import (
    action_values,
    advantages,
    check_gamma,
    iterative_policy_evaluation,
    objective,
    policy_evaluation,
    state_distribution,
    transition_matrix,
    uniform_policy,
)

# A hand-worked chain (γ = 0.5). State 2 is terminal.
#   s0: a0 -> s1 (r = 0),  a1 -> s2 (r = 1)        π(·|s0) = [0.5, 0.5]
#   s1: a0 -> s2 (r = 4),  a1 -> s0 (r = 0)        π(·|s1) = [1, 0]
# V(s1) = 4;  V(s0) = ½(0 + ½·4) + ½(1 + 0) = 1.5
# Q(s0) = [2, 1], Q(s1) = [4, 0 + ½·1.5] = [4, 0.75];  A(s0) = [0.5, −0.5], A(s1) = [0, −3.25]
# ρ^{s0} = [½, ½, 0] → J = (1.5 + 4)/2 = 2.75
# Σ_t γ^t P(s_t): t=0 [½, ½, 0], t=1 [0, ¼, ¾], t>=2 [0, 0, 1] → d = [0.5, 0.625, 0.875], ρ^π = ½·d
CHAIN = TabularMDP(next_state=[[1, 2], [2, 0], [2, 2]], reward=[[0.0, 1.0], [4.0, 0.0], [0.0, 0.0]],
                   terminal=[False, False, True])
CHAIN_PI = np.array([[0.5, 0.5], [1.0, 0.0], [0.5, 0.5]])
GAMMA = 0.5


def _random_policy(mdp, rng):
    return rng.dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)  # (S, A)


def test_hand_worked_chain_v_q_a_j_rho():
    np.testing.assert_allclose(policy_evaluation(CHAIN, CHAIN_PI, GAMMA), [1.5, 4.0, 0.0])
    v = policy_evaluation(CHAIN, CHAIN_PI, GAMMA)
    np.testing.assert_allclose(action_values(CHAIN, v, GAMMA), [[2.0, 1.0], [4.0, 0.75], [0, 0]])
    a = advantages(CHAIN, CHAIN_PI, GAMMA)
    np.testing.assert_allclose(a, [[0.5, -0.5], [0.0, -3.25], [0.0, 0.0]])
    assert objective(CHAIN, CHAIN_PI, GAMMA) == pytest.approx(2.75)
    np.testing.assert_allclose(state_distribution(CHAIN, CHAIN_PI, GAMMA), [0.25, 0.3125, 0.4375])


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99])
def test_constant_reward_one_gives_one_over_one_minus_gamma(gamma):
    rng = np.random.default_rng(0)
    mdp = TabularMDP(rng.integers(0, 6, size=(6, 3)), np.ones((6, 3)))  # no terminal state
    v = policy_evaluation(mdp, _random_policy(mdp, rng), gamma)
    np.testing.assert_allclose(v, 1.0 / (1.0 - gamma), rtol=1e-10)


def test_gridworld_straight_path_by_hand():
    grid, gamma = GridWorld(), 0.9
    mdp = grid.to_mdp()
    pi = np.zeros((mdp.n_states, 4))
    pi[:, 1] = 1.0  # always right
    v = policy_evaluation(mdp, pi, gamma)
    # (0, 0) → (0, 4): three steps of −0.04, then +1 when entering the goal
    expected = -0.04 * (1 + gamma + gamma**2) + gamma**3 * 1.0
    assert v[grid.state_of(0, 0)] == pytest.approx(expected)
    assert v[grid.state_of(1, 3)] == pytest.approx(-1.0)  # straight into the trap
    assert v[grid.state_of(0, 4)] == 0.0  # terminal
    assert v[grid.state_of(2, 2)] == pytest.approx(-0.04 / (1 - gamma))  # bumps into a wall forever


def test_terminal_value_is_zero_whatever_the_policy():
    mdp = random_mdp(7, 3, rng=1, n_terminal=2)
    v = policy_evaluation(mdp, _random_policy(mdp, np.random.default_rng(1)), 0.9)
    np.testing.assert_array_equal(v[mdp.terminal], 0.0)


@pytest.mark.parametrize("seed", range(4))
def test_v_satisfies_the_bellman_equation_and_q_averages_to_v(seed):
    rng = np.random.default_rng(seed)
    mdp, gamma = random_mdp(6, 3, rng=rng), 0.8
    pi = _random_policy(mdp, rng)
    v = policy_evaluation(mdp, pi, gamma)
    # V(s) = Σ_a π(a|s) [r(s, a) + γ V(s')], written out one state at a time
    for s in range(mdp.n_states):
        backup = sum(pi[s, a] * (mdp.reward[s, a] + gamma * v[mdp.next_state[s, a]])
                     for a in range(mdp.n_actions))
        assert v[s] == pytest.approx(backup)
    q = action_values(mdp, v, gamma)
    np.testing.assert_allclose(np.sum(pi * q, axis=1), v)


@pytest.mark.parametrize("seed", range(4))
def test_expected_advantage_under_pi_is_zero(seed):
    rng = np.random.default_rng(seed)
    mdp = random_mdp(5, 4, rng=rng, n_terminal=1)
    pi = _random_policy(mdp, rng)
    a = advantages(mdp, pi, 0.9)
    np.testing.assert_allclose(np.sum(pi * a, axis=1), 0.0, atol=1e-12)  # E_{a~π}[A(s,a)] = 0
    assert np.abs(a).max() > 0.1  # and the advantages themselves are not all zero


def _power_series(mdp, pi, gamma, n_terms=2000):
    """Brute force: Σ_t γ^t ρ^{s0} P_π^t and Σ_t γ^t ρ^{s0} P_π^t r_π, summed term by term."""
    p_pi = transition_matrix(mdp, pi)
    r_pi = np.sum(pi * mdp.reward, axis=1)
    dist, visits, value = mdp.start.copy(), np.zeros(mdp.n_states), 0.0
    for t in range(n_terms):
        visits += gamma**t * dist
        value += gamma**t * dist @ r_pi
        dist = dist @ p_pi  # P(s_{t+1}) = P(s_t) P_π
    return visits, value


@pytest.mark.parametrize("seed", range(4))
def test_rho_pi_and_j_match_the_power_series(seed):
    rng = np.random.default_rng(seed)
    mdp, gamma = random_mdp(6, 3, rng=rng, n_terminal=1), 0.9
    pi = _random_policy(mdp, rng)
    visits, value = _power_series(mdp, pi, gamma)
    rho = state_distribution(mdp, pi, gamma)
    assert rho.sum() == pytest.approx(1.0) and np.all(rho >= 0)
    np.testing.assert_allclose(rho, (1 - gamma) * visits, atol=1e-12)
    j = objective(mdp, pi, gamma)
    assert j == pytest.approx(value)
    assert j == pytest.approx(mdp.start @ policy_evaluation(mdp, pi, gamma))  # J = ρ^{s0}·V


def test_rho_pi_matches_discounted_visits_of_simulated_episodes():
    rng = np.random.default_rng(5)
    mdp, gamma = random_mdp(4, 2, rng=rng, n_terminal=1), 0.7
    pi = _random_policy(mdp, rng)
    n, horizon, visits = 20_000, 60, np.zeros(mdp.n_states)
    s = rng.choice(mdp.n_states, size=n, p=mdp.start)  # n episodes side by side  (n,)
    for t in range(horizon):  # γ^60 ≈ 5e-10: the rest is negligible
        np.add.at(visits, s, (1 - gamma) * gamma**t)
        a = (rng.random(n)[:, None] > np.cumsum(pi[s], axis=1)).sum(axis=1)  # a ~ π(·|s)  (n,)
        s = mdp.next_state[s, np.minimum(a, mdp.n_actions - 1)]
    np.testing.assert_allclose(visits / n, state_distribution(mdp, pi, gamma), atol=0.015)


def test_iterative_evaluation_converges_geometrically_to_the_exact_v():
    mdp, gamma = random_mdp(8, 3, rng=2), 0.9
    pi = uniform_policy(mdp)
    v, errors = iterative_policy_evaluation(mdp, pi, gamma, tol=1e-10)
    np.testing.assert_allclose(v, policy_evaluation(mdp, pi, gamma), atol=1e-8)
    assert errors[-1] < 1e-10 <= errors[-2]
    assert np.all(errors[1:] <= gamma * errors[:-1] + 1e-15)  # a γ-contraction
    result = iterative_policy_evaluation(mdp, pi, gamma, max_iter=5)
    assert result.errors.shape == (5,) and result.v.shape == (8,)


@pytest.mark.parametrize("gamma", [1.5, -0.1, float("nan"), 1.0, "0.9", True, None])
@pytest.mark.parametrize(
    "fn",
    [policy_evaluation, iterative_policy_evaluation, advantages, state_distribution, objective],
)
def test_bad_gamma_raises(fn, gamma):
    with pytest.raises(ValueError, match=r"gamma must be in \[0, 1\), got"):
        fn(CHAIN, CHAIN_PI, gamma)


def test_bad_gamma_message_shows_the_value():
    with pytest.raises(ValueError, match=r"^gamma must be in \[0, 1\), got 1.5$"):
        check_gamma(1.5)
    with pytest.raises(ValueError, match="gamma must be"):
        action_values(CHAIN, np.zeros(3), -0.1)


@pytest.mark.parametrize(
    ("policy", "match"),
    [
        ([[0.5, 0.4], [1.0, 0.0], [0.5, 0.5]], "policy rows must sum to 1.*row 0 sums to 0.9"),
        ([[1.5, -0.5], [1.0, 0.0], [0.5, 0.5]], "policy must have finite, non-negative"),
        ([[0.5, 0.5], [1.0, 0.0]], r"policy must have shape \(S, A\) = \(3, 2\), got \(2, 2\)"),
        ([[np.nan, 1.0], [1.0, 0.0], [0.5, 0.5]], "policy must have finite"),
    ],
)
def test_bad_policy_raises(policy, match):
    for fn in (policy_evaluation, advantages, state_distribution, objective):
        with pytest.raises(ValueError, match=match):
            fn(CHAIN, policy, 0.9)


def test_bad_v_shape_and_iteration_settings_raise():
    with pytest.raises(ValueError, match=r"v must have shape \(3,\)"):
        action_values(CHAIN, np.zeros(2), 0.5)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        iterative_policy_evaluation(CHAIN, CHAIN_PI, 0.5, max_iter=0)
    with pytest.raises(ValueError, match="tol must be > 0"):
        iterative_policy_evaluation(CHAIN, CHAIN_PI, 0.5, tol=0.0)
