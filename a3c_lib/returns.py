"""Discounted and n-step returns: the targets that the critic learns and the actor's advantage uses.

G_t = r_t + γ·G_{t+1} is the return of the course (notebook 04). A3C (Mnih et al. 2016,
Algorithm S3) cuts it after t_max steps and bootstraps from the critic:
G_t = r_t + γ r_{t+1} + … + γ^k V(s_{t+k}).

Gymnasium 1.x separates the two ways an episode can end, and they need different returns:

* ``terminated`` — the MDP reached a terminal state, whose value is 0: nothing to bootstrap.
* ``truncated`` — a time limit cut the episode; the state still had a future, so we bootstrap
  from V of the last observation. Treating a time limit as terminal (as the old tutorials did)
  teaches the critic that state 500 of CartPole is worthless.

:func:`gae` is the other family of targets: λ-returns, or generalised advantage estimation
(Schulman et al. 2016), which average all the n-step advantages with weights (1 − λ)λ^{n−1}.
λ = 0 is the one-step TD error δ_t, λ = 1 the longest n-step (Monte Carlo) advantage.
"""

from __future__ import annotations

import numpy as np


def discounted_returns(
    rewards: np.ndarray, gamma: float, bootstrap_value: float = 0.0
) -> np.ndarray:
    """G_t = r_t + γ·G_{t+1}, with G_T = bootstrap_value.

    Args:
        rewards: r_0 … r_{T-1}, shape (T,).
        gamma: discount γ in [0, 1].
        bootstrap_value: G_T, the value of what follows the last reward (0 at a terminal state).

    Returns:
        G_0 … G_{T-1}, shape (T,).

    >>> discounted_returns(np.array([1.0, 1.0, 1.0]), gamma=0.5)
    array([1.75, 1.5 , 1.  ])
    >>> discounted_returns(np.array([0.0, 0.0]), gamma=0.5, bootstrap_value=8.0)
    array([2., 4.])
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    if rewards.ndim != 1:
        raise ValueError(f"rewards must be a 1-D array (T,), got shape {rewards.shape}")
    _check_gamma(gamma)
    returns = np.empty_like(rewards)  # (T,)
    g = float(bootstrap_value)
    for t in reversed(range(len(rewards))):
        g = rewards[t] + gamma * g  # G_t = r_t + γ G_{t+1}
        returns[t] = g
    return returns


def n_step_returns(
    rewards: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    next_values: np.ndarray,
    gamma: float,
) -> np.ndarray:
    """n-step returns of one rollout of t_max steps, with the right bootstrap at every episode end.

    Walking backwards through the rollout::

        G_t = r_t                          if terminated_t       (terminal state: V = 0)
        G_t = r_t + γ·V(s'_t)              if truncated_t or t is the rollout's last step
        G_t = r_t + γ·G_{t+1}              otherwise

    Args:
        rewards: r_t, shape (T,) or (T, N) for N environments stepped together.
        terminated: episode reached a terminal state at step t, same shape, bool.
        truncated: episode was cut by a time limit at step t, same shape, bool.
        next_values: V(s'_t), the critic's value of the observation that followed step t (for a
            truncated step, the final observation before any reset), same shape.
        gamma: discount γ in [0, 1].

    Returns:
        G_t, same shape as ``rewards``.

    A rollout of 3 steps whose episode terminates at the 2nd step, then a new one starts:

    >>> n_step_returns(np.array([1.0, 1.0, 1.0]), terminated=np.array([False, True, False]),
    ...                truncated=np.array([False, False, False]),
    ...                next_values=np.array([9.0, 9.0, 10.0]), gamma=0.5)
    array([1.5, 1. , 6. ])

    The same rollout cut by a time limit at the 2nd step bootstraps there instead:

    >>> n_step_returns(np.array([1.0, 1.0, 1.0]), terminated=np.array([False, False, False]),
    ...                truncated=np.array([False, True, False]),
    ...                next_values=np.array([9.0, 4.0, 10.0]), gamma=0.5)
    array([2.5, 3. , 6. ])
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    terminated = np.asarray(terminated, dtype=bool)
    truncated = np.asarray(truncated, dtype=bool)
    next_values = np.asarray(next_values, dtype=np.float64)
    for name, arr in (("terminated", terminated), ("truncated", truncated),
                      ("next_values", next_values)):
        if arr.shape != rewards.shape:
            raise ValueError(
                f"{name} must have the shape of rewards {rewards.shape}, got {arr.shape}"
            )
    if rewards.ndim not in (1, 2) or rewards.shape[0] == 0:
        raise ValueError(f"rewards must have shape (T,) or (T, N) with T >= 1, got {rewards.shape}")
    _check_gamma(gamma)

    alive = 1.0 - terminated  # 0 where the next state is terminal: V(terminal) = 0
    cut = terminated | truncated  # the episode ended here: do not carry G_{t+1} across it
    returns = np.empty_like(rewards)  # (T,) or (T, N)
    g = next_values[-1]  # the rollout's last step bootstraps from V(s_T)
    for t in reversed(range(rewards.shape[0])):
        follow = np.where(cut[t], next_values[t], g)  # V(s'_t) at an episode end, else G_{t+1}
        g = rewards[t] + gamma * alive[t] * follow
        returns[t] = g
    return returns


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    next_values: np.ndarray,
    gamma: float,
    lam: float,
) -> np.ndarray:
    """Generalised advantage estimates Â_t = Σ_k (γλ)^k δ_{t+k} (Schulman et al. 2016).

    With the TD error δ_t = r_t + γ·(1 − terminated_t)·V(s'_t) − V(s_t), walking backwards::

        Â_t = δ_t                          if step t ended an episode or is the rollout's last
        Â_t = δ_t + γλ·Â_{t+1}             otherwise

    λ = 0 gives the one-step advantage δ_t; λ = 1 gives ``n_step_returns(…) − values`` (the sum
    of δ's telescopes); in between, an exponentially weighted average of all n-step advantages.
    Not in Mnih et al. 2016 (A3C uses the n-step return); A2C/PPO implementations often use it.

    Args:
        rewards: r_t, shape (T,) or (T, N) for N environments stepped together.
        values: V(s_t), the critic's value of the observation at which a_t was chosen, same shape.
        terminated: the episode reached a terminal state at step t, same shape, bool.
        truncated: a time limit cut the episode at step t, same shape, bool.
        next_values: V(s'_t), the critic's value of the observation AFTER step t (for a truncated
            step the final observation, before any reset), same shape. Unlike
            :func:`n_step_returns`, every entry is used: inside an episode it equals values[t+1];
            at a terminated step it is ignored.
        gamma: discount γ in [0, 1].
        lam: λ in [0, 1].

    Returns:
        Â_t, same shape as ``rewards``.  (The critic's target is then Â_t + V(s_t).)

    >>> r, no = np.array([1.0, 1.0]), np.array([False, False])
    >>> v, v_next = np.array([2.0, 3.0]), np.array([3.0, 4.0])
    >>> gae(r, v, no, no, v_next, gamma=0.5, lam=0.0)      # δ = r + γV(s') − V(s)
    array([0.5, 0. ])
    >>> gae(r, v, no, no, v_next, gamma=0.5, lam=1.0)      # = n-step return − V(s_t)
    array([0.5, 0. ])
    >>> gae(r, v, np.array([False, True]), no, v_next, gamma=0.5, lam=1.0)   # V(terminal) = 0
    array([-0.5, -2. ])
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    terminated = np.asarray(terminated, dtype=bool)
    truncated = np.asarray(truncated, dtype=bool)
    next_values = np.asarray(next_values, dtype=np.float64)
    if rewards.ndim not in (1, 2) or rewards.shape[0] == 0:
        raise ValueError(f"rewards must have shape (T,) or (T, N) with T >= 1, got {rewards.shape}")
    for name, arr in (("values", values), ("terminated", terminated), ("truncated", truncated),
                      ("next_values", next_values)):
        if arr.shape != rewards.shape:
            raise ValueError(
                f"{name} must have the shape of rewards {rewards.shape}, got {arr.shape}"
            )
    _check_gamma(gamma)
    if isinstance(lam, bool) or not (
        isinstance(lam, (int, float, np.integer, np.floating)) and 0.0 <= float(lam) <= 1.0
    ):
        raise ValueError(f"lam must be a number in [0, 1], got {lam!r}")

    delta = rewards + gamma * (1.0 - terminated) * next_values - values  # (T,) or (T, N)
    carry = 1.0 - (terminated | truncated)  # 0 where an episode ended: Â does not cross it
    advantages = np.empty_like(rewards)  # (T,) or (T, N)
    a = np.zeros_like(rewards[0])  # Â_T = 0: the rollout's last step keeps only its δ
    for t in reversed(range(rewards.shape[0])):
        a = delta[t] + gamma * lam * carry[t] * a  # Â_t = δ_t + γλ Â_{t+1}
        advantages[t] = a
    return advantages


def _check_gamma(gamma: float) -> None:
    if isinstance(gamma, bool) or not (
        isinstance(gamma, (int, float, np.integer, np.floating)) and 0.0 <= float(gamma) <= 1.0
    ):  # also rejects nan: every comparison with nan is False
        raise ValueError(f"gamma must be a number in [0, 1], got {gamma!r}")
