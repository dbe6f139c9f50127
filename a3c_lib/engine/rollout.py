"""Collect t_max steps of N environments with the numpy policy: the "act" half of an actor-learner.

At every step the policy π(·|s) = softmax(logits) of ``mlp.forward`` is SAMPLED (no ε-greedy: the
policy's own randomness explores). The N environments are plain gymnasium envs stepped in
lockstep by this loop (one forward pass for all N observations); we reset them ourselves, so the
observation at which an episode ended is still at hand for the bootstrap:

* terminated at step t → V(s'_t) is not needed (the terminal state is worth 0);
* truncated (time limit) at step t → next_values[t] = V(final observation), before the reset;
* the rollout's last step → next_values[T-1] = V(s_T), the bootstrap of the n-step return.

Elsewhere ``next_values`` is 0 and unused by ``returns.n_step_returns``.
"""

from __future__ import annotations

from typing import NamedTuple

import gymnasium as gym
import numpy as np

from a3c_lib.nn import mlp


class Rollout(NamedTuple):
    """t_max steps of N environments (arrays are the collector's buffers: reused next collect)."""

    states: np.ndarray  # (T, N, obs_dim) s_t
    actions: np.ndarray  # (T, N) int a_t ~ π(·|s_t)
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


def make_envs(env_id: str, n: int, seed: int) -> list[gym.Env]:
    """n envs; env j is reset with seed + j at its first reset (by :class:`RolloutCollector`).

    ``disable_env_checker=True``: the passive checker re-validates every step (~30 % of a
    CartPole step); ``config.validate_env`` already checked the spaces once.
    """
    return [gym.make(env_id, disable_env_checker=True) for _ in range(n)]


class RolloutCollector:
    """Steps ``envs`` in lockstep with a numpy policy and returns :class:`Rollout` batches.

    >>> envs = make_envs("CartPole-v1", 2, seed=0)
    >>> spec = mlp.MLPSpec(4, 2, hidden=(8,))
    >>> theta = mlp.init_theta(spec, np.random.default_rng(0))
    >>> c = RolloutCollector(envs, spec, t_max=5, seed=0, rng=np.random.default_rng(0))
    >>> rollout, episodes = c.collect(theta)
    >>> rollout.states.shape, rollout.actions.shape, c.steps
    ((5, 2, 4), (5, 2), 10)
    """

    def __init__(self, envs: list[gym.Env], spec: mlp.MLPSpec, t_max: int, seed: int,
                 rng: np.random.Generator) -> None:
        self.envs, self.spec, self.t_max, self.rng = envs, spec, t_max, rng
        n, d = len(envs), spec.obs_dim
        self.buffers = Rollout(
            states=np.zeros((t_max, n, d)), actions=np.zeros((t_max, n), dtype=np.int64),
            rewards=np.zeros((t_max, n)), terminated=np.zeros((t_max, n), dtype=bool),
            truncated=np.zeros((t_max, n), dtype=bool), values=np.zeros((t_max, n)),
            next_values=np.zeros((t_max, n)),
        )
        self.obs = np.zeros((n, d))  # (N, obs_dim) current observation of every env
        for j, env in enumerate(envs):
            self.obs[j] = env.reset(seed=seed + j)[0]
        self.episode_return = [0.0] * n
        self.episode_length = [0] * n
        self.steps = 0  # env steps taken so far (all envs)

    def collect(self, theta: np.ndarray) -> tuple[Rollout, list[Episode]]:
        """Run t_max steps of every env with policy theta; return the rollout and ended episodes."""
        b, spec, obs, envs = self.buffers, self.spec, self.obs, self.envs
        b.next_values.fill(0.0)
        episodes: list[Episode] = []
        for t in range(self.t_max):
            b.states[t] = obs
            logits, v = mlp.forward(spec, theta, obs)  # (N, A), (N,)
            actions = mlp.sample_actions(logits, self.rng)  # (N,) a ~ π(·|s)
            b.actions[t] = actions
            b.values[t] = v
            b.terminated[t] = b.truncated[t] = False
            # iterating the array gives np.int64 actions: Discrete.contains checks those ~2 µs
            # faster than Python ints (measured), and this loop is the hot path of the worker
            for j, a in enumerate(actions):
                o, r, terminated, truncated, _ = envs[j].step(a)
                b.rewards[t, j] = r
                self.episode_return[j] += r
                self.episode_length[j] += 1
                obs[j] = o
                if terminated or truncated:
                    b.terminated[t, j], b.truncated[t, j] = terminated, truncated
                    if truncated and not terminated:  # time limit: bootstrap from V(final obs)
                        b.next_values[t, j] = mlp.forward(spec, theta, obs[j : j + 1])[1][0]
                    episodes.append(Episode(j, t, self.episode_return[j], self.episode_length[j]))
                    self.episode_return[j], self.episode_length[j] = 0.0, 0
                    obs[j] = envs[j].reset()[0]
        last = self.t_max - 1
        v_last = mlp.forward(spec, theta, obs)[1]  # (N,) V(s_T), the n-step bootstrap
        keep = b.truncated[last] & ~b.terminated[last]  # their V(final obs) is already there
        b.next_values[last] = np.where(keep, b.next_values[last], v_last)
        self.steps += self.t_max * len(envs)
        return b, episodes

    def close(self) -> None:
        for env in self.envs:
            env.close()
