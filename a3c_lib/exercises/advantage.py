"""Exercises of notebook 03: the advantage A = Q − V, and its average under π."""

from __future__ import annotations

import numpy as np

from a3c_lib.exercises._report import CheckResult, check_function
from a3c_lib.expectation import expectation
from a3c_lib.mdp import random_mdp
from a3c_lib.values import action_values, advantages, policy_evaluation


def _mdp_cases() -> list[tuple]:
    """(mdp, pi, gamma) with S = A first (so a wrong broadcasting axis still runs), then S ≠ A."""
    rng = np.random.default_rng(303)
    cases = []
    for (n_s, n_a), gamma in (((4, 4), 0.9), ((6, 3), 0.8), ((3, 5), 0.5)):
        mdp = random_mdp(n_s, n_a, rng=rng)
        cases.append((mdp, rng.dirichlet(np.ones(n_a), size=n_s), gamma))
    return cases


def check_advantage(advantage) -> CheckResult:
    """Check ``advantage(q, v)`` = A(s, a) = Q(s, a) − V(s), shape (S, A).

    >>> check_advantage(lambda q, v: v[:, None] - q).passed  # doctest: +ELLIPSIS
    ❌ not yet: the sign is flipped: ... (case 1 of 3, ...)
    False
    """
    cases, expected = [], []
    for mdp, pi, gamma in _mdp_cases():
        v = policy_evaluation(mdp, pi, gamma)  # (S,)
        cases.append((action_values(mdp, v, gamma), v))  # q (S, A), v (S,)
        expected.append(advantages(mdp, pi, gamma))  # (S, A) from the library
    return check_function(
        advantage, name="advantage", arg_names=["q", "v"], cases=cases, reference=expected,
        variants=[
            ("the sign is flipped: A > 0 must mean the action is BETTER than the policy's "
             "average, so subtract V from Q", lambda q, v: v[:, None] - q),
            ("V(s) was subtracted along the wrong axis: v[s] belongs to row s of q (every "
             "action of state s); try v[:, None]", lambda q, v: q - v[None, :]),
            ("you subtracted the mean of V over all states: subtract V(s) of the same state",
             lambda q, v: q - v.mean()),
            ("you subtracted the mean of Q over actions: V(s) is the π-weighted mean, use v",
             lambda q, v: q - q.mean(axis=1, keepdims=True)),
        ],
        generic_hint="A(s, a) = Q(s, a) − V(s), for every state s and action a",
        shape_note="(one value per state and action, like q)",
        success="A(s, a) = Q(s, a) − V(s): how much better action a is than π's average in s")


def check_expected_advantage(expected_advantage) -> CheckResult:
    """Check ``expected_advantage(pi, adv)`` = Σ_a π(a|s) adv(s, a) for every s, shape (S,).

    >>> check_expected_advantage(lambda pi, adv: adv.mean(axis=1)).passed  # doctest: +ELLIPSIS
    ❌ not yet: you averaged over actions uniformly: ... (case 1 of 3, ...)
    False
    """
    rng = np.random.default_rng(304)
    # ANY (S, A) table, not only true advantages: a function returning zeros must not pass
    cases = [(rng.dirichlet(np.ones(n_a), size=n_s), rng.normal(0.0, 1.0, size=(n_s, n_a)))
             for n_s, n_a in ((4, 4), (6, 3), (2, 5))]
    worst = max(float(np.max(np.abs(np.sum(pi * advantages(mdp, pi, gamma), axis=1))))
                for mdp, pi, gamma in _mdp_cases())
    return check_function(
        expected_advantage, name="expected_advantage", arg_names=["pi", "adv"], cases=cases,
        reference=lambda pi, adv: [expectation(pi[s], adv[s]) for s in range(len(pi))],
        variants=[
            ("you averaged over actions uniformly: weight each action by π(a|s)",
             lambda pi, adv: adv.mean(axis=1)),
            ("you summed over states (axis 0): E_π[A(s, ·)] sums over the actions of one state",
             lambda pi, adv: np.sum(pi * adv, axis=0)),
            ("you forgot to add up over actions", lambda pi, adv: pi * adv),
        ],
        generic_hint="for each state s: Σ_a π(a|s)·adv(s, a), a weighted average over actions",
        shape_note="(one value per state)",
        success=f"the π-weighted average over actions. For the TRUE advantage of random MDPs "
                f"it is 0 in every state (largest |E_π[A]| = {worst:.0e}, rounding): A measures "
                f"actions against π's own average")
