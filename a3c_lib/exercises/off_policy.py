"""Exercises of notebook 07: importance weights that correct for data of a behaviour policy μ.

Notation of notebook 07: π = π_θ is the policy being improved, μ the older (behaviour) policy
that made the samples in the replay memory, ρ = π(a|s) / μ(a|s).
"""

from __future__ import annotations

import numpy as np

from a3c_lib.exercises._report import CheckResult, check_function
from a3c_lib.expectation import expectation


def _policies(rng, n_s, n_a):
    return (rng.dirichlet(np.ones(n_a), size=n_s),  # π  (S, A)
            rng.dirichlet(np.ones(n_a), size=n_s))  # μ  (S, A)


def check_importance_weights(importance_weights) -> CheckResult:
    """Check ``importance_weights(pi, mu, states, actions)`` = ρ_b, shape (B,).

    ρ_b = π(a_b|s_b) / μ(a_b|s_b) for a batch of (s_b, a_b) collected with μ.

    >>> def inverted(pi, mu, states, actions):
    ...     return mu[states, actions] / pi[states, actions]
    >>> check_importance_weights(inverted).passed  # doctest: +ELLIPSIS
    ❌ not yet: the ratio is inverted: ... (case 1 of 3, ...)
    False
    """
    rng = np.random.default_rng(707)
    cases = []
    for n_s, n_a, batch in ((4, 4, 6), (5, 3, 8), (3, 2, 5)):  # S = A first: axis mix-ups run
        pi, mu = _policies(rng, n_s, n_a)
        cases.append((pi, mu, rng.integers(0, n_s, size=batch),
                      rng.integers(0, n_a, size=batch)))

    def reference(pi, mu, states, actions):
        # ρ_b, one pair at a time: π(a|s) and μ(a|s) are P(a) under two distributions
        return [pi[s, a] / mu[s, a] for s, a in zip(states, actions, strict=True)]

    return check_function(
        importance_weights, name="importance_weights",
        arg_names=["pi", "mu", "states", "actions"], cases=cases, reference=reference,
        variants=[
            ("the ratio is inverted: the data came from μ, so divide BY μ (ρ > 1 for actions "
             "the current policy π likes more than μ did)",
             lambda pn, po, s, a: po[s, a] / pn[s, a]),
            ("that is a difference: an importance weight is a ratio of probabilities",
             lambda pn, po, s, a: pn[s, a] - po[s, a]),
            ("that is log ρ: take the ratio itself (or exp of the difference of the logs)",
             lambda pn, po, s, a: np.log(pn[s, a] / po[s, a])),
            ("states and actions are swapped: a table is indexed [state, action]",
             lambda pn, po, s, a: pn[a, s] / po[a, s]),
        ],
        generic_hint="ρ_b = π(a_b|s_b) / μ(a_b|s_b), one number per sample",
        shape_note="(one weight per sample of the batch)",
        success="E_{a~μ}[ρ·f(a)] = E_{a~π}[f(a)]: μ's samples, reweighted, estimate an "
                "expectation under π")


def _exact_samples(mu, n):
    """n actions that occur EXACTLY in the proportions mu (mu·n are whole numbers)."""
    return np.repeat(np.arange(len(mu)), np.round(mu * n).astype(int))  # (n,)


def check_off_policy_mean(off_policy_mean) -> CheckResult:
    """Check ``off_policy_mean(x, actions, pi, mu)``: estimate E_{a~π}[x(a)] from actions drawn
    with μ, by the mean of ρ·x(a) (ordinary importance sampling); π, μ, x have shape (A,).

    >>> check_off_policy_mean(lambda x, actions, pi, mu: x[actions].mean()).passed
    ... # doctest: +ELLIPSIS
    ❌ not yet: no correction: ... (case 1 of 4, ...)
    False
    """
    rng = np.random.default_rng(708)
    cases, expected = [], []
    # samples in the exact proportions of μ: the estimate must be E_π[x] exactly
    for mu, pi in (([0.25, 0.75], [0.6, 0.4]), ([0.5, 0.1, 0.4], [0.2, 0.3, 0.5])):
        mu, pi = np.array(mu), np.array(pi)
        x = rng.normal(0.0, 3.0, size=len(mu))
        cases.append((x, _exact_samples(mu, 20), pi, mu))
        expected.append(expectation(pi, x))  # the library's E_P[X]
    # random draws: the mean of ρ·x over THESE samples (not E_π[x], which it only estimates)
    for n_a, n in ((3, 7), (4, 10)):
        pi, mu = rng.dirichlet(np.ones(n_a)), rng.dirichlet(np.ones(n_a))
        x, actions = rng.normal(0.0, 3.0, size=n_a), rng.choice(n_a, size=n, p=mu)
        cases.append((x, actions, pi, mu))
        expected.append(sum(pi[a] / mu[a] * x[a] for a in actions) / n)
    return check_function(
        off_policy_mean, name="off_policy_mean", arg_names=["x", "actions", "pi", "mu"],
        cases=cases, reference=expected,
        variants=[
            ("no correction: the actions came from μ, so their plain mean estimates E_μ[x], "
             "not E_π[x]", lambda x, a, pn, po: x[a].mean()),
            ("the ratio is inverted: weight each sample by π(a) / μ(a)",
             lambda x, a, pn, po: np.mean(po[a] / pn[a] * x[a])),
            ("you divided by Σρ (weighted importance sampling): here take the plain mean of "
             "ρ·x over the n samples", lambda x, a, pn, po: np.sum(pn[a] / po[a] * x[a])
             / np.sum(pn[a] / po[a])),
            ("you computed the exact expectation under π: the exercise estimates it from "
             "the samples", lambda x, a, pn, po: np.dot(pn, x)),
        ],
        generic_hint="(1/n) Σ_k ρ_k x(a_k) with ρ_k = π(a_k) / μ(a_k)",
        shape_note="(a single number)",
        success="the mean of ρ·x is an unbiased estimate of E_π[x] from μ's samples")
