"""V, Q, A, ρ^π and J(π) of a tabular MDP, computed exactly (notebooks 02 and 03).

For a policy π (an (S, A) table of probabilities π(a|s)) the value function solves the linear
Bellman equation V(s) = E_{a~π(·|s)}[r(s, a) + γ V(s')], i.e. in matrix form

    V = r_π + γ P_π V,   so   V = (I − γ P_π)⁻¹ r_π

with r_π(s) = Σ_a π(a|s) r(s, a) and P_π[s, s'] = Σ_a π(a|s) [next_state[s, a] = s'].
From V follow Q(s, a) = r(s, a) + γ V(s'), the advantage A(s, a) = Q(s, a) − V(s), the objective
J(π) = E_{s0~ρ^{s0}}[V(s0)] and the discounted state distribution ρ^π.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from a3c_lib.mdp import TabularMDP, as_array, check_mdp


def check_gamma(gamma: float) -> float:
    """Return γ as a float after checking 0 <= γ < 1 (γ = 1 has no finite value in general).

    >>> check_gamma(0.9)
    0.9
    """
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(gamma) < 1.0:  # also rejects nan: every comparison with nan fails
        raise ValueError(f"gamma must be in [0, 1), got {gamma}")
    return float(gamma)


def check_policy(mdp: TabularMDP, policy: np.ndarray, atol: float = 1e-8) -> np.ndarray:
    """Return ``policy`` as a float (S, A) array after checking each row is a distribution π(·|s).

    >>> check_policy(TabularMDP([[0, 0]], [[1.0, 0.0]]), [[0.5, 0.5]])
    array([[0.5, 0.5]])
    """
    check_mdp(mdp)
    pi = as_array(policy, "policy", np.float64)
    if pi.shape != (mdp.n_states, mdp.n_actions):
        raise ValueError(f"policy must have shape (S, A) = {(mdp.n_states, mdp.n_actions)}, "
                         f"got {pi.shape}")
    if not np.all(np.isfinite(pi)) or np.any(pi < 0):
        raise ValueError("policy must have finite, non-negative probabilities")
    row_sums = pi.sum(axis=1)  # (S,)
    bad = np.flatnonzero(np.abs(row_sums - 1.0) > atol)
    if bad.size:
        raise ValueError(f"policy rows must sum to 1 (row s is π(·|s)); row {bad[0]} sums to "
                         f"{row_sums[bad[0]]:.6g}")
    return pi


def uniform_policy(mdp: TabularMDP) -> np.ndarray:
    """π(a|s) = 1/A everywhere, shape (S, A).

    >>> uniform_policy(TabularMDP([[0, 0]], [[1.0, 0.0]]))
    array([[0.5, 0.5]])
    """
    return np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


def transition_matrix(mdp: TabularMDP, policy: np.ndarray) -> np.ndarray:
    """P_π[s, s'] = Σ_a π(a|s) [next_state[s, a] = s'], shape (S, S); each row sums to 1.

    >>> transition_matrix(TabularMDP([[0, 1], [1, 1]], np.zeros((2, 2))), [[0.25, 0.75], [1, 0]])
    array([[0.25, 0.75],
           [0.  , 1.  ]])
    """
    pi = check_policy(mdp, policy)
    p_pi = np.zeros((mdp.n_states, mdp.n_states))  # (S, S)
    rows = np.repeat(np.arange(mdp.n_states), mdp.n_actions)  # (S*A,) the s of each (s, a)
    np.add.at(p_pi, (rows, mdp.next_state.ravel()), pi.ravel())
    return p_pi


def policy_evaluation(mdp: TabularMDP, policy: np.ndarray, gamma: float) -> np.ndarray:
    """The exact V^π: solve (I − γ P_π) V = r_π, shape (S,).

    Reward 1 forever is worth 1 + γ + γ² + … = 1/(1 − γ):

    >>> policy_evaluation(TabularMDP([[0]], [[1.0]]), [[1.0]], gamma=0.9)
    array([10.])
    """
    gamma, pi = check_gamma(gamma), check_policy(mdp, policy)
    r_pi = np.sum(pi * mdp.reward, axis=1)  # r_π(s) = Σ_a π(a|s) r(s, a)  (S,)
    p_pi = transition_matrix(mdp, pi)  # (S, S)
    return np.linalg.solve(np.eye(mdp.n_states) - gamma * p_pi, r_pi)  # (S,)


class IterativeEvaluation(NamedTuple):
    """Result of :func:`iterative_policy_evaluation`."""

    v: np.ndarray  #: V after the last sweep, shape (S,)
    errors: np.ndarray  #: max_s |V_{k+1}(s) − V_k(s)| after each sweep k, shape (n_sweeps,)


def iterative_policy_evaluation(mdp: TabularMDP, policy: np.ndarray, gamma: float,
                                tol: float = 1e-10, max_iter: int = 10_000) -> IterativeEvaluation:
    """Sweep V_{k+1} = r_π + γ P_π V_k from V_0 = 0 until the change is below ``tol``.

    Each sweep shrinks the distance to V^π by a factor γ (a contraction), so ``errors`` falls on
    a line of slope log γ on a log scale.

    >>> v, errors = iterative_policy_evaluation(TabularMDP([[0]], [[1.0]]), [[1.0]], gamma=0.5)
    >>> float(np.round(v[0], 6)), errors[:3]
    (2.0, array([1.  , 0.5 , 0.25]))
    """
    gamma, pi = check_gamma(gamma), check_policy(mdp, policy)
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    r_pi = np.sum(pi * mdp.reward, axis=1)  # (S,)
    p_pi = transition_matrix(mdp, pi)  # (S, S)
    v, errors = np.zeros(mdp.n_states), []
    for _ in range(max_iter):
        v_next = r_pi + gamma * p_pi @ v  # one Bellman sweep  (S,)
        errors.append(float(np.max(np.abs(v_next - v))))
        v = v_next
        if errors[-1] < tol:
            break
    return IterativeEvaluation(v, np.array(errors))


def action_values(mdp: TabularMDP, v: np.ndarray, gamma: float) -> np.ndarray:
    """Q(s, a) = r(s, a) + γ V(s'): one deterministic step, then V, shape (S, A).

    >>> action_values(TabularMDP([[1, 0], [1, 1]], [[1.0, 0.0], [0.0, 0.0]]), [3.0, 2.0], 0.5)
    array([[2. , 1.5],
           [1. , 1. ]])
    """
    check_mdp(mdp)
    gamma, v = check_gamma(gamma), as_array(v, "v", np.float64)
    if v.shape != (mdp.n_states,):
        raise ValueError(f"v must have shape ({mdp.n_states},), got {v.shape}")
    return mdp.reward + gamma * v[mdp.next_state]  # (S, A)


def advantages(mdp: TabularMDP, policy: np.ndarray, gamma: float) -> np.ndarray:
    """A(s, a) = Q(s, a) − V(s) under π, shape (S, A); Σ_a π(a|s) A(s, a) = 0 in every state.

    >>> mdp = TabularMDP([[0, 0]], [[1.0, 0.0]])   # one state; action 0 pays 1, action 1 pays 0
    >>> advantages(mdp, [[0.5, 0.5]], gamma=0.0)
    array([[ 0.5, -0.5]])
    """
    v = policy_evaluation(mdp, policy, gamma)  # (S,)
    return action_values(mdp, v, gamma) - v[:, None]  # (S, A)


def state_distribution(mdp: TabularMDP, policy: np.ndarray, gamma: float) -> np.ndarray:
    """ρ^π(s) = (1 − γ) Σ_t γ^t P(s_t = s | s0 ~ ρ^{s0}, π): the NORMALISED discounted visitation.

    It is discounted (step t counts γ^t) and multiplied by (1 − γ) so that it sums to 1; time spent
    in an absorbing terminal state after the episode ended counts, so terminal states get mass too
    (they contribute nothing to the policy gradient, where A = 0). In matrix form
    ρ^π = (1 − γ) (I − γ P_πᵀ)⁻¹ ρ^{s0}. With this normalisation the policy gradient theorem reads
    ∇J = 1/(1 − γ) · E_{s~ρ^π, a~π}[A(s, a) ∇ log π(a|s)] (see :mod:`a3c_lib.policy_gradient`).

    >>> mdp = TabularMDP([[1], [1]], [[0.0], [0.0]], start=[1.0, 0.0])   # 0 -> 1 -> 1 -> …
    >>> state_distribution(mdp, [[1.0], [1.0]], gamma=0.5)   # (1 − γ)·[1, γ + γ² + …]
    array([0.5, 0.5])
    """
    gamma = check_gamma(gamma)
    p_pi = transition_matrix(mdp, policy)  # (S, S)
    visits = np.linalg.solve(np.eye(mdp.n_states) - gamma * p_pi.T, mdp.start)  # Σ_t γ^t P(s_t)
    return (1.0 - gamma) * visits  # (S,)


def objective(mdp: TabularMDP, policy: np.ndarray, gamma: float) -> float:
    """J(π) = E_{s0~ρ^{s0}}[V(s0)] = ρ^{s0} · V, the quantity policy-gradient methods climb.

    >>> objective(TabularMDP([[0], [1]], [[1.0], [3.0]]), [[1.0], [1.0]], gamma=0.5)   # ½·2 + ½·6
    4.0
    """
    return float(mdp.start @ policy_evaluation(mdp, policy, gamma))  # (S,)·(S,) -> ()
