"""Softmax policies and the policy gradient ∇J = E[A·∇log π], exactly and from samples (nb 04).

The policy is tabular softmax: one logit θ[s, a] per state and action, π(a|s) = softmax(θ[s])_a.
For it ∇_θ log π(a|s) is zero outside row s and e_a − π(·|s) in row s.

The policy gradient theorem (Sutton et al. 1999) with the unnormalised discounted visitation
d^π(s) = Σ_t γ^t P(s_t = s) = ρ^π(s)/(1 − γ) (see :func:`a3c_lib.values.state_distribution`):

    ∇_θ J = Σ_s d^π(s) Σ_a π(a|s) A(s, a) ∇_θ log π(a|s)

REINFORCE (Williams 1992) estimates it from whole episodes without knowing the MDP:
Σ_t γ^t (G_t − b(s_t)) ∇_θ log π(a_t|s_t), whose average over episodes converges to ∇J for any
baseline b(s). A3C (Mnih et al. 2016) replaces G_t − V(s_t) by an n-step advantage estimate.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from a3c_lib.mdp import TabularMDP, as_array, check_mdp
from a3c_lib.nn import mlp
from a3c_lib.values import (
    advantages,
    check_gamma,
    objective,
    policy_evaluation,
    state_distribution,
    transition_matrix,
)


def check_theta(theta: np.ndarray, mdp: TabularMDP | None = None) -> np.ndarray:
    theta = as_array(theta, "theta", np.float64)
    if mdp is not None:
        check_mdp(mdp)
    if theta.ndim != 2 or theta.size == 0 or not np.all(np.isfinite(theta)):
        raise ValueError(f"theta must be a finite 2-D array of logits (S, A), "
                         f"got shape {theta.shape}")
    if mdp is not None and theta.shape != (mdp.n_states, mdp.n_actions):
        raise ValueError(f"theta must have shape (S, A) = {(mdp.n_states, mdp.n_actions)}, "
                         f"got {theta.shape}")
    return theta


def log_softmax(theta: np.ndarray) -> np.ndarray:
    """log π(a|s) = θ[s, a] − log Σ_b exp θ[s, b], computed without overflow, shape (S, A).

    >>> np.exp(log_softmax(np.array([[0.0, 1000.0]])))
    array([[0., 1.]])
    """
    return mlp.log_softmax(check_theta(theta))  # row-wise, max subtracted first  (S, A)


def softmax_policy(theta: np.ndarray) -> np.ndarray:
    """π(a|s) = exp θ[s, a] / Σ_b exp θ[s, b], shape (S, A); rows sum to 1.

    >>> softmax_policy(np.array([[0.0, 0.0], [0.0, np.log(3.0)]]))
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    return np.exp(log_softmax(theta))


def grad_log_pi(theta: np.ndarray, s: int, a: int) -> np.ndarray:
    """∇_θ log π(a|s): e_a − π(·|s) in row s, zero elsewhere, shape (S, A).

    >>> grad_log_pi(np.zeros((2, 2)), s=1, a=0)
    array([[ 0. ,  0. ],
           [ 0.5, -0.5]])
    """
    theta = check_theta(theta)
    if not (0 <= s < theta.shape[0] and 0 <= a < theta.shape[1]):
        raise ValueError(f"(s, a) must index theta of shape {theta.shape}, got {(s, a)}")
    grad = np.zeros_like(theta)  # (S, A)
    grad[s] = -softmax_policy(theta[s:s + 1])[0]  # −π(·|s)
    grad[s, a] += 1.0  # + e_a
    return grad


def exact_policy_gradient(mdp: TabularMDP, theta: np.ndarray, gamma: float) -> np.ndarray:
    """∇_θ J by the policy gradient theorem, with the exact d^π and A of the MDP, shape (S, A).

    >>> mdp = TabularMDP([[0, 0]], [[1.0, 0.0]])   # one state; action 0 pays 1
    >>> exact_policy_gradient(mdp, np.zeros((1, 2)), gamma=0.5)   # push π(0|s) up
    array([[ 0.5, -0.5]])
    """
    theta, gamma = check_theta(theta, mdp), check_gamma(gamma)
    pi = softmax_policy(theta)  # (S, A)
    d = state_distribution(mdp, pi, gamma) / (1.0 - gamma)  # unnormalised d^π(s)  (S,)
    advantage = advantages(mdp, pi, gamma)  # (S, A)
    return _theorem(d, pi, advantage)


def _theorem(weight: np.ndarray, pi: np.ndarray, advantage: np.ndarray) -> np.ndarray:
    """Σ_s w(s) Σ_a π(a|s) A(s,a) ∇log π(a|s), the theorem's sum for state weights w, (S, A).

    Row s of ∇log π(a|s) is e_a − π(·|s), so the inner sum is π(·|s)⊙A(s,·) − π(·|s)·E_π[A(s,·)]
    and E_π[A(s,·)] = 0 (notebook 03): the whole double sum is one elementwise product.
    """
    return weight[:, None] * pi * advantage  # (S, 1) * (S, A) * (S, A) -> (S, A)


def finite_difference_gradient(mdp: TabularMDP, theta: np.ndarray, gamma: float,
                               eps: float = 1e-5) -> np.ndarray:
    """Central differences (J(θ + ε e_i) − J(θ − ε e_i)) / 2ε for every logit, shape (S, A).

    >>> mdp = TabularMDP([[0, 0]], [[1.0, 0.0]])
    >>> np.round(finite_difference_gradient(mdp, np.zeros((1, 2)), gamma=0.5), 6)
    array([[ 0.5, -0.5]])
    """
    theta, gamma = check_theta(theta, mdp), check_gamma(gamma)
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    grad = np.zeros_like(theta)  # (S, A)
    for index in np.ndindex(theta.shape):
        step = np.zeros_like(theta)
        step[index] = eps
        j_plus = objective(mdp, softmax_policy(theta + step), gamma)
        j_minus = objective(mdp, softmax_policy(theta - step), gamma)
        grad[index] = (j_plus - j_minus) / (2 * eps)
    return grad


class Episodes(NamedTuple):
    """n episodes played side by side, padded to the longest; arrays of shape (T, n)."""

    states: np.ndarray  #: s_t, int
    actions: np.ndarray  #: a_t ~ π(·|s_t), int
    rewards: np.ndarray  #: r(s_t, a_t), 0 once the episode is over
    alive: np.ndarray  #: False once the episode has reached a terminal state, bool


def sample_episodes(mdp: TabularMDP, pi: np.ndarray, n_episodes: int,
                    rng: np.random.Generator | int | None, max_steps: int) -> Episodes:
    """Play n episodes with s0 ~ ρ^{s0}, a_t ~ π(·|s_t), for at most ``max_steps`` steps.

    >>> ep = sample_episodes(TabularMDP([[1], [1]], [[2.0], [0.0]], [False, True]),
    ...                      np.ones((2, 1)), n_episodes=3, rng=0, max_steps=5)
    >>> ep.rewards   # one step of reward 2, then the terminal state
    array([[2., 2., 2.]])
    """
    rng = np.random.default_rng(rng)
    if not (isinstance(n_episodes, (int, np.integer)) and n_episodes >= 1):
        raise ValueError(f"n_episodes must be an integer >= 1, got {n_episodes!r}")
    if not (isinstance(max_steps, (int, np.integer)) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    cum = np.cumsum(pi, axis=1)  # (S, A) inverse-CDF sampling of a ~ π(·|s)
    s = rng.choice(mdp.n_states, size=n_episodes, p=mdp.start)  # s0 ~ ρ^{s0}  (n,)
    alive = ~mdp.terminal[s]  # (n,)
    steps: list[tuple] = []
    for _ in range(max_steps):
        if not alive.any():
            break
        u = rng.random(n_episodes)[:, None]  # (n, 1)
        a = np.minimum((u > cum[s]).sum(axis=1), mdp.n_actions - 1)  # (n,)
        steps.append((s, a, mdp.reward[s, a] * alive, alive))
        s = mdp.next_state[s, a]
        alive = alive & ~mdp.terminal[s]
    return Episodes(*(np.stack(column) for column in zip(*steps, strict=True)))  # each (T, n)


def baseline_values(mdp: TabularMDP, pi: np.ndarray, gamma: float, baseline) -> np.ndarray:
    """b(s) for every state, shape (S,), from ``baseline``: None (0), "value" (exact V^π) or (S,).

    >>> from a3c_lib.mdp import TabularMDP
    >>> baseline_values(TabularMDP([[0, 0]], [[1.0, 1.0]]), np.array([[0.5, 0.5]]), 0.5, "value")
    array([2.])
    """
    if baseline is None:
        return np.zeros(mdp.n_states)
    if isinstance(baseline, str) and baseline == "value":
        return policy_evaluation(mdp, pi, gamma)  # (S,)
    b = np.asarray(baseline if not isinstance(baseline, str) else np.nan, dtype=np.float64)
    if b.shape != (mdp.n_states,):
        raise ValueError(f"baseline must be None, 'value' or an array of shape "
                         f"({mdp.n_states},), got {baseline!r}")
    return b


def sampled_policy_gradient(mdp: TabularMDP, theta: np.ndarray, gamma: float, n_episodes: int,
                            rng: np.random.Generator | int | None = None,
                            baseline: str | np.ndarray | None = None, max_steps: int | None = None,
                            return_samples: bool = False, reward_to_go: bool = True,
                            discount_steps: bool = True) -> np.ndarray:
    """Monte Carlo (REINFORCE) estimate of ∇_θ J, averaged over ``n_episodes`` episodes.

    Each episode gives Σ_t γ^t (G_t − b(s_t)) ∇_θ log π(a_t|s_t), with the discounted return
    G_t = Σ_{k>=t} γ^{k−t} r_k. Its mean is ∇J for any b(s); a good baseline shrinks its variance.

    Args:
        baseline: None (b = 0), ``"value"`` (the exact V^π(s)) or an array b of shape (S,).
        max_steps: episode cut-off; default the first T with γ^T < 1e-12, so the bias of cutting
            the (infinite-horizon) sum is negligible.
        return_samples: return the per-episode estimates, shape (n_episodes, S, A), not their mean.
        reward_to_go: True (default) weights step t by γ^t (G_t − b(s_t)); False by the whole
            episode's return R(τ) = G_0, the first step of the derivation in notebook 04, before
            causality drops the rewards earned before t (then ``baseline`` must be None).
        discount_steps: False drops the γ^t in front of step t, as A3C does; the mean is then
            :func:`undiscounted_state_gradient`, not ∇J (notebook 04, section 7).

    >>> mdp = TabularMDP([[0, 0]], [[1.0, 0.0]])
    >>> g = sampled_policy_gradient(mdp, np.zeros((1, 2)), 0.5, 20_000, rng=0, baseline="value")
    >>> np.round(g, 1)   # exact: [[0.5, -0.5]]
    array([[ 0.5, -0.5]])
    """
    theta, gamma = check_theta(theta, mdp), check_gamma(gamma)
    pi = softmax_policy(theta)  # (S, A)
    b = baseline_values(mdp, pi, gamma, baseline)  # (S,)
    if max_steps is None:
        max_steps = 1 if gamma == 0 else int(np.ceil(np.log(1e-12) / np.log(gamma)))
    ep = sample_episodes(mdp, pi, n_episodes, rng, max_steps)  # arrays (T, n)
    n_steps = ep.rewards.shape[0]
    returns = np.zeros_like(ep.rewards)  # G_t  (T, n)
    g = np.zeros(n_episodes)
    for t in reversed(range(n_steps)):
        g = ep.rewards[t] + gamma * g  # G_t = r_t + γ G_{t+1}
        returns[t] = g
    discount = gamma ** np.arange(n_steps)[:, None]  # γ^t  (T, 1)
    if not discount_steps:
        discount = np.ones_like(discount)  # A3C: every step of the rollout weighs 1
    weight = ep.alive * discount * (returns - b[ep.states])  # γ^t (G_t − b(s_t))  (T, n)
    if not reward_to_go:
        if baseline is not None:
            raise ValueError(f"baseline must be None when reward_to_go=False, got {baseline!r}")
        weight = ep.alive * returns[:1]  # R(τ) = G_0 at every step t  (T, n)
    # Σ_t weight_t (e_{a_t} − π(·|s_t)) in row s_t of each episode's (S, A) estimate
    episode = np.broadcast_to(np.arange(n_episodes), ep.states.shape)  # (T, n)
    samples = np.zeros((n_episodes, mdp.n_states, mdp.n_actions))  # (n, S, A)
    np.add.at(samples, (episode, ep.states, ep.actions), weight)
    np.add.at(samples, (episode, ep.states), -weight[..., None] * pi[ep.states])
    return samples if return_samples else samples.mean(axis=0)  # (n, S, A) or (S, A)


def undiscounted_visits(mdp: TabularMDP, pi: np.ndarray) -> np.ndarray:
    """η(s) = E[Σ_t 1{s_t = s}]: expected visits per episode, NOT discounted, shape (S,).

    Solves η_N = ρ^{s0}_N (I − P_NN)⁻¹ over the non-terminal states N (terminal ones get 0).

    Raises:
        ValueError: if under π some episode never ends (η would be infinite).

    >>> mdp = TabularMDP([[0, 1], [1, 1]], np.zeros((2, 2)), [False, True])
    >>> undiscounted_visits(mdp, np.array([[0.5, 0.5], [0.5, 0.5]]))   # 1 + ½ + ¼ + … = 2
    array([2., 0.])
    """
    p_pi = transition_matrix(mdp, pi)  # (S, S)
    live = ~mdp.terminal  # N  (S,)
    p_nn = p_pi[np.ix_(live, live)]  # (N, N)
    if np.max(np.abs(np.linalg.eigvals(p_nn)), initial=0.0) > 1.0 - 1e-9:
        raise ValueError("mdp must end every episode with probability 1 under pi (some states "
                         "never reach a terminal state), so the undiscounted visits are finite")
    eta = np.zeros(mdp.n_states)
    eta[live] = np.linalg.solve(np.eye(int(live.sum())) - p_nn.T, mdp.start[live])  # (N,)
    return eta


def undiscounted_state_gradient(mdp: TabularMDP, theta: np.ndarray, gamma: float) -> np.ndarray:
    """What A3C's loss follows: Σ_s η(s) Σ_a π A ∇log π, the theorem WITHOUT γ^t on states, (S, A).

    A3C (Mnih et al. 2016) and nearly every implementation weight every step of a rollout
    equally, E[Σ_t A(s_t, a_t) ∇log π(a_t|s_t)], instead of E[Σ_t γ^t A ∇log π]: the states are
    weighted by their undiscounted visits η(s) instead of d^π(s) = Σ_t γ^t P(s_t = s). The
    advantages A are still the γ-discounted ones. Defined for episodic MDPs only.

    >>> undiscounted_state_gradient(TabularMDP([[1, 1], [1, 1]], [[1.0, 0.0], [0, 0]],
    ...                             [False, True]), np.zeros((2, 2)), 0.5)   # one step: = ∇J
    array([[ 0.25, -0.25],
           [ 0.  ,  0.  ]])
    """
    theta, gamma = check_theta(theta, mdp), check_gamma(gamma)
    pi = softmax_policy(theta)  # (S, A)
    return _theorem(undiscounted_visits(mdp, pi), pi, advantages(mdp, pi, gamma))


class GammaBias(NamedTuple):
    """How far the A3C direction is from the true gradient (:func:`gamma_weighting_bias`)."""

    cosine: float  #: cos of the angle between the two gradients; 1 = same direction
    relative_error: float  #: ||g_A3C − ∇J|| / ||∇J||, with g_A3C summed over an episode
    norm_ratio: float  #: ||g_A3C|| / ||∇J||: the step-size change (a learning rate absorbs it)


def gamma_weighting_bias(mdp: TabularMDP, theta: np.ndarray, gamma: float) -> GammaBias:
    """Compare :func:`undiscounted_state_gradient` with the exact ∇J (notebook 04, section 7).

    >>> from a3c_lib.gridworld import GridWorld
    >>> bias = gamma_weighting_bias(GridWorld().to_mdp(), np.zeros((17, 4)), gamma=0.9)
    >>> round(bias.cosine, 3), round(bias.relative_error, 2), round(bias.norm_ratio, 2)
    (0.838, 21.15, 21.98)
    """
    exact = exact_policy_gradient(mdp, theta, gamma)  # (S, A)
    a3c = undiscounted_state_gradient(mdp, theta, gamma)  # (S, A)
    norm = np.linalg.norm(exact)
    if norm == 0:
        raise ValueError("theta must not be a stationary point (∇J = 0): no direction to compare")
    cosine = float(np.sum(exact * a3c) / (norm * np.linalg.norm(a3c)))
    return GammaBias(cosine, float(np.linalg.norm(a3c - exact) / norm),
                     float(np.linalg.norm(a3c) / norm))


class GradientAscent(NamedTuple):
    """Result of :func:`gradient_ascent`."""

    thetas: np.ndarray  #: θ_0 … θ_steps, shape (steps + 1, S, A)
    objectives: np.ndarray  #: J(π_θk) for each θ_k, shape (steps + 1,)


def gradient_ascent(mdp: TabularMDP, theta0: np.ndarray, gamma: float, lr: float,
                    steps: int, n_episodes: int | None = None,
                    rng: np.random.Generator | int | None = None) -> GradientAscent:
    """θ_{k+1} = θ_k + lr · g(θ_k), with g the exact ∇J or a sampled estimate of it.

    Args:
        n_episodes: None (default) uses the exact gradient, and J rises for a small enough lr;
            an integer uses :func:`sampled_policy_gradient` over that many episodes with the exact
            V as baseline (a perfect critic), like an agent that learns from its own episodes.
        rng: seed or generator of the sampled episodes.

    >>> mdp = TabularMDP([[0, 0]], [[1.0, 0.0]])
    >>> path = gradient_ascent(mdp, np.zeros((1, 2)), gamma=0.5, lr=1.0, steps=3)
    >>> path.thetas.shape, bool(np.all(np.diff(path.objectives) > 0))
    ((4, 1, 2), True)
    """
    theta = check_theta(theta0, mdp)
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    if not (isinstance(steps, (int, np.integer)) and steps >= 0):
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if n_episodes is not None and not (isinstance(n_episodes, (int, np.integer))
                                       and n_episodes >= 1):
        raise ValueError(f"n_episodes must be None or an integer >= 1, got {n_episodes!r}")
    rng = np.random.default_rng(rng)
    thetas, objectives = [theta], [objective(mdp, softmax_policy(theta), gamma)]
    for _ in range(steps):
        if n_episodes is None:
            grad = exact_policy_gradient(mdp, theta, gamma)  # (S, A)
        else:
            grad = sampled_policy_gradient(mdp, theta, gamma, n_episodes, rng=rng,
                                           baseline="value", max_steps=mdp.n_states * 6)
        theta = theta + lr * grad
        thetas.append(theta)
        objectives.append(objective(mdp, softmax_policy(theta), gamma))
    return GradientAscent(np.stack(thetas), np.array(objectives))
