"""The actor-critic network in numpy: one flat parameter vector theta, forward pass and backprop.

Why numpy and not Keras inside the workers? Speed and processes. One eager Keras call costs ~1 ms
(~0.2 ms as a ``tf.function``), while a numpy forward pass of a 64-64 MLP costs a few µs — about
as much as a CartPole step. And TensorFlow does not survive ``fork``. So the worker processes act
AND compute gradients here, with hand-written backprop. ``networks.py`` (Keras) and ``losses.py``
(``tf.GradientTape``) are the readable reference and the export format; ``tests/`` prove that both
give the same numbers.

Architecture (shared tanh trunk, two heads)::

    h_0 = obs                                 # (B, obs_dim)
    h_i = tanh(h_{i-1} W_i + b_i)              # (B, hidden[i])
    logits = h_L W_pi + b_pi                   # (B, A)    π(·|s) = softmax(logits)
    v      = h_L W_v  + b_v                    # (B,)      V(s)

theta is laid out as ``W0, b0, W1, b1, …, W_pi, b_pi, W_v, b_v`` (see :meth:`MLPSpec.shapes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True)
class MLPSpec:
    """Sizes of the actor-critic MLP.

    Attributes:
        obs_dim: length of an observation vector, >= 1.
        n_actions: number of discrete actions A, >= 1.
        hidden: widths of the tanh trunk layers, each >= 1 (``()`` = linear heads on obs).

    >>> spec = MLPSpec(obs_dim=4, n_actions=2, hidden=(3,))
    >>> spec.n_params  # 4*3+3 + 3*2+2 + 3*1+1
    27
    """

    obs_dim: int
    n_actions: int
    hidden: tuple[int, ...] = (64, 64)

    def __post_init__(self) -> None:
        for name in ("obs_dim", "n_actions"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        try:
            hidden = tuple(self.hidden)
        except TypeError:
            raise ValueError(
                f"hidden must be a tuple of integers >= 1, got {self.hidden!r}"
            ) from None
        if any(isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1 for h in hidden):
            raise ValueError(f"hidden must be a tuple of integers >= 1, got {self.hidden!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))

    def shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """Ordered (name, shape) layout of theta.

        >>> MLPSpec(2, 3, hidden=(4,)).shapes()
        [('W0', (2, 4)), ('b0', (4,)), ('W_pi', (4, 3)), ('b_pi', (3,)),
         ('W_v', (4, 1)), ('b_v', (1,))]
        """
        out: list[tuple[str, tuple[int, ...]]] = []
        n_in = self.obs_dim
        for i, h in enumerate(self.hidden):
            out += [(f"W{i}", (n_in, h)), (f"b{i}", (h,))]
            n_in = h
        out += [("W_pi", (n_in, self.n_actions)), ("b_pi", (self.n_actions,))]
        out += [("W_v", (n_in, 1)), ("b_v", (1,))]
        return out

    @cached_property
    def _slices(self) -> list[tuple[str, int, int, tuple[int, ...]]]:
        """(name, start, stop, shape) of every tensor inside theta, computed once."""
        rows, start = [], 0
        for name, shape in self.shapes():
            stop = start + int(np.prod(shape))
            rows.append((name, start, stop, shape))
            start = stop
        return rows

    @cached_property
    def _last_views(self) -> list[tuple[np.ndarray | None, dict[str, np.ndarray]]]:
        """A one-slot cache [(theta, views)] used by :func:`unflatten`."""
        return [(None, {})]

    def __getstate__(self) -> dict:
        """Pickle (e.g. to a spawned worker) the sizes only, never the cached theta."""
        return {"obs_dim": self.obs_dim, "n_actions": self.n_actions, "hidden": self.hidden}

    @property
    def n_params(self) -> int:
        """P, the length of theta."""
        return self._slices[-1][2]


def _orthogonal(rng: np.random.Generator, n_in: int, n_out: int, gain: float) -> np.ndarray:
    """A (n_in, n_out) matrix with orthonormal rows or columns, times gain (Saxe et al. 2014)."""
    a = rng.standard_normal((max(n_in, n_out), min(n_in, n_out)))
    q, r = np.linalg.qr(a)  # q: (max, min) with orthonormal columns
    q *= np.sign(np.diag(r))  # makes the distribution uniform over orthogonal matrices
    return gain * (q if n_in >= n_out else q.T)  # (n_in, n_out)


def init_theta(spec: MLPSpec, rng: np.random.Generator) -> np.ndarray:
    """Initial parameters, shape (P,) float64; biases are zero.

    Choices (not in Mnih et al. 2016, which does not specify them; they follow the common
    on-policy practice, e.g. Andrychowicz et al. 2021 "What matters in on-policy RL"):

    * trunk: orthogonal with gain √2, so tanh layers neither saturate nor shrink the signal;
    * policy head: orthogonal × 0.01, so the logits start near 0 and π starts near uniform —
      every action is tried and no early accident is locked in;
    * value head: orthogonal × 1, V starts at a modest scale.

    >>> spec = MLPSpec(4, 2, hidden=(8,))
    >>> theta = init_theta(spec, np.random.default_rng(0))
    >>> theta.shape, theta.dtype
    ((67,), dtype('float64'))
    """
    theta = np.zeros(spec.n_params)  # (P,)
    params = unflatten(spec, theta)
    gains = {"W_pi": 0.01, "W_v": 1.0}
    for name, shape in spec.shapes():
        if name.startswith("W"):
            params[name][...] = _orthogonal(rng, shape[0], shape[1], gains.get(name, np.sqrt(2.0)))
    return theta


def _check_theta(spec: MLPSpec, theta: np.ndarray) -> None:
    if not isinstance(theta, np.ndarray) or theta.shape != (spec.n_params,):
        got = getattr(theta, "shape", type(theta).__name__)
        raise ValueError(f"theta must be a numpy array of shape ({spec.n_params},), got {got}")


def unflatten(spec: MLPSpec, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Named VIEWS into theta (no copies): writing into theta changes them, and vice versa.

    >>> spec = MLPSpec(1, 1, hidden=())
    >>> theta = np.arange(4.0)
    >>> p = unflatten(spec, theta); p["W_pi"]
    array([[0.]])
    >>> theta[0] = 7.0; p["W_pi"]
    array([[7.]])
    """
    # Speed: a worker calls this with the same theta thousands of times, so the views of the last
    # theta are kept (one tuple, read and replaced atomically, so threads cannot mix two thetas);
    # the cache holds theta alive, hence `is` cannot be fooled by a recycled id().
    cached_theta, views = spec._last_views[0]
    if cached_theta is not theta:
        _check_theta(spec, theta)
        views = {name: theta[a:b].reshape(shape) for name, a, b, shape in spec._slices}
        spec._last_views[0] = (theta, views)
    return dict(views)  # a fresh dict of the same views (~0.3 µs instead of ~5 µs)


def _check_obs(spec: MLPSpec, obs: np.ndarray) -> np.ndarray:
    obs = np.asarray(obs)
    if obs.ndim != 2 or obs.shape[1] != spec.obs_dim:
        raise ValueError(f"obs must have shape (B, {spec.obs_dim}), got {obs.shape}")
    return obs


def _trunk(spec: MLPSpec, p: dict[str, np.ndarray], obs: np.ndarray) -> list[np.ndarray]:
    """[h_0 = obs, h_1, …, h_L]; each h_i is (B, hidden[i-1])."""
    hs = [obs]
    for i in range(len(spec.hidden)):
        z = hs[-1] @ p[f"W{i}"]  # (B, hidden[i])
        z += p[f"b{i}"]
        hs.append(np.tanh(z, out=z))  # in place: one allocation per layer
    return hs


def forward(spec: MLPSpec, theta: np.ndarray, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """logits (B, A) and v (B,) for a batch of observations obs (B, obs_dim).

    >>> spec = MLPSpec(4, 2, hidden=(8,))
    >>> logits, v = forward(spec, init_theta(spec, np.random.default_rng(0)), np.zeros((3, 4)))
    >>> logits.shape, v.shape
    ((3, 2), (3,))
    """
    p = unflatten(spec, theta)
    h = _trunk(spec, p, _check_obs(spec, obs))[-1]  # (B, h_L)
    logits = h @ p["W_pi"] + p["b_pi"]  # (B, A)
    v = (h @ p["W_v"])[:, 0] + p["b_v"][0]  # (B,)
    return logits, v


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log π = logits − logsumexp(logits), stable for huge logits (max subtracted first).

    >>> log_softmax(np.array([[1000.0, -1000.0]]))
    array([[    0., -2000.]])
    """
    z = logits - logits.max(axis=-1, keepdims=True)  # (B, A), max entry 0
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # (B, A)


def softmax(logits: np.ndarray) -> np.ndarray:
    """π(a|s) = exp(logits_a) / Σ_b exp(logits_b), rows sum to 1.

    >>> softmax(np.array([[0.0, np.log(3.0)]]))
    array([[0.25, 0.75]])
    """
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))  # (B, A)
    return e / e.sum(axis=-1, keepdims=True)  # (B, A)


def sample_actions(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row, a_b ~ π(·|s_b), by the inverse CDF of one uniform draw per row.

    >>> sample_actions(np.array([[0.0, -1e9], [-1e9, 0.0]]), np.random.default_rng(0))
    array([0, 1])
    """
    cdf = np.cumsum(softmax(logits), axis=-1)  # (B, A), last column ≈ 1
    u = rng.random(cdf.shape[0])  # (B,)
    actions = (u[:, None] >= cdf).sum(axis=-1)  # (B,): number of cdf entries ≤ u
    return np.minimum(actions, cdf.shape[-1] - 1)  # guards against cdf[-1] = 1 − 1e-16 < u


class LossStats(NamedTuple):
    """The parts of the actor-critic loss for one batch (all batch means)."""

    total: float
    policy_loss: float
    value_loss: float
    entropy: float


def batch_size(obs) -> int:
    """The batch size B of ``obs`` (shape (B, ...)); B = 0 raises, since a loss is a MEAN over
    the batch and a mean over nothing is NaN, which would poison the shared θ.

    Every policy's ``loss_and_grad`` (numpy MLP, Gaussian, Keras) checks its batch with this.

    >>> batch_size(np.zeros((5, 4)))
    5
    >>> batch_size(np.zeros((0, 4)))
    Traceback (most recent call last):
    ...
    ValueError: obs must hold a batch of at least 1 observation, got shape (0, 4)
    """
    shape = np.shape(obs)
    if not shape or shape[0] == 0:
        raise ValueError(f"obs must hold a batch of at least 1 observation, got shape {shape}")
    return int(shape[0])


def loss_and_grad(
    spec: MLPSpec,
    theta: np.ndarray,
    obs: np.ndarray,
    actions: np.ndarray,
    returns: np.ndarray,
    entropy_coef: float,
    value_coef: float,
) -> tuple[LossStats, np.ndarray]:
    """The A3C loss of Mnih et al. 2016 and its gradient with respect to theta, shape (P,).

    With ``logits, v = forward(obs)``, log π = log_softmax(logits) and the advantage
    A_b = G_b − v_b held CONSTANT (stop-gradient: the actor must not move the critic)::

        policy_loss = −mean_b( log π(a_b|s_b) · A_b )
        value_loss  = ½ · mean_b( (G_b − v_b)² )
        entropy     = mean_b( −Σ_a π(a|s_b) log π(a|s_b) )
        total       = policy_loss + value_coef · value_loss − entropy_coef · entropy

    Departure from the paper: it SUMS over the t_max steps of a rollout; we average over the
    batch, so the learning rate does not have to change with t_max.

    >>> spec = MLPSpec(2, 2, hidden=(3,))
    >>> theta = init_theta(spec, np.random.default_rng(0))
    >>> stats, grad = loss_and_grad(spec, theta, np.ones((4, 2)), np.array([0, 1, 1, 0]),
    ...                             np.ones(4), entropy_coef=0.01, value_coef=0.5)
    >>> grad.shape, round(stats.entropy, 3)  # near-uniform π: entropy ≈ log 2
    ((21,), 0.693)
    """
    obs = _check_obs(spec, obs)
    batch = batch_size(obs)
    actions = np.asarray(actions)
    returns = np.asarray(returns, dtype=np.float64)
    if actions.shape != (batch,) or not np.issubdtype(actions.dtype, np.integer):
        raise ValueError(
            f"actions must be an integer array of shape ({batch},), got "
            f"{actions.dtype} {actions.shape}"
        )
    if (actions.min() < 0 or actions.max() >= spec.n_actions):
        raise ValueError(
            f"actions must be in [0, {spec.n_actions}), got {actions.min()}..{actions.max()}"
        )
    if returns.shape != (batch,):
        raise ValueError(f"returns must have shape ({batch},), got {returns.shape}")
    for name, c in (("entropy_coef", entropy_coef), ("value_coef", value_coef)):
        if not np.isfinite(c) or c < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {c}")

    # ---- forward, keeping the activations for backprop
    p = unflatten(spec, theta)
    hs = _trunk(spec, p, obs)  # [h_0 … h_L]
    h = hs[-1]  # (B, h_L)
    logits = h @ p["W_pi"] + p["b_pi"]  # (B, A)
    v = (h @ p["W_v"])[:, 0] + p["b_v"][0]  # (B,)
    logp = log_softmax(logits)  # (B, A)
    pi = np.exp(logp)  # (B, A)
    rows = np.arange(batch)
    advantage = returns - v  # (B,) a constant below: no gradient flows through it
    entropy_b = -(pi * logp).sum(axis=1)  # (B,) H(π(·|s_b))
    policy_loss = -np.mean(logp[rows, actions] * advantage)
    value_loss = 0.5 * np.mean(advantage**2)
    entropy = float(np.mean(entropy_b))
    total = policy_loss + value_coef * value_loss - entropy_coef * entropy

    # ---- backward: d total / d logits (B, A) and d total / d v (B,)
    # policy: −(onehot(a) − π)·A / B;  entropy: dH_b/dlogits = −π (log π + H_b), times −c_H / B
    d_logits = pi * (advantage[:, None] + entropy_coef * (logp + entropy_b[:, None]))  # (B, A)
    d_logits[rows, actions] -= advantage
    d_logits /= batch
    d_v = value_coef * (v - returns) / batch  # (B,) from ½(G − v)²

    g = {"W_pi": h.T @ d_logits, "b_pi": d_logits.sum(axis=0)}  # (h_L, A), (A,)
    g["W_v"] = h.T @ d_v[:, None]  # (h_L, 1)
    g["b_v"] = d_v.sum(keepdims=True)  # (1,)
    d_h = d_logits @ p["W_pi"].T + d_v[:, None] * p["W_v"][:, 0]  # (B, h_L): both heads meet here
    for i in reversed(range(len(spec.hidden))):
        d_z = 1.0 - hs[i + 1] ** 2  # (B, hidden[i]); tanh' = 1 − tanh²
        d_z *= d_h
        g[f"W{i}"] = hs[i].T @ d_z  # (n_in, hidden[i])
        g[f"b{i}"] = d_z.sum(axis=0)  # (hidden[i],)
        if i:
            d_h = d_z @ p[f"W{i}"].T  # (B, n_in)
    grad = np.concatenate([g[name].ravel() for name, _ in spec.shapes()])  # (P,) theta's layout
    stats = LossStats(float(total), float(policy_loss), float(value_loss), entropy)
    return stats, grad
