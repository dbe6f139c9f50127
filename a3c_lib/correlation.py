"""How correlated are the samples a learner receives? One agent's stream vs several agents' (nb 06).

Consecutive states of one trajectory are nearly the same state: CartPole's pole angle at step t+1
is the angle at step t plus a small change. A gradient computed from a run of consecutive samples
is therefore computed from far fewer *independent* samples than it seems. Mnih et al. 2016 break
this correlation without a replay memory by running several agents, each with its own copy of the
environment; the learner sees their samples interleaved.

We measure it with the lag-k autocorrelation of one state feature, in the order the learner
receives the samples::

    r_k = Σ_{t<T-k} (x_t − x̄)(x_{t+k} − x̄) / Σ_t (x_t − x̄)²

For N independent agents interleaved round-robin, neighbours in the stream come from different
agents, so r_k ≈ 0 unless k is a multiple of N — and r_{jN}(mixed) ≈ r_j(one agent).
"""

from __future__ import annotations

import numpy as np


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """r_0 … r_max_lag of a 1-D series (the usual biased estimator, so |r_k| <= 1 and r_0 = 1).

    Args:
        x: the series x_0 … x_{T-1}, shape (T,), not constant.
        max_lag: largest lag k, in [0, T).

    Returns:
        r_k for k = 0 … max_lag, shape (max_lag + 1,).

    An alternating series is perfectly anti-correlated with itself shifted by one step
    (r_1 = −(T−1)/T with this estimator) and correlated at lag 2:

    >>> autocorrelation(np.array([1.0, -1.0, 1.0, -1.0]), max_lag=2)
    array([ 1.  , -0.75,  0.5 ])
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"x must be a 1-D series of length >= 2, got shape {x.shape}")
    if (
        isinstance(max_lag, bool)
        or not isinstance(max_lag, int | np.integer)
        or not (0 <= max_lag < x.size)
    ):
        raise ValueError(f"max_lag must be an integer in [0, {x.size}), got {max_lag!r}")
    d = x - x.mean()  # (T,) deviations from the mean
    denom = float(d @ d)
    if denom == 0.0:
        raise ValueError("x must not be constant (its autocorrelation is undefined)")
    return np.array([d[: x.size - k] @ d[k:] / denom for k in range(max_lag + 1)])  # (max_lag+1,)


def interleave(streams: np.ndarray, chunk: int = 1) -> np.ndarray:
    """Merge N agents' streams in the order a learner receives them: ``chunk`` steps from agent 0,
    then ``chunk`` from agent 1, … round-robin (chunk = t_max mimics one rollout per update).

    Args:
        streams: shape (T, N, ...) — time first, agent second (T a multiple of ``chunk``).
        chunk: consecutive steps taken from one agent before switching, >= 1.

    Returns:
        shape (T·N, ...).

    >>> s = np.array([[0, 10], [1, 11], [2, 12], [3, 13]])  # (T=4, N=2)
    >>> interleave(s)
    array([ 0, 10,  1, 11,  2, 12,  3, 13])
    >>> interleave(s, chunk=2)
    array([ 0,  1, 10, 11,  2,  3, 12, 13])
    """
    streams = np.asarray(streams)
    if streams.ndim < 2:
        raise ValueError(f"streams must have shape (T, N, ...), got {streams.shape}")
    t, n = streams.shape[:2]
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1, got {chunk!r}")
    if t % chunk:
        raise ValueError(f"the length T={t} of streams must be a multiple of chunk={chunk}")
    rest = streams.shape[2:]
    blocks = streams.reshape(t // chunk, chunk, n, *rest)  # (T/chunk, chunk, N, ...)
    blocks = np.swapaxes(blocks, 1, 2)  # (T/chunk, N, chunk, ...): agent-major inside a block
    return blocks.reshape(t * n, *rest)  # (T·N, ...)


def collect_states(
    env_id: str = "CartPole-v1", n_agents: int = 1, steps: int = 1000, seed: int = 0
) -> np.ndarray:
    """States seen by ``n_agents`` independent agents acting at random, each in its own env.

    A new episode starts (reset) whenever one ends, as in a worker's endless stream.

    Args:
        env_id: a Gymnasium environment id with a vector observation.
        n_agents: number of agents N, >= 1.
        steps: steps T per agent, >= 1.
        seed: seeds the environments (seed + i) and the random actions.

    Returns:
        states, shape (T, N, obs_dim).

    >>> collect_states(n_agents=3, steps=5).shape
    (5, 3, 4)
    """
    import gymnasium as gym  # only here: the rest of the module is pure numpy

    for name, value in (("n_agents", n_agents), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    rng = np.random.default_rng(seed)
    envs = [gym.make(env_id) for _ in range(n_agents)]
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    states = np.empty((steps, n_agents, len(obs[0])))  # (T, N, obs_dim)
    for t in range(steps):
        for i, env in enumerate(envs):
            states[t, i] = obs[i]
            action = int(rng.integers(env.action_space.n))  # uniform random policy
            obs[i], _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                obs[i] = env.reset()[0]
    for env in envs:
        env.close()
    return states


def mean_batch_correlation(r: np.ndarray, batch: int) -> float:
    """Average correlation between two samples of one batch of ``batch`` consecutive samples.

    A batch of B samples holds B−k pairs at distance k, so the mean over its B(B−1)/2 pairs is
    Σ_{k=1}^{B−1} (B−k)·r_k / (B(B−1)/2). It is 0 for independent samples and 1 for copies.

    Args:
        r: autocorrelations r_0 … r_K from :func:`autocorrelation`, with K >= batch − 1.
        batch: batch size B, >= 2.

    >>> mean_batch_correlation(np.array([1.0, 0.5, 0.0]), batch=3)  # pairs at distance 1, 1, 2
    0.3333333333333333
    """
    r = np.asarray(r, dtype=np.float64)
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 2:
        raise ValueError(f"batch must be an integer >= 2, got {batch!r}")
    if r.ndim != 1 or r.size < batch:
        raise ValueError(f"r must hold r_0 … r_{batch - 1} (at least {batch} lags), got {r.shape}")
    k = np.arange(1, batch)  # (B-1,) distances inside one batch
    return float(((batch - k) * r[1:batch]).sum() / (batch * (batch - 1) / 2))
