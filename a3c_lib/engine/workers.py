"""The body of one actor-learner process (Mnih et al. 2016, Algorithm S3), numpy + gymnasium only.

Each worker loops until the stop event is set or the global step budget is spent::

    copy the global θ into a local θ'                       (under the lock; microseconds)
    collect t_max steps of its own env(s) with π_θ'          (rollout.py; no lock)
    G = n-step returns, ∇ = ∇_θ' loss(θ'; batch)             (returns.py, mlp.py; no lock)
    refuse a non-finite loss/gradient; clip ‖∇‖               (optim.py)
    apply ∇ to the GLOBAL θ with SHARED RMSProp statistics    (under the lock; ~20 µs)

Lock or Hogwild? The paper updates without locks (Hogwild, Recht et al. 2011). Here the locked
part (copy θ ~2 µs, RMSProp on ~5k parameters ~22 µs) is tiny next to the ~1.6 ms of acting and
backprop per rollout of 4 envs × 8 steps, so one ``mp.Lock`` costs < 2 % — measured: the CPU
time per env step was the same with 1 and 2 workers — and it makes every update (θ, g and the
counters together) atomic: simpler to reason about and to test (global updates == Σ worker
updates).

Departure from the paper (``envs_per_worker`` > 1): a worker may step a few envs in lockstep, so
one numpy forward pass serves several env steps; with ``envs_per_worker=1`` it is the paper's
one-env actor-learner.

Spawned processes (never forked) import this module: it must not import TensorFlow.
"""

from __future__ import annotations

import math
import os
import signal
import time
import traceback
from typing import NamedTuple

import numpy as np

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.rollout import RolloutCollector, make_envs
from a3c_lib.engine.shared import STEP, UPDATES, Handle, SharedState
from a3c_lib.nn import mlp
from a3c_lib.nn.optim import clip_grad_norm, rmsprop_update
from a3c_lib.returns import n_step_returns

FLUSH_SECONDS = 0.1  # metrics travel to the parent in batches, ~10 per second per worker


class WorkerArgs(NamedTuple):
    worker_id: int
    n_envs: int  # envs stepped in lockstep by this process
    env_seed: int  # env j is seeded with env_seed + j
    rng_seed: int  # seed of the action-sampling rng
    config: TrainConfig
    spec: mlp.MLPSpec
    handle: Handle
    t0: float  # time.monotonic() when the run started (Linux: the same clock in every process)
    parent_pid: int  # a worker whose parent died (kill -9 of a kernel) stops instead of spinning
    fault: tuple[int, int, str] | None  # test hook: (worker, after_updates, raise|nan|exit|hang)


def parse_fault(text: str | None) -> tuple[int, int, str] | None:
    """Parse the test-only hook ``A3C_FAULT_INJECT="worker:1:after_updates:3[:raise|nan|exit]"``.

    >>> parse_fault("worker:1:after_updates:3:nan")
    (1, 3, 'nan')
    >>> parse_fault("") is None
    True
    """
    if not text:
        return None
    parts = text.split(":")
    mode = parts[4] if len(parts) == 5 else "raise"
    if (len(parts) not in (4, 5) or parts[0] != "worker" or parts[2] != "after_updates"
            or mode not in ("raise", "nan", "exit", "hang")):
        raise ValueError(f"A3C_FAULT_INJECT must look like 'worker:1:after_updates:3[:raise|nan|"
                         f"exit|hang]', got {text!r}")
    return int(parts[1]), int(parts[3]), mode


def worker_main(args: WorkerArgs, lock, stop, queue) -> None:
    """Process entry point: run until stopped; report metrics, 'done' or the error's traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it sets `stop`
    shared = collector = None
    try:
        shared = SharedState.attach(args.handle)
        collector = RolloutCollector(make_envs(args.config.env_id, args.n_envs, args.env_seed),
                                     args.spec, args.config.t_max, args.env_seed,
                                     np.random.default_rng(args.rng_seed))
        cpu_ready = time.process_time()  # CPU seconds spent on imports and env creation
        queue.put(("ready", args.worker_id, time.monotonic() - args.t0))
        _loop(args, shared, collector, lock, stop, queue)
        if os.getppid() != args.parent_pid:  # orphaned: nobody reads the queue any more
            queue.cancel_join_thread()
        else:
            queue.put(("done", args.worker_id, time.process_time() - cpu_ready))
    except BaseException:  # noqa: B036 - everything goes to the parent, which raises it
        queue.put(("error", args.worker_id, traceback.format_exc()))
    finally:
        if collector is not None:
            collector.close()
        if shared is not None:
            shared.close()


def _loop(args: WorkerArgs, shared: SharedState, collector: RolloutCollector, lock, stop,
          queue) -> None:
    cfg, spec, wid = args.config, args.spec, args.worker_id
    theta_local = np.empty(spec.n_params)  # θ' (P,)
    scratch = np.empty(spec.n_params)  # work array of the RMSProp update
    episode_rows, update_rows = [], []
    n_updates, seconds_per_update = 0, 0.0
    last_flush = last_update = time.monotonic()
    while not stop.is_set() and os.getppid() == args.parent_pid:
        with lock:  # θ' ← θ
            theta_local[:] = shared.theta
            seen_updates = int(shared.counters[UPDATES])
            step0 = int(shared.counters[STEP])
        rollout, episodes = collector.collect(theta_local)
        t_max, n = rollout.rewards.shape  # (T, N)
        returns = n_step_returns(rollout.rewards, rollout.terminated, rollout.truncated,
                                 rollout.next_values, cfg.gamma)  # (T, N)
        # overflow is not warned about (stderr noise): a non-finite result is refused below
        with np.errstate(over="ignore", invalid="ignore"):
            stats, grad = mlp.loss_and_grad(
                spec, theta_local, rollout.states.reshape(t_max * n, spec.obs_dim),  # (T·N, obs)
                rollout.actions.reshape(-1), returns.reshape(-1), cfg.entropy_coef,
                cfg.value_coef)
            if args.fault and args.fault[0] == wid and n_updates == args.fault[1]:
                _inject(args.fault[2], grad)
            grad_norm = clip_grad_norm(grad, cfg.max_grad_norm)  # nan/inf if any entry is
        if not (math.isfinite(stats.total) and math.isfinite(grad_norm)):
            raise FloatingPointError(_non_finite_message(wid, n_updates, stats, grad_norm))
        with lock:  # θ ← RMSProp(θ, g, ∇), the counters move with it
            lr = float(shared.lr[0])
            rmsprop_update(shared.theta, shared.g, grad, lr, cfg.rms_alpha, cfg.rms_eps, scratch)
            policy_lag = int(shared.counters[UPDATES]) - seen_updates
            shared.counters[STEP] += t_max * n
            shared.counters[UPDATES] += 1
            shared.counters[2 + wid] += 1
            step = int(shared.counters[STEP])
        n_updates += 1
        now = time.monotonic()
        # average the TIME per update, not the rates: a mean of instantaneous rates overstates
        # the speed whenever a few updates are fast and others slow (a busy machine)
        dt = now - last_update
        seconds_per_update = dt if n_updates == 1 else 0.9 * seconds_per_update + 0.1 * dt
        steps_per_second = t_max * n / max(seconds_per_update, 1e-9)
        last_update, elapsed = now, now - args.t0
        for e in episodes:  # global step at the end of the episode, to within one rollout
            episode_rows.append((wid, step0 + (e.t + 1) * n, elapsed, e.ret, e.length))
        update_rows.append((wid, step, elapsed, stats.policy_loss, stats.value_loss,
                            stats.entropy, grad_norm, policy_lag, lr, steps_per_second))
        if now - last_flush > FLUSH_SECONDS:
            queue.put(("metrics", wid, (episode_rows, update_rows)))
            episode_rows, update_rows, last_flush = [], [], now
        if step >= cfg.max_steps:
            break
    if episode_rows or update_rows:
        queue.put(("metrics", wid, (episode_rows, update_rows)))


def _inject(mode: str, grad: np.ndarray) -> None:
    if mode == "raise":
        raise RuntimeError("fault injected by A3C_FAULT_INJECT")
    if mode == "nan":
        grad[0] = np.nan
    elif mode == "exit":
        os._exit(3)  # dies without a word: the parent must notice the dead process
    elif mode == "hang":
        time.sleep(3600)


def _non_finite_message(wid: int, n_updates: int, stats: mlp.LossStats, grad_norm: float) -> str:
    bad = [name for name, value in stats._asdict().items() if not math.isfinite(value)]
    if not math.isfinite(grad_norm):
        bad.append("gradient")
    return (f"non-finite {', '.join(bad)} in worker {wid} at its update {n_updates + 1} "
            f"({', '.join(f'{k}={v:.4g}' for k, v in stats._asdict().items())}, "
            f"grad_norm={grad_norm:.4g}); this update was NOT applied to the shared parameters. "
            "Try a smaller lr or max_grad_norm.")
