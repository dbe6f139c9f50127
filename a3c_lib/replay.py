"""Can A3C learn from a replay memory? Policy gradients from samples of OLDER policies (nb 07).

The policy gradient theorem needs states, actions and returns of the CURRENT policy π_θ:
∇J = Σ_s d^π(s) Σ_a π(a|s) A^π(s, a) ∇log π(a|s). A replay memory holds episodes of an old
policy μ = π_old. A learner that ignores their age ("naive replay") still computes the REINFORCE
sum Σ_t γ^t (G_t − b(s_t)) ∇log π_θ(a_t|s_t), whose expectation on the tabular MDP is EXACTLY

    ĝ_naive = Σ_s d^μ(s) Σ_a μ(a|s) (Q^μ(s, a) − b(s)) ∇log π_θ(a|s)

— old state weights d^μ, old action frequencies μ and old returns Q^μ. Weighting each step by
ρ_t = π_θ(a_t|s_t)/μ(a_t|s_t) (``importance="action"``, the one-step ratio of off-policy
actor-critic, Degris et al. 2012; ACER truncates it, Wang et al. 2017) fixes only μ → π_θ.
Products of ratios over the past and future steps (``"full"``, per-decision importance sampling,
Precup et al. 2000) fix d^μ and Q^μ too: unbiased, but their variance grows with age and horizon.
A3C (Mnih et al. 2016) avoids the question by using fresh samples from parallel actors.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from a3c_lib.mdp import TabularMDP
from a3c_lib.policy_gradient import (
    Episodes,
    baseline_values,
    check_theta,
    exact_policy_gradient,
    sample_episodes,
    softmax_policy,
)
from a3c_lib.values import (
    action_values,
    check_gamma,
    objective,
    policy_evaluation,
    state_distribution,
)

IMPORTANCE = ("none", "action", "full")  # "full" only for sampled estimates (its mean is ∇J)


def _check_importance(importance: str, allowed: tuple[str, ...]) -> None:
    if importance not in allowed:
        raise ValueError(f"importance must be one of {allowed}, got {importance!r}")


def expected_replay_gradient(mdp: TabularMDP, theta: np.ndarray, theta_old: np.ndarray,
                             gamma: float, baseline="value", importance: str = "none"):
    """The exact mean of the replayed REINFORCE estimate for π_θ from episodes of π_θold, (S, A).

    With ``theta_old = theta`` it is the exact ∇J (the policy gradient theorem):

    >>> from a3c_lib.gridworld import GridWorld
    >>> mdp, theta = GridWorld().to_mdp(), np.zeros((17, 4))
    >>> bool(np.allclose(expected_replay_gradient(mdp, theta, theta, 0.9),
    ...                  exact_policy_gradient(mdp, theta, 0.9), atol=1e-12))
    True
    """
    theta, theta_old = check_theta(theta, mdp), check_theta(theta_old, mdp)
    gamma = check_gamma(gamma)
    _check_importance(importance, IMPORTANCE[:2])
    pi, mu = softmax_policy(theta), softmax_policy(theta_old)  # (S, A) each
    d_mu = state_distribution(mdp, mu, gamma) / (1.0 - gamma)  # unnormalised d^μ(s)  (S,)
    q_mu = action_values(mdp, policy_evaluation(mdp, mu, gamma), gamma)  # E[G_t|s,a] = Q^μ (S, A)
    b = baseline_values(mdp, pi, gamma, baseline)  # (S,)
    freq = mu if importance == "none" else pi  # ρ_t turns μ(a|s) into π_θ(a|s)  (S, A)
    w = d_mu[:, None] * freq * (q_mu - b[:, None])  # weight of each ∇log π(a|s)  (S, A)
    # Σ_a w[s, a] (e_a − π(·|s)) in row s: ∇log π of a tabular softmax (notebook 04)
    return w - w.sum(axis=1, keepdims=True) * pi  # (S, A)


def replay_gradient_samples(mdp: TabularMDP, theta: np.ndarray, episodes: Episodes,
                            theta_old: np.ndarray, gamma: float, baseline="value",
                            importance: str = "none") -> np.ndarray:
    """One replayed estimate of ∇J(θ) per stored episode of π_θold, shape (n, S, A).

    ``"none"``: Σ_t γ^t (G_t − b) ∇log π_θ(a_t|s_t); ``"action"``: each term times ρ_t;
    ``"full"``: Σ_t γ^t ∇log π_θ(a_t|s_t) (Σ_{j>=t} γ^{j−t} r_j W_j − b W_t), W_t = Π_{k<=t} ρ_k.

    >>> from a3c_lib.policy_gradient import sample_episodes
    >>> mdp = TabularMDP([[0, 0]], [[1.0, 0.0]])   # one state; action 0 pays 1
    >>> ep = sample_episodes(mdp, softmax_policy(np.zeros((1, 2))), 5, rng=0, max_steps=3)
    >>> replay_gradient_samples(mdp, np.zeros((1, 2)), ep, np.zeros((1, 2)), 0.5).shape
    (5, 1, 2)
    """
    theta, theta_old = check_theta(theta, mdp), check_theta(theta_old, mdp)
    gamma = check_gamma(gamma)
    _check_importance(importance, IMPORTANCE)
    pi, mu = softmax_policy(theta), softmax_policy(theta_old)  # (S, A) each
    b = baseline_values(mdp, pi, gamma, baseline)  # (S,)
    s, a, r, alive = episodes  # (T, n) each
    ratio = np.where(alive, pi[s, a] / mu[s, a], 1.0)  # ρ_t  (T, n)
    w_cum = np.cumprod(ratio, axis=0) if importance == "full" else np.ones_like(ratio)  # W_t
    returns, g = np.zeros_like(r), np.zeros(r.shape[1])  # (T, n), (n,)
    for t in reversed(range(r.shape[0])):
        g = r[t] * w_cum[t] + gamma * g  # G_t, or Σ_{j>=t} γ^{j−t} r_j W_j for "full"
        returns[t] = g
    weight = returns - b[s] * w_cum  # (T, n)
    if importance == "action":
        weight = weight * ratio
    weight = alive * gamma ** np.arange(r.shape[0])[:, None] * weight  # times γ^t  (T, n)
    episode = np.broadcast_to(np.arange(r.shape[1]), s.shape)  # (T, n)
    samples = np.zeros((r.shape[1], mdp.n_states, mdp.n_actions))  # (n, S, A)
    np.add.at(samples, (episode, s, a), weight)  # + weight · e_a
    np.add.at(samples, (episode, s), -weight[..., None] * pi[s])  # − weight · π(·|s)
    return samples


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    """cos∠(u, v) = u·v / (|u| |v|) of two gradients (any equal shapes).

    >>> cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0]))   # 45°
    0.7071067811865475
    """
    u, v = np.ravel(u), np.ravel(v)  # (S*A,) each
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


class Drift(NamedTuple):
    """How far the replayed gradient is from ∇J(θ_k), one entry per age."""

    ages: np.ndarray  #: k − (index of the policy that made the samples), shape (n_ages,)
    cosine: np.ndarray  #: cos∠(E[ĝ], ∇J), shape (n_ages,)
    bias: np.ndarray  #: relative bias |E[ĝ] − ∇J| / |∇J| (Frobenius norms), shape (n_ages,)
    weight_variance: np.ndarray  #: Var_μ[ρ] = Σ_s ρ^μ(s) (Σ_a π²/μ − 1), shape (n_ages,)


def gradient_drift(mdp: TabularMDP, thetas: np.ndarray, k: int, ages, gamma: float,
                   baseline="value", importance: str = "none") -> Drift:
    """Exact cosine and bias of replaying samples of θ_{k−age} to update θ_k (``thetas[k]``).

    >>> from a3c_lib.gridworld import GridWorld
    >>> mdp = GridWorld().to_mdp()
    >>> thetas = 0.1 * np.arange(3)[:, None, None] * np.ones((3, 17, 4))   # all uniform π
    >>> gradient_drift(mdp, thetas, k=2, ages=[0, 2], gamma=0.9).cosine
    array([1., 1.])
    """
    thetas = np.asarray(thetas, dtype=np.float64)
    if thetas.ndim != 3:
        raise ValueError(f"thetas must be a policy history of shape (K+1, S, A), "
                         f"got {thetas.shape}")
    if not (isinstance(k, (int, np.integer)) and 0 <= k < len(thetas)):
        raise ValueError(f"k must be an integer in [0, {len(thetas) - 1}], got {k!r}")
    ages = np.asarray(ages)
    if ages.ndim != 1 or not np.issubdtype(ages.dtype, np.integer) or ages.size == 0 \
            or ages.min() < 0 or ages.max() > k:
        raise ValueError(f"ages must be integers in [0, k={k}], got {ages.tolist()}")
    exact = exact_policy_gradient(mdp, thetas[k], gamma)  # (S, A)
    pi = softmax_policy(thetas[k])  # (S, A)
    rows = []
    for age in ages:
        g = expected_replay_gradient(mdp, thetas[k], thetas[k - age], gamma, baseline, importance)
        mu = softmax_policy(thetas[k - age])  # (S, A)
        chi2 = np.sum(pi**2 / mu, axis=1) - 1.0  # Var_{a~μ}[π/μ] per state  (S,)
        rho_mu = state_distribution(mdp, mu, gamma)  # (S,)
        bias = np.linalg.norm(g - exact) / np.linalg.norm(exact)  # (S, A) -> ()
        rows.append((cosine(g, exact), bias, rho_mu @ chi2))
    return Drift(ages, *map(np.array, zip(*rows, strict=True)))


def replay_ascent(mdp: TabularMDP, theta0: np.ndarray, gamma: float, lr: float, updates: int,
                  memory_size: int, n_episodes: int | None = None, importance: str = "none",
                  rng: np.random.Generator | int | None = None, max_steps: int = 100,
                  baseline="value", behaviour: np.ndarray | None = None) -> np.ndarray:
    """Gradient ascent on θ from a memory of the last ``memory_size`` policies' data; J per update.

    Update k averages the replayed gradient over the memory's batches, of ages 0 … M−1 (fewer at
    the start). ``n_episodes=None``: exact expectations (bias only, no noise; not "full");
    otherwise each update plays ``n_episodes`` new episodes, stores them and forgets the oldest.
    ``memory_size=1`` is plain on-policy learning. ``behaviour`` (logits θ_μ, shape (S, A)):
    instead, one fixed memory made by μ and never refreshed — pre-training on an old run's data.
    Returns J(π_θk) for k = 0 … updates.

    >>> from a3c_lib.gridworld import GridWorld
    >>> j = replay_ascent(GridWorld().to_mdp(), np.zeros((17, 4)), 0.9, lr=10.0, updates=3,
    ...                   memory_size=1)
    >>> bool(np.all(np.diff(j) > 0))
    True
    """
    theta = check_theta(theta0, mdp)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    for name, value in (("updates", updates), ("memory_size", memory_size)):
        if not (isinstance(value, (int, np.integer)) and value >= (name == "memory_size")):
            raise ValueError(f"{name} must be an integer >= {int(name == 'memory_size')}, "
                             f"got {value!r}")
    if n_episodes is not None and not (isinstance(n_episodes, (int, np.integer))
                                       and n_episodes >= 1):
        raise ValueError(f"n_episodes must be None (exact) or an integer >= 1, got {n_episodes!r}")
    _check_importance(importance, IMPORTANCE if n_episodes else IMPORTANCE[:2])
    rng = np.random.default_rng(rng)
    memory: list[tuple[np.ndarray, Episodes | None]] = []  # (θ that acted, its episodes)
    if behaviour is not None:
        if np.shape(behaviour) != theta.shape or not np.all(np.isfinite(behaviour)):
            raise ValueError(f"behaviour must be finite logits of shape {theta.shape}, got "
                             f"shape {np.shape(behaviour)}")
        memory = [(behaviour, None if n_episodes is None else sample_episodes(
            mdp, softmax_policy(behaviour), n_episodes * memory_size, rng, max_steps))]
    j = [objective(mdp, softmax_policy(theta), gamma)]
    for _ in range(updates):
        if behaviour is None:
            new = None if n_episodes is None else sample_episodes(
                mdp, softmax_policy(theta), n_episodes, rng, max_steps)  # arrays (T, n)
            memory = (memory + [(theta, new)])[-memory_size:]  # FIFO: forget the oldest batch
        if n_episodes is None:
            grads = [expected_replay_gradient(mdp, theta, old, gamma, baseline, importance)
                     for old, _ in memory]
        else:
            grads = [replay_gradient_samples(mdp, theta, ep, old, gamma, baseline,
                                             importance).mean(axis=0) for old, ep in memory]
        theta = theta + lr * np.mean(grads, axis=0)  # (S, A)
        j.append(objective(mdp, softmax_policy(theta), gamma))
    return np.array(j)  # (updates + 1,)
