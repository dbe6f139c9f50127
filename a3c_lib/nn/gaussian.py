"""The Gaussian actor-critic for continuous actions, in numpy with hand-written backprop.

Mnih et al. 2016 (continuous control, supplementary): the policy is a normal distribution
N(a; μ(s), σ²(s)) with a LINEAR mean head and a SOFTPLUS variance head, and a small entropy cost.
It shares the tanh trunk with the value head, like the categorical MLP (``mlp.py``)::

    h     = trunk(obs)                          # (B, h_L) tanh layers, as in mlp.py
    mu    = h W_mu + b_mu                       # (B, D)   linear mean
    sigma = softplus(h W_sigma + b_sigma) + σ_min   # (B, D)   standard deviation > 0
    v     = h W_v + b_v                         # (B,)     V(s)

theta is laid out as ``W0, b0, …, W_mu, b_mu, W_sigma, b_sigma, W_v, b_v``.

Per action dimension d (the D dimensions are independent, so log-densities and entropies add)::

    log N(a; μ, σ²) = −(a − μ)²/(2σ²) − log σ − ½ log 2π
    ∂ log N / ∂μ    = (a − μ)/σ²
    ∂ log N / ∂σ    = (a − μ)²/σ³ − 1/σ
    H(N(μ, σ²))     = log σ + ½ log(2πe),        ∂H/∂σ = 1/σ

Departures from the paper (each also commented where it is made):

* softplus gives σ, not σ² (the common choice; either is a positive head), plus a floor
  σ_min = 0.05 of the unit box (why: at the ``SIGMA_MIN`` line);
* the policy acts in a UNIT box: ``env_action`` clips a to [−1, 1] and maps it affinely onto the
  env's [low, high], so one σ init suits Pendulum (±2) and LunarLander (±1). The log-probability
  is always that of the UNCLIPPED sample a — clipping is the environment's business.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from a3c_lib.nn import mlp
from a3c_lib.nn.mlp import LossStats

#: Floor under σ in the unit action box (not in the paper). The score (a − μ)/σ² grows as 1/σ,
#: so ONE state whose σ has shrunk to nothing makes the whole batch's gradient: with a floor of
#: 0.001 the continuous lander's σ reached the floor in some states (1/σ ≈ 1000) while its μ
#: drifted to −8.7, far outside the box; the global norm clip then scaled every other gradient
#: (the critic's included) down to noise, and runs that reached +150 fell back to −140. With
#: 0.05 (1/σ ≤ 20) every seed we ran solved, Pendulum's and the lander's (README, "Beyond
#: CartPole"). A noise of 5 % of the half-range still lets both hold their targets.
SIGMA_MIN = 0.05
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z), stable for large |z|.

    >>> softplus(np.array([0.0, 1000.0])).round(4).tolist()
    [0.6931, 1000.0]
    """
    return np.logaddexp(0.0, z)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """softplus'(z) = 1 / (1 + e^−z)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for any z


@dataclass(frozen=True)
class GaussianSpec:
    """Sizes of the Gaussian actor-critic (``D`` = action_dim).

    Attributes:
        obs_dim: length of an observation vector, >= 1.
        action_dim: D, length of an action vector, >= 1.
        hidden: widths of the tanh trunk layers, each >= 1.
        sigma_init: σ of the initial policy in the unit action box, > 0.

    >>> GaussianSpec(obs_dim=3, action_dim=1, hidden=(4,)).n_params  # 3*4+4 + 2*(4+1) + 4+1
    31
    """

    obs_dim: int
    action_dim: int
    hidden: tuple[int, ...] = (64, 64)
    sigma_init: float = 0.5

    def __post_init__(self) -> None:
        mlp.MLPSpec(self.obs_dim, self.action_dim, self.hidden)  # same checks (ValueError)
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if not (isinstance(self.sigma_init, int | float) and self.sigma_init > SIGMA_MIN
                and math.isfinite(self.sigma_init)):
            raise ValueError(f"sigma_init must be a finite number > {SIGMA_MIN}, "
                             f"got {self.sigma_init!r}")

    def shapes(self) -> list[tuple[str, tuple[int, ...]]]:
        """Ordered (name, shape) layout of theta.

        >>> [name for name, _ in GaussianSpec(2, 1, hidden=(3,)).shapes()]
        ['W0', 'b0', 'W_mu', 'b_mu', 'W_sigma', 'b_sigma', 'W_v', 'b_v']
        """
        out, n_in = [], self.obs_dim
        for i, h in enumerate(self.hidden):
            out += [(f"W{i}", (n_in, h)), (f"b{i}", (h,))]
            n_in = h
        for head, n_out in (("mu", self.action_dim), ("sigma", self.action_dim), ("v", 1)):
            out += [(f"W_{head}", (n_in, n_out)), (f"b_{head}", (n_out,))]
        return out

    @property
    def n_params(self) -> int:
        """P, the length of theta."""
        return sum(int(np.prod(shape)) for _, shape in self.shapes())


def unflatten(spec: GaussianSpec, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Named views into theta (no copies), in :meth:`GaussianSpec.shapes` order."""
    if not isinstance(theta, np.ndarray) or theta.shape != (spec.n_params,):
        got = getattr(theta, "shape", type(theta).__name__)
        raise ValueError(f"theta must be a numpy array of shape ({spec.n_params},), got {got}")
    views, start = {}, 0
    for name, shape in spec.shapes():
        stop = start + int(np.prod(shape))
        views[name] = theta[start:stop].reshape(shape)
        start = stop
    return views


def init_theta(spec: GaussianSpec, rng: np.random.Generator) -> np.ndarray:
    """Initial theta (P,): trunk orthogonal √2, mean and σ heads × 0.01, σ starts at sigma_init.

    As in mlp.init_theta (the paper does not specify an init): μ starts near 0 and σ near
    ``sigma_init`` in every state, so early actions explore the whole box evenly.

    >>> spec = GaussianSpec(3, 1, hidden=(4,))
    >>> mu, sigma, v = forward(spec, init_theta(spec, np.random.default_rng(0)), np.zeros((1, 3)))
    >>> round(float(sigma[0, 0]), 6)
    0.5
    """
    theta = np.zeros(spec.n_params)  # (P,)
    p = unflatten(spec, theta)
    gains = {"W_mu": 0.01, "W_sigma": 0.01, "W_v": 1.0}
    for name, shape in spec.shapes():
        if name.startswith("W"):
            p[name][...] = mlp._orthogonal(rng, *shape, gains.get(name, np.sqrt(2.0)))
    s = spec.sigma_init - SIGMA_MIN
    p["b_sigma"][...] = s + np.log(-np.expm1(-s))  # softplus⁻¹(s) = log(e^s − 1), stably
    return theta


def _heads(spec: GaussianSpec, p: dict, obs: np.ndarray):
    """Trunk activations [h_0 … h_L], μ (B, D), σ's pre-activation z (B, D), v (B,)."""
    obs = np.asarray(obs, dtype=np.float64)
    if obs.ndim != 2 or obs.shape[1] != spec.obs_dim:
        raise ValueError(f"obs must have shape (B, {spec.obs_dim}), got {obs.shape}")
    hs = mlp._trunk(spec, p, obs)
    h = hs[-1]  # (B, h_L)
    mu = h @ p["W_mu"] + p["b_mu"]  # (B, D)
    z = h @ p["W_sigma"] + p["b_sigma"]  # (B, D)
    v = (h @ p["W_v"])[:, 0] + p["b_v"][0]  # (B,)
    return hs, mu, z, v


def forward(spec: GaussianSpec, theta: np.ndarray, obs: np.ndarray):
    """μ (B, D), σ (B, D) and v (B,) for observations obs (B, obs_dim)."""
    _, mu, z, v = _heads(spec, unflatten(spec, theta), obs)
    return mu, softplus(z) + SIGMA_MIN, v


def log_density(a: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """log N(a; μ, σ²) summed over the D independent dimensions: (B, D) arrays -> (B,).

    >>> float(log_density(np.zeros((1, 1)), np.zeros((1, 1)), np.ones((1, 1)))[0])  # −½ log 2π
    -0.9189385332046727
    """
    return np.sum(-0.5 * ((a - mu) / sigma) ** 2 - np.log(sigma) - HALF_LOG_2PI, axis=-1)


def entropy(sigma: np.ndarray) -> np.ndarray:
    """H(N(μ, σ²)) = Σ_d log σ_d + ½ log(2πe): (B, D) -> (B,).

    >>> round(float(entropy(np.ones((1, 1)))[0]), 4)  # ½ log(2πe)
    1.4189
    """
    return np.sum(np.log(sigma) + HALF_LOG_2PI + 0.5, axis=-1)


def loss_and_grad(spec: GaussianSpec, theta: np.ndarray, obs: np.ndarray, actions: np.ndarray,
                  returns: np.ndarray, entropy_coef: float,
                  value_coef: float) -> tuple[LossStats, np.ndarray]:
    """The A3C loss (as in mlp.loss_and_grad, batch means) and its gradient (P,).

    ``actions`` (B, D) are the UNCLIPPED samples; A = G − v is held constant::

        total = −mean(log N(a; μ, σ²)·A) + value_coef·½mean((G − v)²) − entropy_coef·mean(H)

    >>> spec = GaussianSpec(2, 1, hidden=(3,))
    >>> stats, grad = loss_and_grad(spec, init_theta(spec, np.random.default_rng(0)),
    ...     np.zeros((4, 2)), np.zeros((4, 1)), np.ones(4), entropy_coef=0.01, value_coef=0.5)
    >>> grad.shape, round(stats.entropy, 4)  # σ = 0.5: log 0.5 + ½ log(2πe)
    ((21,), 0.7258)
    """
    batch = mlp.batch_size(obs)  # B = 0 is refused (a mean over nothing is NaN)
    p = unflatten(spec, theta)
    hs, mu, z, v = _heads(spec, p, obs)
    actions = np.asarray(actions, dtype=np.float64)
    returns = np.asarray(returns, dtype=np.float64)
    if actions.shape != (batch, spec.action_dim):
        raise ValueError(f"actions must have shape ({batch}, {spec.action_dim}), "
                         f"got {actions.shape}")
    if returns.shape != (batch,):
        raise ValueError(f"returns must have shape ({batch},), got {returns.shape}")
    sigma = softplus(z) + SIGMA_MIN  # (B, D)
    advantage = returns - v  # (B,) constant: no gradient flows through it into the actor
    logp = log_density(actions, mu, sigma)  # (B,)
    entropy_b = entropy(sigma)  # (B,)
    policy_loss = -np.mean(logp * advantage)
    value_loss = 0.5 * np.mean(advantage**2)
    total = policy_loss + value_coef * value_loss - entropy_coef * np.mean(entropy_b)

    # ---- backward. u = (a − μ)/σ; ∂logN/∂μ = u/σ, ∂logN/∂σ = (u² − 1)/σ, ∂H/∂σ = 1/σ
    u = (actions - mu) / sigma  # (B, D)
    adv = advantage[:, None]  # (B, 1)
    d_mu = -adv * u / sigma / batch  # (B, D)
    d_sigma = (-adv * (u**2 - 1.0) - entropy_coef) / sigma / batch  # (B, D)
    d_z = d_sigma * sigmoid(z)  # (B, D) softplus' = sigmoid
    d_v = value_coef * (v - returns) / batch  # (B,)
    h = hs[-1]
    g = {"W_mu": h.T @ d_mu, "b_mu": d_mu.sum(axis=0), "W_sigma": h.T @ d_z,
         "b_sigma": d_z.sum(axis=0), "W_v": h.T @ d_v[:, None], "b_v": d_v.sum(keepdims=True)}
    d_h = d_mu @ p["W_mu"].T + d_z @ p["W_sigma"].T + d_v[:, None] * p["W_v"][:, 0]  # (B, h_L)
    for i in reversed(range(len(spec.hidden))):
        d_pre = (1.0 - hs[i + 1] ** 2) * d_h  # (B, hidden[i]); tanh' = 1 − tanh²
        g[f"W{i}"] = hs[i].T @ d_pre
        g[f"b{i}"] = d_pre.sum(axis=0)
        if i:
            d_h = d_pre @ p[f"W{i}"].T  # (B, hidden[i-1])
    grad = np.concatenate([g[name].ravel() for name, _ in spec.shapes()])  # (P,)
    stats = LossStats(float(total), float(policy_loss), float(value_loss),
                      float(np.mean(entropy_b)))
    return stats, grad


class GaussianPolicy:
    """The policy interface over :mod:`gaussian` for a Box action space with bounds [low, high].

    >>> pol = GaussianPolicy(GaussianSpec(3, 1, hidden=(8,)), low=[-2.0], high=[2.0])
    >>> rng = np.random.default_rng(0)
    >>> theta = pol.init_params(rng)
    >>> actions, values = pol.act(theta, np.zeros((5, 3)), rng)
    >>> actions.shape, values.shape
    ((5, 1), (5,))
    >>> pol.env_action(np.array([3.0])), pol.env_action(np.array([-0.25]))  # clip, then scale
    (array([2.]), array([-0.5]))
    """

    dtype = np.dtype(np.float64)
    action_dtype = np.dtype(np.float64)

    def __init__(self, spec: GaussianSpec, low, high) -> None:
        self.spec = spec
        self.low = np.asarray(low, dtype=np.float64).reshape(spec.action_dim)  # (D,)
        self.high = np.asarray(high, dtype=np.float64).reshape(spec.action_dim)  # (D,)
        if not (np.all(np.isfinite(self.low)) and np.all(np.isfinite(self.high))
                and np.all(self.low < self.high)):
            raise ValueError(f"the action bounds must be finite with low < high, got "
                             f"low={self.low}, high={self.high}")
        self.action_shape = (spec.action_dim,)
        self.n_params = spec.n_params

    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        return init_theta(self.spec, rng)

    def act(self, theta: np.ndarray, obs: np.ndarray, rng: np.random.Generator):
        """a = μ + σ·ε with ε ~ N(0, I): actions (B, D) UNCLIPPED, and v (B,)."""
        mu, sigma, v = forward(self.spec, theta, obs)
        return mu + sigma * rng.standard_normal(mu.shape), v

    def value(self, theta: np.ndarray, obs: np.ndarray) -> np.ndarray:
        return forward(self.spec, theta, obs)[2]

    def mode(self, theta: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """The greedy action μ(s) (B, D): the density's peak (for evaluation, not training)."""
        return forward(self.spec, theta, obs)[0]

    def env_action(self, action: np.ndarray) -> np.ndarray:
        """What the env receives: clip(a, −1, 1) mapped affinely onto [low, high] (D,)."""
        unit = np.clip(action, -1.0, 1.0)
        return self.low + (unit + 1.0) * (0.5 * (self.high - self.low))

    def loss_and_grad(self, theta, obs, actions, returns, entropy_coef, value_coef):
        return loss_and_grad(self.spec, theta, obs, actions, returns, entropy_coef, value_coef)


def gaussian_mlp(config, observation_space, action_space) -> GaussianPolicy:
    """Factory of :class:`GaussianPolicy` (the Policy registry's "gaussian"; "auto" for Box).

    ``config.hidden`` sizes the trunk; ``config.sigma_init`` (if the config has it) the initial σ.

    >>> import gymnasium as gym
    >>> from types import SimpleNamespace
    >>> pol = gaussian_mlp(SimpleNamespace(hidden=(8,)), gym.spaces.Box(-1, 1, (3,)),
    ...                    gym.spaces.Box(-2, 2, (1,)))
    >>> pol.n_params, pol.action_shape  # 3*8+8 + 2*(8*1+1) + 8+1
    (59, (1,))
    """
    kind = type(action_space).__name__
    shape = getattr(action_space, "shape", None)
    if kind != "Box" or shape is None or len(shape) != 1:
        raise ValueError(f"policy 'gaussian' needs a 1-D Box action space, got {action_space}")
    obs_shape = getattr(observation_space, "shape", None)
    if type(observation_space).__name__ != "Box" or obs_shape is None or len(obs_shape) != 1:
        raise ValueError(f"policy 'gaussian' (an MLP) needs 1-D Box observations, got "
                         f"{observation_space}")
    spec = GaussianSpec(int(obs_shape[0]), int(shape[0]), tuple(config.hidden),
                        float(getattr(config, "sigma_init", 0.5)))
    return GaussianPolicy(spec, action_space.low, action_space.high)
