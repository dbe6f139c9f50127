"""The body of one actor-learner (Mnih et al. 2016, Algorithm S3), numpy + gymnasium only.

Each worker loops until told to stop or the global step budget is spent::

    θ' ← θ  (copy the global parameters)                    params.pull   (microseconds)
    collect t_max steps of its own env(s) with π_θ'          rollout.py    (no lock)
    G = n-step returns, ∇ = ∇_θ' loss(θ'; batch)             returns.py, policy.loss_and_grad
    refuse a non-finite loss/gradient; clip ‖∇‖               optim.py
    apply ∇ to the GLOBAL θ with SHARED RMSProp statistics    params.push   (~20 µs)

The loop knows neither processes nor shared memory: it talks to a :class:`GlobalParams` (pull θ,
push ∇) and reports through ``emit``. A backend (``engine/backends``) supplies both: the process
backend with one lock over a shared-memory block (``backends/process.py``, where the lock-vs-
Hogwild choice is explained), a distributed one with messages.

Departure from the paper (``envs_per_worker`` > 1): a worker may step a few envs in lockstep, so
one numpy forward pass serves several env steps; with ``envs_per_worker=1`` it is the paper's
one-env actor-learner.

Spawned processes (never forked) import this module: it must not import TensorFlow.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

import numpy as np

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.rewards import shape_rewards
from a3c_lib.engine.rollout import RolloutCollector, make_envs
from a3c_lib.engine.seeding import WorkerSeeds
from a3c_lib.nn.mlp import LossStats
from a3c_lib.nn.optim import clip_grad_norm
from a3c_lib.nn.policy import make_policy
from a3c_lib.returns import n_step_returns

FLUSH_SECONDS = 0.1  # metrics travel to the parent in batches, ~10 per second per worker


class WorkerJob(NamedTuple):
    """Everything a worker needs to build itself (picklable, small)."""

    worker_id: int
    n_envs: int  # envs stepped in lockstep by this worker
    seeds: WorkerSeeds  # its action-sampling rng and its envs' reset seeds
    config: TrainConfig  # the policy and the envs are rebuilt from it in the worker
    t0: float  # time.monotonic() when the run started (Linux: the same clock in every process)


class GlobalParams(Protocol):
    """How a worker reaches the global θ (a backend implements it)."""

    def pull(self, out: np.ndarray) -> tuple[int, int]:
        """θ' ← θ into ``out``; return (global updates, global env steps) seen at the copy."""
        ...

    def push(self, grad: np.ndarray, n_steps: int, worker: int) -> tuple[int, int, float]:
        """Apply ∇ with shared RMSProp, count ``n_steps``; return (global step after it,
        updates applied since this worker's pull = its policy lag, the lr used)."""
        ...


Emit = Callable[[str, object], None]  # emit(kind, payload): "ready" | "metrics" | "done"


def run_worker(job: WorkerJob, params: GlobalParams, should_stop: Callable[[], bool],
               emit: Emit) -> None:
    """Build the envs and the policy, then act and learn until ``should_stop()`` or the budget.

    Emits ("ready", seconds since t0), ("metrics", (episode rows, update rows)) about 10 times
    a second, and finally ("done", CPU seconds spent training). Exceptions propagate to the
    backend, which reports them.
    """
    cfg = job.config
    envs = make_envs(cfg.env_id, job.n_envs, cfg.env_kwargs)
    try:
        policy = make_policy(cfg, envs[0].observation_space, envs[0].action_space)
        collector = RolloutCollector(envs, policy, cfg.t_max, job.seeds.env_seeds,
                                     np.random.default_rng(job.seeds.rng))
        cpu_ready = time.process_time()  # CPU seconds spent on imports and env creation
        emit("ready", time.monotonic() - job.t0)
        _loop(job, policy, params, collector, should_stop, emit)
        emit("done", time.process_time() - cpu_ready)
    finally:
        for env in envs:
            env.close()


def _loop(job: WorkerJob, policy, params: GlobalParams, collector: RolloutCollector,
          should_stop: Callable[[], bool], emit: Emit) -> None:
    cfg, wid = job.config, job.worker_id
    theta_local = np.empty(policy.n_params, policy.dtype)  # θ' (P,)
    episode_rows, update_rows = [], []
    n_updates, seconds_per_update = 0, 0.0
    last_flush = last_update = time.monotonic()
    while not should_stop():
        seen_updates, step0 = params.pull(theta_local)  # θ' ← θ
        rollout, episodes = collector.collect(theta_local)
        t_max, n = rollout.rewards.shape  # (T, N)
        rewards = shape_rewards(rollout.rewards, cfg.reward_scale, cfg.reward_clip)  # (T, N)
        returns = n_step_returns(rewards, rollout.terminated, rollout.truncated,
                                 rollout.next_values, cfg.gamma)  # (T, N)
        # overflow is not warned about (stderr noise): a non-finite result is refused below
        with np.errstate(over="ignore", invalid="ignore"):
            stats, grad = policy.loss_and_grad(
                theta_local, rollout.states.reshape(t_max * n, *rollout.states.shape[2:]),
                rollout.actions.reshape(t_max * n, *rollout.actions.shape[2:]),  # (T·N, …)
                returns.reshape(-1), cfg.entropy_coef, cfg.value_coef)
            grad_norm = clip_grad_norm(grad, cfg.max_grad_norm)  # nan/inf if any entry is
        if not (math.isfinite(stats.total) and math.isfinite(grad_norm)):
            raise FloatingPointError(_non_finite_message(wid, n_updates, stats, grad_norm))
        step, policy_lag, lr = params.push(grad, t_max * n, wid)  # θ ← RMSProp(θ, g, ∇)
        n_updates += 1
        now = time.monotonic()
        # average the TIME per update, not the rates: a mean of instantaneous rates overstates
        # the speed whenever a few updates are fast and others slow (a busy machine)
        dt = now - last_update
        seconds_per_update = dt if n_updates == 1 else 0.9 * seconds_per_update + 0.1 * dt
        steps_per_second = t_max * n / max(seconds_per_update, 1e-9)
        last_update, elapsed = now, now - job.t0
        for e in episodes:  # global step at the end of the episode, to within one rollout
            episode_rows.append((wid, step0 + (e.t + 1) * n, elapsed, e.ret, e.length))
        update_rows.append((wid, step, elapsed, stats.policy_loss, stats.value_loss,
                            stats.entropy, grad_norm, policy_lag, lr, steps_per_second))
        if now - last_flush > FLUSH_SECONDS:
            emit("metrics", (episode_rows, update_rows))
            episode_rows, update_rows, last_flush = [], [], now
        if step >= cfg.max_steps:
            break
    if episode_rows or update_rows:
        emit("metrics", (episode_rows, update_rows))


def _non_finite_message(wid: int, n_updates: int, stats: LossStats, grad_norm: float) -> str:
    bad = [name for name, value in stats._asdict().items() if not math.isfinite(value)]
    if not math.isfinite(grad_norm):
        bad.append("gradient")
    return (f"non-finite {', '.join(bad)} in worker {wid} at its update {n_updates + 1} "
            f"({', '.join(f'{k}={v:.4g}' for k, v in stats._asdict().items())}, "
            f"grad_norm={grad_norm:.4g}); this update was NOT applied to the shared parameters. "
            "Try a smaller lr or max_grad_norm.")
