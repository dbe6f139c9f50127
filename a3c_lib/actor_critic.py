"""The actor-critic loop of notebook 05, in one readable function: act t_max steps, then learn.

This is the loop the whole course builds up to, written with the tested pieces only::

    repeat:
        act   t_max steps with a ~ π_θ(·|s)          mlp.forward, mlp.sample_actions, env.step
        G_t   n-step returns, bootstrapped             returns.n_step_returns
        ∇L    loss gradient, A = G − V held constant   mlp.loss_and_grad
        θ     one RMSProp step on the clipped ∇L       optim.clip_grad_norm, optim.rmsprop_update

:func:`actor_critic_update` is ONE pass of that loop (the loop body a student writes in notebook
05); :func:`train` repeats it. The engine (:mod:`a3c_lib.engine.training`) runs the same loop made
robust and parallel: several environments per update, worker processes, shared θ, metrics, Stop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import gymnasium as gym
import numpy as np

from a3c_lib.nn import mlp
from a3c_lib.nn.optim import clip_grad_norm, rmsprop_update
from a3c_lib.returns import n_step_returns


@dataclass(frozen=True)
class LoopConfig:
    """Hyperparameters of the notebook's loop (the same names as the engine's ``TrainConfig``).

    Attributes:
        t_max: environment steps per update (the n of the n-step return), int >= 1.
        gamma: discount γ, in [0, 1).
        lr: RMSProp learning rate (α in the notebooks, the paper's η), > 0.
        rms_alpha: RMSProp decay (κ in the notebooks, the paper's α) of ν, in [0, 1).
        rms_eps: RMSProp ε under the square root, > 0.
        entropy_coef: weight c_H of the entropy bonus, >= 0.
        value_coef: weight c_v of the critic's loss ½(G − V)², >= 0.
        max_grad_norm: the gradient's norm is clipped to this (not in the paper's pseudo-code), > 0.

    >>> LoopConfig(t_max=0)
    Traceback (most recent call last):
    ...
    ValueError: t_max must be an integer >= 1, got 0
    """

    t_max: int = 8
    gamma: float = 0.99
    lr: float = 2e-3
    rms_alpha: float = 0.99
    rms_eps: float = 1e-5
    entropy_coef: float = 0.0
    value_coef: float = 0.5
    max_grad_norm: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.t_max, bool) or not isinstance(self.t_max, int | np.integer) \
                or self.t_max < 1:
            raise ValueError(f"t_max must be an integer >= 1, got {self.t_max!r}")
        ranges = {"gamma": (0.0, 1.0, "[0, 1)"), "rms_alpha": (0.0, 1.0, "[0, 1)"),
                  "lr": (0.0, math.inf, "> 0"), "rms_eps": (0.0, math.inf, "> 0"),
                  "max_grad_norm": (0.0, math.inf, "> 0"),
                  "entropy_coef": (0.0, math.inf, ">= 0"), "value_coef": (0.0, math.inf, ">= 0")}
        for name, (low, high, text) in ranges.items():
            value = getattr(self, name)
            ok = not isinstance(value, bool) and isinstance(value, int | float | np.number) \
                and math.isfinite(value) and low <= value < high
            if ok and text == "> 0":
                ok = value > 0
            if not ok:
                raise ValueError(f"{name} must be a finite number {text}, got {value!r}")


def actor_critic_update(spec: mlp.MLPSpec, theta: np.ndarray, g: np.ndarray, env: gym.Env,
                        obs: np.ndarray, rng: np.random.Generator,
                        hp: LoopConfig) -> tuple[np.ndarray, mlp.LossStats]:
    """One pass of the actor-critic loop: t_max steps of ``env`` with π_θ, then one update of θ.

    Args:
        spec: sizes of the two-headed network.
        theta: parameters θ (P,), updated IN PLACE.
        g: RMSProp's running mean of squared gradients (P,), updated in place.
        env: a gymnasium environment, already reset; it is reset again whenever an episode ends.
        obs: the observation to act on first (obs_dim,).
        rng: the random generator of the action sampling.
        hp: hyperparameters.

    Returns:
        The observation the next pass starts from, and the loss statistics of this update.

    >>> env = gym.make("CartPole-v1"); obs, _ = env.reset(seed=0)
    >>> spec, rng = mlp.MLPSpec(4, 2, hidden=(8,)), np.random.default_rng(0)
    >>> theta = mlp.init_theta(spec, rng); g = np.zeros_like(theta)
    >>> obs, stats = actor_critic_update(spec, theta, g, env, obs, rng, LoopConfig(t_max=5))
    >>> obs.shape, round(stats.entropy, 2)   # π starts near uniform: H ≈ log 2
    ((4,), 0.69)
    """
    T = hp.t_max
    states = np.zeros((T, spec.obs_dim))  # (T, obs_dim) s_t
    actions = np.zeros(T, dtype=np.int64)  # (T,) a_t
    rewards = np.zeros(T)  # (T,) r_t
    terminated = np.zeros(T, dtype=bool)  # (T,) s'_t is terminal: V(s'_t) = 0
    truncated = np.zeros(T, dtype=bool)  # (T,) a time limit cut the episode after step t
    next_values = np.zeros(T)  # (T,) V(s'_t), needed where an episode ends and at t = T − 1
    # ---- act: t_max steps with the current policy (the actor)
    for t in range(T):
        logits, _ = mlp.forward(spec, theta, obs[None])  # (1, A)
        actions[t] = mlp.sample_actions(logits, rng)[0]  # a_t ~ π(·|s_t): sampled, never greedy
        states[t] = obs
        obs, rewards[t], terminated[t], truncated[t], _ = env.step(actions[t])
        if terminated[t] or truncated[t]:
            next_values[t] = mlp.forward(spec, theta, obs[None])[1][0]  # V(final obs)
            obs, _ = env.reset()
    if not (terminated[-1] or truncated[-1]):
        next_values[-1] = mlp.forward(spec, theta, obs[None])[1][0]  # V(s_T): the bootstrap
    # ---- learn: n-step returns (the critic's targets), gradient, one RMSProp step
    returns = n_step_returns(rewards, terminated, truncated, next_values, hp.gamma)  # (T,) G_t
    stats, grad = mlp.loss_and_grad(spec, theta, states, actions, returns,
                                    entropy_coef=hp.entropy_coef, value_coef=hp.value_coef)
    clip_grad_norm(grad, hp.max_grad_norm)  # in place; not in the paper's pseudo-code
    rmsprop_update(theta, g, grad, hp.lr, hp.rms_alpha, hp.rms_eps)  # θ ← θ − η ∇L / √(g + ε)
    return obs, stats


class LoopResult(NamedTuple):
    """What :func:`train` returns."""

    theta: np.ndarray  # (P,) the final parameters
    episode_returns: list[float]  # undiscounted return of every finished episode, in order
    entropy: np.ndarray  # (U,) mean H(π(·|s)) of each update's batch
    steps: int  # environment steps taken


def make_env(env_id: str = "CartPole-v1", max_episode_steps: int | None = None) -> gym.Env:
    """``env_id`` wrapped in ``RecordEpisodeStatistics`` (its ``return_queue`` keeps every return).

    >>> make_env(max_episode_steps=10).spec.max_episode_steps
    10
    """
    kwargs = {} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}
    env = gym.make(env_id, disable_env_checker=True, **kwargs)
    return gym.wrappers.RecordEpisodeStatistics(env, buffer_length=10**7)


def train(hp: LoopConfig, n_updates: int, seed: int = 0, hidden: tuple[int, ...] = (64, 64),
          env: gym.Env | None = None,
          on_update: Callable[[int, gym.Env], bool | None] | None = None) -> LoopResult:
    """Repeat :func:`actor_critic_update` ``n_updates`` times from a fixed seed (repeatable).

    Args:
        hp: hyperparameters.
        n_updates: number of updates (each takes hp.t_max environment steps), int >= 1.
        seed: seeds θ's initialisation, the action sampling and the environment.
        hidden: widths of the shared tanh trunk.
        env: the environment (default :func:`make_env` of CartPole-v1).
        on_update: called as ``on_update(update_index, env)`` after every update (e.g. a live
            plot); returning True stops the loop early.

    >>> result = train(LoopConfig(t_max=4), n_updates=3, hidden=(8,))
    >>> result.theta.shape, result.steps, len(result.entropy)
    ((67,), 12, 3)
    """
    if isinstance(n_updates, bool) or not isinstance(n_updates, int | np.integer) \
            or n_updates < 1:
        raise ValueError(f"n_updates must be an integer >= 1, got {n_updates!r}")
    env = make_env() if env is None else env
    spec = mlp.MLPSpec(env.observation_space.shape[0], int(env.action_space.n), tuple(hidden))
    rng = np.random.default_rng(seed)
    theta = mlp.init_theta(spec, rng)  # (P,) θ: actor AND critic, one vector
    g = np.zeros_like(theta)  # (P,) RMSProp statistics
    obs, _ = env.reset(seed=seed)
    entropy = []
    for update in range(n_updates):
        obs, stats = actor_critic_update(spec, theta, g, env, obs, rng, hp)
        entropy.append(stats.entropy)
        if on_update is not None and on_update(update, env):
            break
    returns = [float(r) for r in getattr(env, "return_queue", [])]
    return LoopResult(theta, returns, np.array(entropy), len(entropy) * hp.t_max)
