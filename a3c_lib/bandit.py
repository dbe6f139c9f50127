"""The log-derivative trick on a one-state bandit with a softmax policy (notebook 04, section 1).

One state, K actions, a fixed reward r(a) per action and logits θ (K,), π_θ = softmax(θ). The
objective is J(θ) = E_{a∼π_θ}[r(a)] = Σ_a π_θ(a) r(a). Two ways to its gradient:

- differentiate the sum directly: ∂J/∂θ_b = π(b) (r(b) − J), i.e. ∇J = π ⊙ (r − J);
- the log-derivative trick ∇π = π ∇log π turns it into an expectation an agent can sample,
  ∇J = Σ_a π(a) r(a) ∇log π(a) = E_{a∼π}[r(a) ∇log π(a)], with ∇log π(a) = e_a − π.

The second needs no knowledge of r beyond the rewards of the actions actually tried, which is
why REINFORCE and A3C use it.
"""

from __future__ import annotations

import numpy as np

from a3c_lib.nn import mlp


def _check(theta, r=None) -> tuple[np.ndarray, np.ndarray | None]:
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1 or theta.size < 2 or not np.all(np.isfinite(theta)):
        raise ValueError(f"theta must be a finite 1-D array of K >= 2 logits, got {theta!r:.80}")
    if r is not None:
        r = np.asarray(r, dtype=np.float64)
        if r.shape != theta.shape or not np.all(np.isfinite(r)):
            raise ValueError(f"r must be a finite array of shape {theta.shape} (one reward per "
                             f"action), got {r!r:.80}")
    return theta, r


def bandit_policy(theta) -> np.ndarray:
    """π_θ(a) = softmax(θ)_a, shape (K,).

    >>> bandit_policy([0.0, np.log(3.0)])
    array([0.25, 0.75])
    """
    theta, _ = _check(theta)
    return np.exp(mlp.log_softmax(theta[None, :])[0])  # (K,)


def bandit_objective(theta, r) -> float:
    """J(θ) = E_{a∼π_θ}[r(a)] = Σ_a π_θ(a) r(a).

    >>> bandit_objective([0.0, 0.0], [1.0, 3.0])
    2.0
    """
    theta, r = _check(theta, r)
    return float(bandit_policy(theta) @ r)


def bandit_gradient(theta, r) -> np.ndarray:
    """The exact ∇_θ J = π ⊙ (r − J), by differentiating Σ_a π(a) r(a) directly, shape (K,).

    >>> bandit_gradient([0.0, 0.0], [1.0, 3.0])   # push the better action (index 1) up
    array([-0.5,  0.5])
    """
    theta, r = _check(theta, r)
    pi = bandit_policy(theta)  # (K,)
    return pi * (r - pi @ r)  # ∂/∂θ_b Σ_a π(a) r(a) = π(b)(r(b) − J)   (K,)


def score(theta, actions) -> np.ndarray:
    """∇_θ log π_θ(a) = e_a − π for each action in ``actions``, shape (*actions.shape, K).

    >>> score([0.0, 0.0], [0, 1])
    array([[ 0.5, -0.5],
           [-0.5,  0.5]])
    """
    theta, _ = _check(theta)
    actions = np.asarray(actions)
    if not np.issubdtype(actions.dtype, np.integer) or np.any((actions < 0)
                                                             | (actions >= theta.size)):
        raise ValueError(f"actions must be integers in [0, {theta.size}), got {actions!r:.80}")
    return np.eye(theta.size)[actions] - bandit_policy(theta)  # e_a − π   (..., K)


def sampled_bandit_gradient(theta, r, n: int, rng: np.random.Generator | int | None = None,
                            baseline: float = 0.0, return_samples: bool = False) -> np.ndarray:
    """Score-function estimate of ∇J: the mean of (r(a_i) − b) ∇log π(a_i) over a_i ∼ π.

    Args:
        n: number of sampled actions, >= 1.
        baseline: a constant b subtracted from every reward; the mean stays ∇J for any b,
            because E_{a∼π}[∇log π(a)] = 0.
        return_samples: return the n one-sample estimates, shape (n, K), not their mean.

    >>> g = sampled_bandit_gradient([0.0, 0.0], [1.0, 3.0], n=100_000, rng=0)
    >>> np.round(g, 2)   # exact: [-0.5, 0.5]
    array([-0.5,  0.5])
    """
    theta, r = _check(theta, r)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if not np.isfinite(baseline):
        raise ValueError(f"baseline must be a finite number, got {baseline!r}")
    actions = np.random.default_rng(rng).choice(theta.size, size=n, p=bandit_policy(theta))  # (n,)
    samples = (r[actions] - baseline)[:, None] * score(theta, actions)  # (n, K)
    return samples if return_samples else samples.mean(axis=0)


__all__ = ["bandit_gradient", "bandit_objective", "bandit_policy", "sampled_bandit_gradient",
           "score"]
