"""A3C's asynchrony in ONE process: workers as Python generators, interleaved by a scheduler.

Notebook 06 shows this page before the real engine. Each worker repeats Algorithm S3 of Mnih
et al. 2016 on its own environment::

    θ' ← θ                      copy the global parameters (and remember their version)
    act t_max steps with π_θ'   yielding to the scheduler after EVERY environment step
    ∇ on θ', applied to θ       one RMSProp step on the global θ and the shared statistics g

A worker is a generator, so ``next(worker)`` runs it until its next step is done; the scheduler
decides which worker moves next, as an operating system decides which process runs. While one
worker acts, the others may update θ: its gradient then lands on parameters it never saw. The
number of such foreign updates is the gradient's **policy lag**. The real engine
(:mod:`a3c_lib.engine`) runs the same loop in worker processes on shared memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from a3c_lib.actor_critic import LoopConfig, make_env
from a3c_lib.nn import mlp
from a3c_lib.nn.optim import clip_grad_norm, rmsprop_update
from a3c_lib.returns import n_step_returns

SCHEDULES = ("round_robin", "random")


@dataclass
class GlobalParams:
    """The global θ, RMSProp's shared statistics g, and a version counter (+1 per update)."""

    theta: np.ndarray  # (P,)
    g: np.ndarray  # (P,)
    version: int = 0
    log: list = field(default_factory=list)  # one UpdateRecord per update, in order
    episode_returns: list = field(default_factory=list)  # (worker, return) of every episode


class UpdateRecord(NamedTuple):
    """One update of the global θ."""

    worker: int  # who applied it
    tick: int  # the scheduler's tick at which it was applied
    copied: int  # version of θ the worker copied before acting
    applied_to: int  # version of θ the gradient was applied to
    lag: int  # applied_to − copied: updates by others the gradient never saw


def worker(i: int, shared: GlobalParams, spec: mlp.MLPSpec, hp: LoopConfig, seed: int,
           clock: list[int]) -> Iterator[None]:
    """Worker ``i`` as a generator: yields after every environment step, forever.

    ``clock[0]`` is the scheduler's tick (read only, for the log). The worker has its own
    environment (seeded ``seed + i``) and its own random generator.
    """
    env, rng = make_env(), np.random.default_rng(seed + i)
    obs, _ = env.reset(seed=seed + i)
    T = hp.t_max
    while True:
        theta_local, copied = shared.theta.copy(), shared.version  # θ' ← θ
        states, actions, rewards = np.zeros((T, spec.obs_dim)), np.zeros(T, np.int64), np.zeros(T)
        terminated, truncated, next_values = np.zeros(T, bool), np.zeros(T, bool), np.zeros(T)
        for t in range(T):
            logits, _ = mlp.forward(spec, theta_local, obs[None])  # (1, A) with the STALE copy
            actions[t] = mlp.sample_actions(logits, rng)[0]
            states[t] = obs
            obs, rewards[t], terminated[t], truncated[t], _ = env.step(actions[t])
            if terminated[t] or truncated[t]:
                next_values[t] = mlp.forward(spec, theta_local, obs[None])[1][0]
                obs, _ = env.reset()
                shared.episode_returns.append((i, float(env.return_queue[-1])))
            yield  # ← the scheduler may now run another worker
        if not (terminated[-1] or truncated[-1]):
            next_values[-1] = mlp.forward(spec, theta_local, obs[None])[1][0]
        returns = n_step_returns(rewards, terminated, truncated, next_values, hp.gamma)  # (T,)
        _, grad = mlp.loss_and_grad(spec, theta_local, states, actions, returns,
                                    entropy_coef=hp.entropy_coef, value_coef=hp.value_coef)
        clip_grad_norm(grad, hp.max_grad_norm)
        rmsprop_update(shared.theta, shared.g, grad, hp.lr, hp.rms_alpha, hp.rms_eps)  # GLOBAL θ
        shared.log.append(UpdateRecord(i, clock[0], copied, shared.version,
                                       shared.version - copied))
        shared.version += 1


def run(n_workers: int = 2, n_updates: int = 100, schedule: str = "random",
        hp: LoopConfig | None = None, seed: int = 0,
        hidden: tuple[int, ...] = (64, 64)) -> GlobalParams:
    """Interleave ``n_workers`` generator workers until the global θ received ``n_updates``.

    Args:
        n_workers: number of workers, int >= 1.
        n_updates: stop after this many updates of the global θ, int >= 1.
        schedule: "round_robin" (one step of each worker in turn) or "random" (each tick a
            worker chosen uniformly at random, like an operating system under load).
        hp: hyperparameters (default ``LoopConfig()``).
        seed: seeds θ, the scheduler, and worker i's environment and sampling (seed + i).
        hidden: widths of the shared tanh trunk.

    Returns:
        The global parameters, with the log of every update.

    >>> shared = run(n_workers=2, n_updates=4, schedule="round_robin", hidden=(8,))
    >>> [(r.worker, r.lag) for r in shared.log]   # each gradient missed the other's update
    [(0, 0), (1, 1), (0, 1), (1, 1)]
    """
    for name, value in (("n_workers", n_workers), ("n_updates", n_updates)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    hp = LoopConfig() if hp is None else hp
    spec = mlp.MLPSpec(4, 2, hidden=tuple(hidden))  # CartPole-v1
    rng = np.random.default_rng(seed)
    theta = mlp.init_theta(spec, rng)  # (P,)
    shared = GlobalParams(theta, np.zeros_like(theta))
    clock = [0]
    workers = [worker(i, shared, spec, hp, seed, clock) for i in range(n_workers)]
    while shared.version < n_updates:
        i = clock[0] % n_workers if schedule == "round_robin" else int(rng.integers(n_workers))
        next(workers[i])  # worker i takes one environment step (and maybe updates θ)
        clock[0] += 1
    for w in workers:
        w.close()  # ends the generators
    return shared


def lag_table(log: list[UpdateRecord], start: int = 0, n: int = 10) -> str:
    """Rows ``start … start + n − 1`` of an update log as a small text table.

    >>> print(lag_table([UpdateRecord(1, 15, 0, 1, 1)]))
    update  worker  tick  copied θ_v  applied to θ_v  policy lag
         1       1    15           0               1           1
    """
    lines = ["update  worker  tick  copied θ_v  applied to θ_v  policy lag"]
    for k, r in enumerate(log[start:start + n], start=start + 1):
        lines.append(f"{k:6d}  {r.worker:6d}  {r.tick:4d}  {r.copied:10d}  {r.applied_to:14d}"
                     f"  {r.lag:10d}")
    return "\n".join(lines)
