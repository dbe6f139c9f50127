"""Collect t_max steps of N environments with a policy: the "act" half of an actor-learner.

At every step the action is SAMPLED from the policy, a ~ π(·|s) (``Policy.act``; no ε-greedy:
the policy's own randomness explores). The N environments are plain gymnasium envs stepped in
lockstep by this loop (one forward pass for all N observations); we reset them ourselves, so the
observation at which an episode ended is still at hand for the bootstrap:

* terminated at step t → V(s'_t) is not needed (the terminal state is worth 0);
* truncated (time limit) at step t → next_values[t] = V(final observation), before the reset;
* the rollout's last step → next_values[T-1] = V(s_T), the bootstrap of the n-step return.

Elsewhere ``next_values`` is 0 and unused by ``returns.n_step_returns``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from a3c_lib.engine.envs import make_env
from a3c_lib.nn.policy import Policy


class Rollout(NamedTuple):
    """t_max steps of N environments (arrays are the collector's buffers: reused next collect)."""

    states: np.ndarray  # (T, N, *obs_shape) s_t
    actions: np.ndarray  # (T, N, *action_shape) a_t ~ π(·|s_t)
    rewards: np.ndarray  # (T, N) r_t
    terminated: np.ndarray  # (T, N) bool, s'_t is terminal
    truncated: np.ndarray  # (T, N) bool, a time limit cut the episode after step t
    values: np.ndarray  # (T, N) V(s_t) from the forward pass that chose a_t
    next_values: np.ndarray  # (T, N) V(s'_t) where needed (see module doc), else 0


class Episode(NamedTuple):
    """An episode that ended during a rollout."""

    env: int  # index of the env inside the collector
    t: int  # rollout step at which it ended, 0 … T-1
    ret: float  # undiscounted return Σ r
    length: int


def make_envs(env_id: str, n: int, env_kwargs: dict[str, Any] | None = None) -> list[gym.Env]:
    """n envs (:func:`envs.make_env`); :class:`RolloutCollector` seeds their first reset."""
    return [make_env(env_id, env_kwargs) for _ in range(n)]


class RolloutCollector:
    """Steps ``envs`` in lockstep with a :class:`~a3c_lib.nn.policy.Policy`; returns Rollouts.

    Args:
        envs: the N environments.
        policy: acts (``act``, ``value``) and turns an action into what ``env.step`` takes.
        t_max: steps per env per rollout.
        env_seeds: env j's first ``reset`` gets ``env_seeds[j]`` (later resets continue its rng).
        rng: the action-sampling generator.

    >>> from a3c_lib.nn import mlp
    >>> from a3c_lib.nn.policy import CategoricalMLP
    >>> pi = CategoricalMLP(mlp.MLPSpec(4, 2, hidden=(8,)))
    >>> theta = pi.init_params(np.random.default_rng(0))
    >>> c = RolloutCollector(make_envs("CartPole-v1", 2), pi, t_max=5, env_seeds=[0, 1],
    ...                      rng=np.random.default_rng(0))
    >>> rollout, episodes = c.collect(theta)
    >>> rollout.states.shape, rollout.actions.shape, c.steps
    ((5, 2, 4), (5, 2), 10)
    """

    def __init__(self, envs: list[gym.Env], policy: Policy, t_max: int, env_seeds: list[int],
                 rng: np.random.Generator) -> None:
        self.envs, self.policy, self.t_max, self.rng = envs, policy, t_max, rng
        n, obs_shape = len(envs), envs[0].observation_space.shape
        if len(env_seeds) != n:
            raise ValueError(f"env_seeds must hold one seed per env ({n}), got {len(env_seeds)}")
        self.buffers = Rollout(
            states=np.zeros((t_max, n, *obs_shape), policy.dtype),
            actions=np.zeros((t_max, n, *policy.action_shape), policy.action_dtype),
            rewards=np.zeros((t_max, n)), terminated=np.zeros((t_max, n), dtype=bool),
            truncated=np.zeros((t_max, n), dtype=bool), values=np.zeros((t_max, n)),
            next_values=np.zeros((t_max, n)),
        )
        self.obs = np.zeros((n, *obs_shape), policy.dtype)  # (N, *obs_shape) current observations
        for j, env in enumerate(envs):
            self.obs[j] = env.reset(seed=int(env_seeds[j]))[0]
        self.episode_return = [0.0] * n
        self.episode_length = [0] * n
        self.steps = 0  # env steps taken so far (all envs)

    def collect(self, theta: np.ndarray) -> tuple[Rollout, list[Episode]]:
        """Run t_max steps of every env with policy theta; return the rollout and ended episodes."""
        b, policy, obs, envs = self.buffers, self.policy, self.obs, self.envs
        b.next_values.fill(0.0)
        episodes: list[Episode] = []
        for t in range(self.t_max):
            b.states[t] = obs
            actions, v = policy.act(theta, obs, self.rng)  # (N, *action_shape) a ~ π(·|s), (N,)
            b.actions[t] = actions
            b.values[t] = v
            b.terminated[t] = b.truncated[t] = False
            for j, a in enumerate(actions):  # the hot path of the worker: numpy only
                o, r, terminated, truncated, _ = envs[j].step(policy.env_action(a))
                b.rewards[t, j] = r
                self.episode_return[j] += r
                self.episode_length[j] += 1
                obs[j] = o
                if terminated or truncated:
                    b.terminated[t, j], b.truncated[t, j] = terminated, truncated
                    if truncated and not terminated:  # time limit: bootstrap from V(final obs)
                        b.next_values[t, j] = policy.value(theta, obs[j : j + 1])[0]
                    episodes.append(Episode(j, t, self.episode_return[j], self.episode_length[j]))
                    self.episode_return[j], self.episode_length[j] = 0.0, 0
                    obs[j] = envs[j].reset()[0]
        last = self.t_max - 1
        v_last = policy.value(theta, obs)  # (N,) V(s_T), the n-step bootstrap
        keep = b.truncated[last] & ~b.terminated[last]  # their V(final obs) is already there
        b.next_values[last] = np.where(keep, b.next_values[last], v_last)
        self.steps += self.t_max * len(envs)
        return b, episodes

    def close(self) -> None:
        for env in self.envs:
            env.close()
