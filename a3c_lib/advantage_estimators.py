"""Bias and variance of the n-step and GAE(λ) advantage estimators, EXACTLY, on a tabular MDP.

The actor's update weights ∇log π(a|s) by an estimate Â of A(s, a), built from sampled rewards
and an imperfect critic V̂ (notebook 05):

    n-step:  Â⁽ⁿ⁾ = r_t + γ r_{t+1} + … + γ^{n−1} r_{t+n−1} + γⁿ V̂(s_{t+n}) − V̂(s_t)
    GAE(λ):  Â^λ  = Σ_k (γλ)^k δ_{t+k},   δ_t = r_t + γ V̂(s_{t+1}) − V̂(s_t)

Given (s_t, a_t) = (s, a), Â is a random variable (the later actions are sampled from π). On a
tabular MDP its mean and variance are computed exactly by recursions over the state moments —
the future after s' is independent of the past given s' — so no sampling noise blurs the lesson:

* bias(s, a) = E[Â | s, a] − (Q(s, a) − V̂(s)): what a wrong critic leaves in the estimate of
  the action's value (γⁿ shrinks it). The critic's error at s_t itself is left out on purpose:
  V̂(s_t) is subtracted from every action of s_t alike — a baseline, which does not bias the
  policy gradient (notebook 04); its error at the BOOTSTRAP state s_{t+n} does;
* Var(Â | s, a): what the sampled future adds (more real rewards, more variance).

Both are averaged over (s, a) ~ ρ^π(s)·π(a|s) on the non-terminal states. Terminal states are
worth 0 to the critic too (``v_hat`` is set to 0 there: the terminated flag says so in a rollout).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from a3c_lib.mdp import TabularMDP, check_mdp
from a3c_lib.values import (
    advantages,
    check_policy,
    policy_evaluation,
    state_distribution,
    transition_matrix,
)


class EstimatorStats(NamedTuple):
    """Bias and variance of an advantage estimator, averaged over (s, a) ~ ρ^π·π."""

    bias: float  # root mean square of E[Â | s, a] − (Q(s, a) − V̂(s))
    variance: float  # mean of Var(Â | s, a)

    @property
    def mse(self) -> float:
        """Mean squared error E[(Â − A)²] = bias² + variance."""
        return self.bias**2 + self.variance


def _setup(mdp: TabularMDP, policy, gamma: float, v_hat) -> tuple:
    check_mdp(mdp)
    policy = check_policy(mdp, policy)  # (S, A)
    v_hat = np.array(v_hat, dtype=np.float64)
    if v_hat.shape != (mdp.n_states,) or not np.all(np.isfinite(v_hat)):
        raise ValueError(f"v_hat must be a finite array of shape ({mdp.n_states},), "
                         f"got shape {v_hat.shape}")
    v_hat[mdp.terminal] = 0.0  # V̂(terminal) = 0, as the terminated flag enforces in a rollout
    weights = state_distribution(mdp, policy, gamma)[:, None] * policy  # (S, A) ρ^π(s)·π(a|s)
    weights[mdp.terminal] = 0.0
    weights /= weights.sum()
    q = advantages(mdp, policy, gamma) + policy_evaluation(mdp, policy, gamma)[:, None]  # Q(s, a)
    return policy, v_hat, weights, q - v_hat[:, None]  # (S, A) the target: Q(s, a) − V̂(s)


def _average(weights, mean, var, target) -> EstimatorStats:
    bias2 = float(np.sum(weights * (mean - target) ** 2))
    return EstimatorStats(float(np.sqrt(bias2)), float(np.sum(weights * var)))


def n_step_stats(mdp: TabularMDP, policy, gamma: float, v_hat, n: int) -> EstimatorStats:
    """Exact bias and variance of the n-step advantage estimate Â⁽ⁿ⁾ with critic ``v_hat``.

    The per-(s, a) mean and variance are :func:`n_step_moments`.

    With X_m(s) = Σ_{k<m} γ^k r_k + γ^m V̂(s_m) from s (X_0 = V̂), the moments follow
    M_m(s) = E_a[r + γ M_{m−1}(s')] and S_m(s) = E_a[r² + 2γ r M_{m−1}(s') + γ² S_{m−1}(s')],
    and Â⁽ⁿ⁾(s, a) = r(s, a) + γ X_{n−1}(s') − V̂(s).

    >>> from a3c_lib.gridworld import GridWorld
    >>> from a3c_lib.values import policy_evaluation, uniform_policy
    >>> mdp = GridWorld().to_mdp(); pi = uniform_policy(mdp)
    >>> v = policy_evaluation(mdp, pi, 0.9)
    >>> stats = n_step_stats(mdp, pi, 0.9, v, n=1)   # exact critic, deterministic MDP
    >>> round(stats.bias, 12), stats.variance       # one step: nothing sampled, nothing wrong
    (0.0, 0.0)
    """
    _, _, weights, target = _setup(mdp, policy, gamma, v_hat)
    return _average(weights, *n_step_moments(mdp, policy, gamma, v_hat, n), target)


def n_step_moments(mdp: TabularMDP, policy, gamma: float, v_hat,
                   n: int) -> tuple[np.ndarray, np.ndarray]:
    """E[Â⁽ⁿ⁾ | s, a] and Var(Â⁽ⁿ⁾ | s, a), each of shape (S, A) (see :func:`n_step_stats`).

    >>> from a3c_lib.mdp import TabularMDP
    >>> chain = TabularMDP([[1], [2], [2]], [[0.0], [1.0], [0.0]], terminal=[False, False, True])
    >>> n_step_moments(chain, [[1.0], [1.0], [1.0]], 0.5, np.zeros(3), n=2)[0][0]   # 0 + ½·1
    array([0.5])
    """
    policy, v_hat, _, _ = _setup(mdp, policy, gamma, v_hat)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    r, nxt = mdp.reward, mdp.next_state  # (S, A), (S, A)
    m, s2 = v_hat.copy(), v_hat**2  # (S,) M_0, S_0
    for _ in range(n - 1):
        m, s2 = (np.sum(policy * (r + gamma * m[nxt]), axis=1),
                 np.sum(policy * (r**2 + 2 * gamma * r * m[nxt] + gamma**2 * s2[nxt]), axis=1))
    mean = r + gamma * m[nxt] - v_hat[:, None]  # (S, A) E[Â⁽ⁿ⁾ | s, a]
    var = gamma**2 * np.maximum(s2[nxt] - m[nxt] ** 2, 0.0)  # (S, A) rounding can dip below 0
    return mean, var


def gae_stats(mdp: TabularMDP, policy, gamma: float, v_hat, lam: float) -> EstimatorStats:
    """Exact bias and variance of the GAE(λ) estimate Â^λ with critic ``v_hat``.

    With Y(s) = Σ_k (γλ)^k δ_k from s, the moments solve linear systems:
    M = (I − γλ P_π)⁻¹ E_a[δ] and S = (I − (γλ)² P_π)⁻¹ E_a[δ² + 2γλ δ M(s')], and
    Â^λ(s, a) = δ(s, a) + γλ Y(s').  λ = 0 is the one-step n = 1, λ = 1 the Monte Carlo n = ∞.

    >>> from a3c_lib.gridworld import GridWorld
    >>> from a3c_lib.values import uniform_policy
    >>> mdp = GridWorld().to_mdp(); pi = uniform_policy(mdp)
    >>> v_hat = np.zeros(mdp.n_states)               # no critic at all
    >>> gae_stats(mdp, pi, 0.9, v_hat, 0.0) == n_step_stats(mdp, pi, 0.9, v_hat, 1)
    True
    """
    _, _, weights, target = _setup(mdp, policy, gamma, v_hat)
    return _average(weights, *gae_moments(mdp, policy, gamma, v_hat, lam), target)


def gae_moments(mdp: TabularMDP, policy, gamma: float, v_hat,
                lam: float) -> tuple[np.ndarray, np.ndarray]:
    """E[Â^λ | s, a] and Var(Â^λ | s, a), each of shape (S, A) (see :func:`gae_stats`).

    >>> from a3c_lib.mdp import TabularMDP
    >>> chain = TabularMDP([[1], [2], [2]], [[0.0], [1.0], [0.0]], terminal=[False, False, True])
    >>> gae_moments(chain, [[1.0], [1.0], [1.0]], 0.5, np.zeros(3), lam=1.0)[0][0]   # 0 + ½·1
    array([0.5])
    """
    policy, v_hat, _, _ = _setup(mdp, policy, gamma, v_hat)
    if isinstance(lam, bool) or not isinstance(lam, int | float | np.number) \
            or not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be a number in [0, 1], got {lam!r}")
    r, nxt = mdp.reward, mdp.next_state  # (S, A)
    delta = r + gamma * v_hat[nxt] - v_hat[:, None]  # (S, A) δ(s, a)
    p_pi, eye, c = transition_matrix(mdp, policy), np.eye(mdp.n_states), gamma * lam  # (S, S)
    m = np.linalg.solve(eye - c * p_pi, np.sum(policy * delta, axis=1))  # (S,) E[Y(s)]
    s2 = np.linalg.solve(eye - c**2 * p_pi,
                         np.sum(policy * (delta**2 + 2 * c * delta * m[nxt]), axis=1))  # E[Y²]
    mean = delta + c * m[nxt]  # (S, A) E[Â^λ | s, a]
    var = c**2 * np.maximum(s2[nxt] - m[nxt] ** 2, 0.0)  # (S, A)
    return mean, var


def noisy_critic(v: np.ndarray, error: float, seed: int = 0) -> np.ndarray:
    """V + error·ε with ε ~ N(0, 1) per state (fixed by ``seed``): a critic that is off by ~error.

    >>> noisy_critic(np.zeros(3), error=0.0)
    array([0., 0., 0.])
    """
    if not np.isfinite(error) or error < 0:
        raise ValueError(f"error must be a finite number >= 0, got {error!r}")
    v = np.asarray(v, dtype=np.float64)
    return v + error * np.random.default_rng(seed).standard_normal(v.shape)  # (S,)
