"""Shared RMSProp and gradient-norm clipping, in place on arrays that may live in shared memory.

Mnih et al. 2016 (section 4 and supplementary 7) compare optimizers and find RMSProp whose
statistics g are SHARED by all actor-learner threads the most robust::

    g ← α·g + (1 − α)·Δθ²            (element-wise)
    θ ← θ − η·Δθ / √(g + ε)

Both θ and g are the global arrays; a worker applies its Δθ to them and then copies θ back.
The code keeps the paper's letters; the notebooks write α for the learning rate (the paper's η),
κ for the decay (its α) and ν for the statistics (its g), because the course already uses η(s)
for visit counts (see notebooks/glossary.md).

>>> theta, g = np.zeros(2), np.zeros(2)
>>> rmsprop_update(theta, g, np.array([1.0, -2.0]), lr=0.1, alpha=0.75, eps=0.0)
>>> g                      # 0.25 * [1, 4]
array([0.25, 1.  ])
>>> theta                  # -0.1 * [1/0.5, -2/1]
array([-0.2,  0.2])
"""

from __future__ import annotations

import math

import numpy as np


def rmsprop_update(theta: np.ndarray, g: np.ndarray, grad: np.ndarray, lr: float,
                   alpha: float, eps: float, scratch: np.ndarray | None = None) -> None:
    """One RMSProp step, IN PLACE on ``theta`` and ``g`` (both shape (P,), may be shared memory).

    Args:
        theta: parameters θ, updated in place.
        g: running mean of squared gradients, updated in place.
        grad: gradient Δθ of the loss, shape (P,) (not modified).
        lr: learning rate η > 0.
        alpha: decay α in [0, 1).
        eps: ε > 0 under the square root (the paper used ε = 0.1 with summed losses; we average).
        scratch: optional (P,) work array, so that a worker's hot loop allocates nothing.
    """
    tmp = np.empty_like(grad) if scratch is None else scratch  # (P,)
    np.multiply(grad, grad, out=tmp)  # Δθ²
    tmp *= 1.0 - alpha
    g *= alpha
    g += tmp  # g ← α g + (1 − α) Δθ²
    np.add(g, eps, out=tmp)
    np.sqrt(tmp, out=tmp)  # √(g + ε)
    np.divide(grad, tmp, out=tmp)
    tmp *= lr
    theta -= tmp  # θ ← θ − η Δθ / √(g + ε)


def linear_decay(step: int, decay_steps: int | None) -> float:
    """The factor of the paper's annealed learning rate: α_t = α · (1 − t / T), floored at 0.

    Mnih et al. 2016 anneal the learning rate to 0 over the course of training; linearly, as the
    common implementations do, with T = ``decay_steps`` (``TrainConfig.max_steps`` with
    ``lr_schedule="linear"``) and t the global env step at the update. ``decay_steps=None``: a
    constant rate (factor 1).

    >>> linear_decay(0, 100), linear_decay(25, 100), linear_decay(150, 100)
    (1.0, 0.75, 0.0)
    >>> linear_decay(10**9, None)
    1.0
    """
    if decay_steps is None:
        return 1.0
    return max(1.0 - step / decay_steps, 0.0)


def clip_grad_norm(grad: np.ndarray, max_norm: float) -> float:
    """Scale ``grad`` in place so that ‖grad‖₂ ≤ max_norm; return the norm BEFORE clipping.

    Not in the paper's pseudo-code (Algorithm S3); a common safety net (Pascanu et al. 2013) that
    keeps one unlucky rollout from throwing the shared parameters far away.

    >>> grad = np.array([3.0, 4.0])
    >>> clip_grad_norm(grad, max_norm=1.0), grad
    (5.0, array([0.6, 0.8]))
    >>> clip_grad_norm(grad, max_norm=10.0), grad   # already small: unchanged
    (1.0, array([0.6, 0.8]))
    """
    norm = math.sqrt(float(np.dot(grad, grad)))  # ‖grad‖₂
    if norm > max_norm:
        grad *= max_norm / norm
    return norm
