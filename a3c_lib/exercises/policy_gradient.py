"""Exercises of notebook 04: ∇_θ log π(a|s) for a tabular softmax policy, and ∇_θ J."""

from __future__ import annotations

import numpy as np

from a3c_lib.exercises._report import CheckResult, check_function
from a3c_lib.mdp import random_mdp
from a3c_lib.policy_gradient import exact_policy_gradient, grad_log_pi, softmax_policy
from a3c_lib.values import advantages, state_distribution


def _one_row(theta, s, a, row_value):
    grad = np.zeros_like(theta)  # (S, A)
    grad[s] = row_value
    return grad


def _pi_s(theta, s):
    return softmax_policy(theta[s:s + 1])[0]  # π(·|s), shape (A,)


def _only_chosen(theta, s, a):
    grad = np.zeros_like(theta)
    grad[s, a] = 1.0 - _pi_s(theta, s)[a]
    return grad


def check_grad_log_softmax(grad_log_softmax) -> CheckResult:
    """Check ``grad_log_softmax(theta, s, a)`` = ∇_θ log π(a|s), shape (S, A) like theta.

    >>> check_grad_log_softmax(lambda theta, s, a: -grad_log_pi(theta, s, a)).passed
    ... # doctest: +ELLIPSIS
    ❌ not yet: the sign is flipped: ... (case 1 of 4, ...)
    False
    """
    rng = np.random.default_rng(404)
    cases = [(rng.normal(0.0, 1.0, size=shape), s, a)
             for shape, s, a in (((3, 4), 1, 2), ((4, 4), 0, 3), ((5, 3), 4, 0), ((2, 5), 1, 4))]
    eye = np.eye  # e_a = eye(A)[a]
    return check_function(
        grad_log_softmax, name="grad_log_softmax", arg_names=["theta", "s", "a"], cases=cases,
        reference=grad_log_pi,
        variants=[
            ("the sign is flipped: raising θ[s, a] must raise log π(a|s), so the chosen "
             "action's entry is positive", lambda th, s, a: -grad_log_pi(th, s, a)),
            ("you forgot to subtract π(·|s): log π(a|s) = θ[s, a] − log Σ_b exp θ[s, b], "
             "and the second term depends on every logit of row s",
             lambda th, s, a: _one_row(th, s, a, eye(th.shape[1])[a])),
            ("only the chosen entry is set: the other logits of row s change log π(a|s) too",
             _only_chosen),
            ("you subtracted the logits θ[s] instead of the probabilities π(·|s) = softmax(θ[s])",
             lambda th, s, a: _one_row(th, s, a, eye(th.shape[1])[a] - th[s])),
            ("you wrote into the wrong row: only row s (the state) is non-zero",
             lambda th, s, a: _one_row(th, a, a, eye(th.shape[1])[a] - _pi_s(th, a))),
            ("every row is non-zero: log π(a|s) depends only on the logits θ[s] of state s",
             lambda th, s, a: eye(th.shape[1])[a] - softmax_policy(th)),
            ("the softmax must normalise over the actions of state s only, not the whole table",
             lambda th, s, a: _one_row(th, s, a, eye(th.shape[1])[a]
                                       - (np.exp(th) / np.exp(th).sum())[s])),
        ],
        generic_hint="row s is e_a − π(·|s), every other row is 0",
        shape_note="(the gradient has the shape of theta)",
        success="∇_θ log π(a|s) = e_a − π(·|s) in row s: push the chosen action up, all "
                "actions down in proportion to their probability")


def _pg(mdp, theta, gamma, d, weight_by_pi=True):
    """Σ_s d(s) Σ_a w(s, a) ∇log π(a|s) with w = π·A (or A alone): for the wrong variants."""
    pi = softmax_policy(theta)  # (S, A)
    w = advantages(mdp, pi, gamma) * (pi if weight_by_pi else 1.0)  # (S, A)
    # Σ_a w(s,a) (e_a − π(·|s)) = w(s,·) − π(·|s) Σ_a w(s,a), row by row
    return d[:, None] * (w - pi * w.sum(axis=1, keepdims=True))  # (S, A)


def _d(mdp, theta, gamma):
    return state_distribution(mdp, softmax_policy(theta), gamma) / (1.0 - gamma)  # d^π  (S,)


def check_policy_gradient(policy_gradient) -> CheckResult:
    """Check ``policy_gradient(mdp, theta, gamma)`` = ∇_θ J by the policy gradient theorem.

    >>> check_policy_gradient(lambda mdp, theta, gamma: (1 - gamma)
    ...                       * exact_policy_gradient(mdp, theta, gamma)).passed
    ... # doctest: +ELLIPSIS
    ❌ not yet: ρ^π is normalised ... (case 1 of 3, ...)
    False
    """
    rng = np.random.default_rng(405)
    cases = [(random_mdp(n_s, n_a, rng=rng), rng.normal(0.0, 1.0, size=(n_s, n_a)), gamma)
             for n_s, n_a, gamma in ((4, 3, 0.9), (5, 2, 0.8), (3, 4, 0.5))]
    return check_function(
        policy_gradient, name="policy_gradient", arg_names=["mdp", "theta", "gamma"],
        cases=cases, reference=exact_policy_gradient,
        variants=[
            ("ρ^π is normalised to sum to 1: the theorem's weights are d^π = ρ^π / (1 − γ)",
             lambda mdp, th, g: (1.0 - g) * exact_policy_gradient(mdp, th, g)),
            ("every state counts equally: weight state s by how much the policy visits it, d^π(s)",
             lambda mdp, th, g: _pg(mdp, th, g, np.ones(mdp.n_states))),
            ("you weighted states by the START distribution: states reached later count too, "
             "as in d^π", lambda mdp, th, g: _pg(mdp, th, g, mdp.start)),
            ("the actions are not weighted by π(a|s): the gradient is an expectation over a ~ π",
             lambda mdp, th, g: _pg(mdp, th, g, _d(mdp, th, g), weight_by_pi=False)),
        ],
        generic_hint="∇J = Σ_s d^π(s) Σ_a π(a|s) A(s, a) ∇_θ log π(a|s)",
        shape_note="(the gradient has the shape of theta)",
        success="the policy gradient theorem: compare it with finite differences of J in the "
                "notebook")
