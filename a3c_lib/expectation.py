"""Expectations and their Monte Carlo estimates (notebook 01).

The expectation of X under a distribution P is the P-weighted average of its values:

    E_P[X] = Σ_i P_i X_i

Every quantity of the course is one: V(s) is an expectation over actions and futures, J(π) over
start states, and the policy gradient over states and actions. We can rarely sum over all cases,
but the mean of n independent samples of X is an unbiased estimate of E_P[X] whose typical error
shrinks like σ/√n — the fact that lets an agent learn from the episodes it plays.
"""

from __future__ import annotations

import numpy as np


def check_distribution(p: np.ndarray, name: str = "p", atol: float = 1e-8) -> np.ndarray:
    """Return ``p`` as a float array after checking it is a probability vector.

    Raises:
        ValueError: naming ``name`` if ``p`` is not 1-D, has negative or non-finite entries, or
            does not sum to 1.

    >>> check_distribution([0.25, 0.75])
    array([0.25, 0.75])
    """
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of probabilities, "
                         f"got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must have finite, non-negative entries, got {p}")
    if abs(p.sum() - 1.0) > atol:
        raise ValueError(f"{name} must sum to 1 (a probability distribution), "
                         f"got sum {p.sum():.6g}")
    return p


def _check_pair(p: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = check_distribution(p, "p")
    x = np.asarray(x, dtype=np.float64)
    if x.shape != p.shape:
        raise ValueError(f"x must have the shape of p {p.shape} (one value per outcome), "
                         f"got {x.shape}")
    return p, x


def expectation(p: np.ndarray, x: np.ndarray) -> float:
    """E_P[X] = Σ_i P_i X_i, the P-weighted average of the values X_i.

    Args:
        p: probabilities P_i of the outcomes, shape (K,), non-negative, summing to 1.
        x: value X_i of each outcome, shape (K,).

    >>> expectation([0.5, 0.25, 0.25], [1.0, 2.0, 4.0])   # 0.5 + 0.5 + 1
    2.0
    """
    p, x = _check_pair(p, x)
    return float(np.dot(p, x))  # Σ_i P_i X_i  (K,)·(K,) -> ()


def variance(p: np.ndarray, x: np.ndarray) -> float:
    """Var_P[X] = E_P[(X − E_P[X])²]; the standard error of an n-sample mean is √(Var/n).

    >>> variance([0.5, 0.5], [0.0, 2.0])
    1.0
    """
    p, x = _check_pair(p, x)
    mean = np.dot(p, x)
    return float(np.dot(p, (x - mean) ** 2))


def sample(p: np.ndarray, x: np.ndarray, n: int, rng: np.random.Generator | int | None = None
           ) -> np.ndarray:
    """Draw n independent samples of X, outcome i with probability P_i.

    Args:
        p: probabilities, shape (K,).
        x: values, shape (K,).
        n: number of samples, n >= 1.
        rng: a numpy Generator or a seed.

    Returns:
        The samples, shape (n,).

    >>> sample([0.0, 1.0], [3.0, 7.0], n=3, rng=0)   # outcome 1 is certain
    array([7., 7., 7.])
    """
    p, x = _check_pair(p, x)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    rng = np.random.default_rng(rng)
    return x[rng.choice(len(p), size=int(n), p=p)]  # (n,)


def running_mean(samples: np.ndarray) -> np.ndarray:
    """Mean of the first k samples, for every k = 1 … n.

    >>> running_mean(np.array([2.0, 4.0, 0.0, 6.0]))
    array([2., 3., 2., 3.])
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 1 or samples.size == 0:
        raise ValueError(f"samples must be a non-empty 1-D array, got shape {samples.shape}")
    return np.cumsum(samples) / np.arange(1, samples.size + 1)  # (n,)


def sample_mean_errors(p: np.ndarray, x: np.ndarray, ns: np.ndarray, rng: np.random.Generator | int
                       | None = None, repeats: int = 200) -> np.ndarray:
    """Root-mean-square error of the n-sample mean, for every n in ``ns``.

    The mean of n samples is unbiased, and its RMS error is σ/√n (σ² = ``variance(p, x)``): plotted
    on log–log axes against n it is a line of slope −1/2 (notebook 01).

    Args:
        p: probabilities, shape (K,).
        x: values, shape (K,).
        ns: sample sizes, shape (M,), each >= 1.
        rng: a numpy Generator or a seed.
        repeats: how many independent means of each size to average the squared error over.

    Returns:
        RMS errors √(mean over repeats of (mean_n − E_P[X])²), shape (M,).

    >>> err = sample_mean_errors([0.5, 0.5], [0.0, 2.0], ns=[1, 100], rng=0, repeats=2000)
    >>> np.round(err, 1)   # σ/√n = 1 and 0.1
    array([1. , 0.1])
    """
    p, x = _check_pair(p, x)
    ns = np.asarray(ns)
    if ns.ndim != 1 or ns.size == 0 or not np.issubdtype(ns.dtype, np.integer) or np.any(ns < 1):
        raise ValueError(f"ns must be a 1-D array of integers >= 1, got {ns!r}")
    if not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    rng = np.random.default_rng(rng)
    mean = np.dot(p, x)
    errors = np.empty(ns.size)  # (M,)
    for j, n in enumerate(ns):
        means = x[rng.choice(len(p), size=(repeats, int(n)), p=p)].mean(axis=1)  # (repeats,)
        errors[j] = np.sqrt(np.mean((means - mean) ** 2))
    return errors
