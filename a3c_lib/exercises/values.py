"""Exercises of notebook 02: one Bellman backup of V, and Q from V."""

from __future__ import annotations

import numpy as np

from a3c_lib.exercises._report import CheckResult, check_function
from a3c_lib.gridworld import GridWorld
from a3c_lib.mdp import random_mdp
from a3c_lib.values import action_values, policy_evaluation


def _cases() -> list[tuple]:
    """(mdp, pi, v, gamma): random MDPs (S ≠ A and S = A) and the grid; v = 0 at terminal states."""
    rng = np.random.default_rng(202)
    cases = []
    for (n_s, n_a), gamma in (((5, 3), 0.9), ((4, 4), 0.5), ((6, 2), 0.99)):
        mdp = random_mdp(n_s, n_a, rng=rng)
        pi = rng.dirichlet(np.ones(n_a), size=n_s)  # (S, A), a random stochastic policy
        v = rng.normal(0.0, 2.0, size=n_s) * ~mdp.terminal  # (S,) any V with V(terminal) = 0
        cases.append((mdp, pi, v, gamma))
    mdp = GridWorld().to_mdp()
    pi = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    cases.append((mdp, pi, policy_evaluation(mdp, pi, 0.9), 0.9))  # at V^π the backup is a no-op
    return cases


def _q(mdp, v, gamma):
    return action_values(mdp, v, gamma)  # (S, A), the library's tested Q(s, a) = r + γ V(s')


def check_bellman_backup(bellman_backup) -> CheckResult:
    """Check ``bellman_backup(mdp, pi, v, gamma)`` = r_π + γ P_π v, shape (S,).

    >>> check_bellman_backup(lambda mdp, pi, v, gamma: _q(mdp, v, gamma).max(axis=1)).passed
    ... # doctest: +ELLIPSIS
    ❌ not yet: you took the max over actions: ... (case 1 of 4, ...)
    False
    """
    return check_function(
        bellman_backup, name="bellman_backup", arg_names=["mdp", "pi", "v", "gamma"],
        cases=_cases(),
        reference=lambda mdp, pi, v, gamma: np.sum(pi * _q(mdp, v, gamma), axis=1),
        variants=[
            ("you took the max over actions: V^π averages over the actions the policy takes, "
             "with weights π(a|s) (the max belongs to value iteration)",
             lambda mdp, pi, v, gamma: _q(mdp, v, gamma).max(axis=1)),
            ("you averaged over actions uniformly: weight each action by π(a|s)",
             lambda mdp, pi, v, gamma: _q(mdp, v, gamma).mean(axis=1)),
            ("you forgot the discount γ in front of V(s')",
             lambda mdp, pi, v, gamma: np.sum(pi * (mdp.reward + v[mdp.next_state]), axis=1)),
            ("you forgot the reward r(s, a)",
             lambda mdp, pi, v, gamma: np.sum(pi * (_q(mdp, v, gamma) - mdp.reward), axis=1)),
            ("you used V(s) of the current state: the backup looks one step ahead, at "
             "V(s') with s' = mdp.next_state[s, a]",
             lambda mdp, pi, v, gamma: np.sum(pi * (mdp.reward + gamma * v[:, None]), axis=1)),
        ],
        generic_hint="V(s) ← Σ_a π(a|s) (r(s, a) + γ V(next_state[s, a]))",
        shape_note="(one value per state)",
        success="one sweep of V ← r_π + γ P_π V; repeated, it converges to V^π")


def check_q_from_v(q_from_v) -> CheckResult:
    """Check ``q_from_v(mdp, v, gamma)`` = Q(s, a) = r(s, a) + γ V(next_state[s, a]), shape (S, A).

    >>> check_q_from_v(lambda mdp, v, gamma: mdp.reward + v[mdp.next_state]).passed
    ... # doctest: +ELLIPSIS
    ❌ not yet: you forgot the discount γ ... (case 1 of 4, ...)
    False
    """
    cases = [(mdp, v, gamma) for mdp, _, v, gamma in _cases()]
    return check_function(
        q_from_v, name="q_from_v", arg_names=["mdp", "v", "gamma"], cases=cases, reference=_q,
        variants=[
            ("you forgot the discount γ in front of V(s')",
             lambda mdp, v, gamma: mdp.reward + v[mdp.next_state]),
            ("you used V(s) of the current state: Q looks one step ahead, at V(s') with "
             "s' = mdp.next_state[s, a]", lambda mdp, v, gamma: mdp.reward + gamma * v[:, None]),
            ("you forgot the reward r(s, a) of the first step",
             lambda mdp, v, gamma: gamma * v[mdp.next_state]),
            ("V(s') is added once per (s, a), not subtracted",
             lambda mdp, v, gamma: mdp.reward - gamma * v[mdp.next_state]),
        ],
        generic_hint="Q(s, a) = r(s, a) + γ V(s') with s' = mdp.next_state[s, a]",
        shape_note="(one value per state and action)",
        success="Q(s, a) fixes the first action, then follows π; V(s) = Σ_a π(a|s) Q(s, a)")
