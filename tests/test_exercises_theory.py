"""Theory-half checkers and lesson code of notebook 04: the bandit's log-derivative trick, its
exercise checker (right answers and several plausible wrong ones), reward-to-go and the γ^t bias."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.bandit import (
    bandit_gradient,
    bandit_objective,
    bandit_policy,
    sampled_bandit_gradient,
    score,
)
from a3c_lib.exercises import check_score_function_gradient
from a3c_lib.exercises._report import NOT_WRITTEN
from a3c_lib.gridworld import GridWorld
from a3c_lib.mdp import TabularMDP
from a3c_lib.policy_gradient import (
    exact_policy_gradient,
    gamma_weighting_bias,
    gradient_ascent,
    sampled_policy_gradient,
    softmax_policy,
    undiscounted_state_gradient,
    undiscounted_visits,
)
from a3c_lib.values import state_distribution

# ---- the bandit -------------------------------------------------------------------------------


def test_bandit_gradient_matches_finite_differences_and_the_score_sum():
    rng = np.random.default_rng(0)
    for k in (2, 3, 6):
        theta, r = rng.normal(size=k), rng.normal(size=k)
        eps, fd = 1e-6, np.zeros(k)
        for b in range(k):
            e = np.eye(k)[b] * eps
            fd[b] = (bandit_objective(theta + e, r) - bandit_objective(theta - e, r)) / (2 * eps)
        np.testing.assert_allclose(bandit_gradient(theta, r), fd, atol=1e-9)
        pi = bandit_policy(theta)
        score_sum = (pi * r) @ score(theta, np.arange(k))  # Σ_a π(a) r(a) (e_a − π)
        np.testing.assert_allclose(score_sum, bandit_gradient(theta, r), atol=1e-14)
        np.testing.assert_allclose(pi @ score(theta, np.arange(k)), 0.0, atol=1e-15)  # E[∇logπ]=0


def test_sampled_bandit_gradient_is_unbiased_for_any_baseline_and_shrinks_like_inv_sqrt_n():
    theta, r = np.array([0.5, -0.3, 0.2]), np.array([1.0, -0.5, 2.0])
    exact = bandit_gradient(theta, r)
    for b in (0.0, bandit_objective(theta, r), -5.0):
        samples = sampled_bandit_gradient(theta, r, 200_000, rng=1, baseline=b,
                                          return_samples=True)  # (n, K)
        sem = samples.std(axis=0) / np.sqrt(len(samples))
        assert np.all(np.abs(samples.mean(axis=0) - exact) < 5 * sem)
    # the error of a mean of n samples: RMS over 400 groups, ×10 samples -> ÷√10 error (±15 %)
    samples = sampled_bandit_gradient(theta, r, 400 * 1000, rng=2, return_samples=True)
    err = [np.sqrt(np.mean(np.sum((samples[: 400 * n].reshape(400, n, 3).mean(1) - exact) ** 2,
                                  axis=1))) for n in (10, 100, 1000)]
    assert 0.85 < (err[0] / err[1]) / np.sqrt(10) < 1.15
    assert 0.85 < (err[1] / err[2]) / np.sqrt(10) < 1.15


@pytest.mark.parametrize("call, name", [
    (lambda: bandit_policy([1.0]), "theta"),
    (lambda: bandit_gradient([0.0, 0.0], [1.0]), "r"),
    (lambda: score([0.0, 0.0], [2]), "actions"),
    (lambda: sampled_bandit_gradient([0.0, 0.0], [1.0, 2.0], 0), "n"),
])
def test_bandit_bad_input(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        call()


# ---- the exercise checker -----------------------------------------------------------------------


def score_function_gradient(theta, r):  # a right answer, written as a student would
    pi = np.exp(theta - theta.max())
    pi /= pi.sum()
    return sum(pi[a] * r[a] * (np.eye(len(theta))[a] - pi) for a in range(len(theta)))


def score_function_gradient_vectorised(theta, r):  # another right answer
    pi = np.exp(theta) / np.exp(theta).sum()
    return pi * r - pi * np.dot(pi, r)


def test_right_answers_pass():
    assert check_score_function_gradient(score_function_gradient).passed
    assert check_score_function_gradient(score_function_gradient_vectorised).passed


def _softmax(theta):
    return np.exp(theta) / np.exp(theta).sum()


WRONG = {  # plausible mistake -> words its hint must contain
    "only e_a": (lambda th, r: _softmax(th) * r, "two parts"),
    "not weighted by pi": (lambda th, r: r - _softmax(th) * r.sum(), "not weighted by π"),
    "uniform weights": (lambda th, r: (r - _softmax(th) * r.sum()) / len(r), "1/K"),
    "logits for pi": (lambda th, r: _softmax(th) * r - th * np.dot(_softmax(th), r), "logits"),
    "no normalisation": (lambda th, r: np.exp(th) * r - np.exp(th) * np.dot(np.exp(th), r),
                         "not normalised"),
    "forgot r": (lambda th, r: sum(_softmax(th)[a] * (np.eye(len(th))[a] - _softmax(th))
                                   for a in range(len(th))), "r(a) is missing"),
    "sign": (lambda th, r: -score_function_gradient(th, r), "sign is flipped"),
    "returns J": (lambda th, r: float(np.dot(_softmax(th), r)), "a single number"),
    "off by the mean": (lambda th, r: _softmax(th) * (r - r.mean()), "wrong value"),
}


@pytest.mark.parametrize("name", list(WRONG))
def test_plausible_wrong_answers_get_their_hint_and_never_the_answer(name, capsys):
    fn, words = WRONG[name]
    result = check_score_function_gradient(fn)
    assert not result.passed
    assert words in result.message, result.message
    printed = capsys.readouterr().out
    exact = bandit_gradient(np.array([0.5, -0.3, 0.2]), np.array([1.0, -0.5, 2.0]))
    assert not any(f"{x:.3f}" in printed for x in exact)  # the expected numbers are not shown


def test_unwritten_stub_gets_the_friendly_line():
    def stub(theta, r):
        raise NotImplementedError

    assert check_score_function_gradient(stub).message.endswith(NOT_WRITTEN)


# ---- from trajectories to the theorem ---------------------------------------------------------


def test_total_return_and_reward_to_go_estimates_have_the_same_mean_on_the_grid():
    mdp, gamma = GridWorld().to_mdp(), 0.9
    theta = 0.5 * np.random.default_rng(0).standard_normal((mdp.n_states, mdp.n_actions))
    exact = exact_policy_gradient(mdp, theta, gamma)
    for kwargs in ({"reward_to_go": False}, {}, {"baseline": "value"}):
        s = sampled_policy_gradient(mdp, theta, gamma, 4000, rng=3, return_samples=True, **kwargs)
        sem = s.std(axis=0) / np.sqrt(len(s))  # (S, A)
        z = np.abs(s.mean(axis=0) - exact) / np.maximum(sem, 1e-12)
        assert np.mean(z < 3) > 0.95, kwargs  # ~99.7 % of entries within 3 SE if unbiased
    with pytest.raises(ValueError, match="^baseline must be None"):
        sampled_policy_gradient(mdp, theta, gamma, 2, baseline="value", reward_to_go=False)


# ---- the γ^t weighting A3C drops ---------------------------------------------------------------


def test_undiscounted_visits_by_hand_and_against_gamma_to_one():
    # a chain 0 -> 1 -> 2 (terminal): each state visited once
    chain = TabularMDP([[1], [2], [2]], np.zeros((3, 1)), [False, False, True], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(undiscounted_visits(chain, np.ones((3, 1))), [1.0, 1.0, 0.0])
    mdp = GridWorld().to_mdp()
    pi = softmax_policy(np.random.default_rng(1).normal(size=(mdp.n_states, 4)))
    eta = undiscounted_visits(mdp, pi)
    d = state_distribution(mdp, pi, 0.999999) / (1 - 0.999999)  # d^π -> η as γ -> 1
    np.testing.assert_allclose(d[~mdp.terminal], eta[~mdp.terminal], rtol=1e-3)
    loop = TabularMDP([[0]], [[1.0]])  # never ends
    with pytest.raises(ValueError, match="^mdp must end every episode"):
        undiscounted_visits(loop, np.ones((1, 1)))


def test_gamma_bias_exact_cases():
    # one step episodes: γ^0 = 1 is the only weight, so A3C's direction is exact
    one_step = TabularMDP(np.full((3, 2), 2), [[1.0, 0.0], [0.0, 2.0], [0, 0]],
                          [False, False, True])
    theta = np.random.default_rng(0).normal(size=(3, 2))
    np.testing.assert_allclose(undiscounted_state_gradient(one_step, theta, 0.7),
                               exact_policy_gradient(one_step, theta, 0.7), atol=1e-14)
    bias = gamma_weighting_bias(one_step, theta, 0.7)
    assert bias.cosine == pytest.approx(1.0)
    assert bias.relative_error == pytest.approx(0.0, abs=1e-12)
    # the grid: the bias shrinks as γ -> 1, and is large for a short horizon
    grid = GridWorld().to_mdp()
    learned = gradient_ascent(grid, np.zeros((17, 4)), 0.9, lr=10.0, steps=50).thetas[-1]
    cosines = [gamma_weighting_bias(grid, learned, g).cosine for g in (0.5, 0.8, 0.9, 0.99)]
    assert all(np.diff(cosines) > 0) and cosines[-1] > 0.999 and cosines[0] < 0.8


# ---- the sliders' lessons (notebook 04, section 8) ----------------------------------------------


def test_gamma_switches_the_learned_path_on_the_risky_grid():
    from a3c_lib.gridworld import risky_shortcut_grid

    grid = risky_shortcut_grid()
    mdp, s0 = grid.to_mdp(), grid.state_of(2, 0)
    first_move = {}
    for g in (0.6, 0.8, 0.9, 0.99):
        theta = gradient_ascent(mdp, np.zeros((mdp.n_states, 4)), g, lr=30.0, steps=300).thetas[-1]
        first_move[g] = int(np.argmax(softmax_policy(theta)[s0]))
    assert first_move == {0.6: 1, 0.8: 1, 0.9: 0, 0.99: 0}  # right = shortcut, up = detour


def test_sampled_gradient_ascent_too_large_a_rate_can_lock_onto_a_bad_policy():
    mdp, gamma = GridWorld().to_mdp(), 0.9
    wall_forever = -0.04 / (1 - gamma)  # J of bumping into a wall for ever
    finals = {lr: np.array([gradient_ascent(mdp, np.zeros((17, 4)), gamma, lr, 40, n_episodes=10,
                                            rng=seed).objectives[-1] for seed in range(4)])
              for lr in (30.0, 3000.0)}
    assert np.all(finals[30.0] > 0.3)  # a moderate rate climbs near the best J = 0.344
    assert np.any(np.isclose(finals[3000.0], wall_forever, atol=0.01))  # some run stuck
    with pytest.raises(ValueError, match="^n_episodes must be"):
        gradient_ascent(mdp, np.zeros((17, 4)), gamma, 1.0, 1, n_episodes=0)


def test_dropping_gamma_t_in_the_sampled_estimate_converges_to_the_a3c_direction():
    mdp, gamma = GridWorld().to_mdp(), 0.9
    theta = 0.5 * np.random.default_rng(0).standard_normal((17, 4))  # long episodes: big bias
    s = sampled_policy_gradient(mdp, theta, gamma, 1000, rng=5, baseline="value",
                                discount_steps=False, max_steps=2000, return_samples=True)
    mean, se = s.mean(axis=0), s.std(axis=0) / np.sqrt(len(s))
    live = se > 0

    def z2(target):
        return np.mean(((mean - target)[live] / se[live]) ** 2)

    assert z2(undiscounted_state_gradient(mdp, theta, gamma)) < 2.0  # ≈ 1: unbiased for g_A3C
    assert z2(exact_policy_gradient(mdp, theta, gamma)) > 10.0  # clearly not ∇J
