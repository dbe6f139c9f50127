"""The actors of the ``ray`` backend, as plain Python classes (tested without Ray).

:class:`ParameterServer` holds the global θ, the shared RMSProp statistics g, the lr and the
counters; :class:`RolloutWorker` is one actor-learner, running the process backend's worker loop
(:func:`~a3c_lib.engine.workers.run_worker`) with :class:`RemoteParams` as its ``GlobalParams``.
:mod:`a3c_lib.engine.backends.ray` turns them into actors with ``ray.remote``.

>>> ps = ParameterServer(np.zeros(2), np.zeros(2), step=0, updates=0, n_workers=2, lr=0.1,
...                      alpha=0.75, eps=0.0)
>>> _ = ps.pull(worker=0)
>>> theta, step, lag, lr, updates = ps.push(np.array([1.0, -2.0]), n_steps=32, worker=0)
>>> theta, step, lag               # RMSProp as in nn.optim's example; no other update between
(array([-0.2,  0.2]), 32, 0)
>>> ps.snapshot().counters         # [steps, updates, updates of worker 0, of worker 1]
array([32,  1,  1,  0])
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from a3c_lib.engine.backends import Snapshot
from a3c_lib.engine.workers import WorkerJob, run_worker
from a3c_lib.nn.optim import linear_decay, rmsprop_update


class ParameterServer:
    """The global θ, the shared RMSProp statistics g, the lr and the counters (one actor).

    Counters as in the process backend: [global steps, global updates, updates of each worker].
    """

    def __init__(self, theta: np.ndarray, g: np.ndarray, step: int, updates: int,
                 n_workers: int, lr: float, alpha: float, eps: float,
                 decay_steps: int | None = None) -> None:
        self.theta, self.g = np.array(theta), np.array(g)  # (P,) each, owned here
        self.counters = np.zeros(2 + n_workers, dtype=np.int64)
        self.counters[0], self.counters[1] = step, updates
        self.seen = np.zeros(n_workers, dtype=np.int64)  # global updates at each worker's θ'
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.decay_steps = decay_steps  # lr_schedule "linear": α · (1 − step / decay_steps)
        self.scratch = np.empty_like(self.theta)  # work array of the RMSProp update

    def pull(self, worker: int) -> tuple[np.ndarray, int, int]:
        """θ for ``worker`` (its θ'); return (θ, global updates, global steps) at the copy."""
        self.seen[worker] = self.counters[1]
        return self.theta, int(self.counters[1]), int(self.counters[0])

    def push(self, grad: np.ndarray, n_steps: int,
             worker: int) -> tuple[np.ndarray, int, int, float, int]:
        """θ ← RMSProp(θ, g, ∇), count ``n_steps``; return (new θ, global step, policy lag, lr,
        global updates).

        The new θ is also the worker's next θ' (its next pull, with nothing in between): one
        round trip per update instead of two.
        """
        lr = self.lr * linear_decay(int(self.counters[0]), self.decay_steps)
        rmsprop_update(self.theta, self.g, grad, lr, self.alpha, self.eps, self.scratch)
        policy_lag = int(self.counters[1] - self.seen[worker])  # others' updates since its θ'
        self.counters[0] += n_steps
        self.counters[1] += 1
        self.counters[2 + worker] += 1
        self.seen[worker] = self.counters[1]
        return self.theta, int(self.counters[0]), policy_lag, lr, int(self.counters[1])

    def set_lr(self, lr: float) -> None:
        self.lr = lr

    def snapshot(self) -> Snapshot:
        return Snapshot(self.theta.copy(), self.g.copy(), self.counters.copy())


class RemoteParams:
    """``GlobalParams`` inside a worker actor: pull and push are calls to the server actor."""

    def __init__(self, server, worker: int, ray_get) -> None:
        self.server, self.worker, self.ray_get = server, worker, ray_get
        self.fresh = None  # (θ, updates, step) from the last push: the next pull is free

    def pull(self, out: np.ndarray) -> tuple[int, int]:
        fresh = self.fresh or self.ray_get(self.server.pull.remote(self.worker))
        theta, updates, step = fresh
        out[:] = theta  # θ' ← θ
        return updates, step

    def push(self, grad: np.ndarray, n_steps: int, worker: int) -> tuple[int, int, float]:
        theta, step, policy_lag, lr, updates = self.ray_get(
            self.server.push.remote(grad, n_steps, worker))
        self.fresh = (theta, updates, step)
        return step, policy_lag, lr


class RolloutWorker:
    """One actor-learner as an actor: :func:`run` is the process backend's worker loop.

    The actor runs method calls in threads (``max_concurrency=3``): ``run`` (the loop, for the
    whole run) and, beside it, the driver's ``drain`` (long-polled), ``stop`` and ``where``.
    """

    def __init__(self, job: WorkerJob, server, t0_wall: float) -> None:
        import multiprocessing

        # the worker's name as under the process backend (logs, test-only fault envs)
        multiprocessing.current_process().name = f"a3c-worker-{job.worker_id}"
        # metrics times count from the run's start: rebase the driver's t0 onto THIS machine's
        # monotonic clock through the wall clock (NTP-synchronised across a cluster)
        self.job = job._replace(t0=time.monotonic() - (time.time() - t0_wall))
        self.server, self.outbox = server, []
        self.stop_event, self.cond = threading.Event(), threading.Condition()

    def where(self) -> tuple[str, str, int]:
        """(Ray node id, node IP, pid) of this worker: where the cluster placed it."""
        import ray

        ctx = ray.get_runtime_context()
        return ctx.get_node_id(), ray.util.get_node_ip_address(), os.getpid()

    def run(self) -> None:
        import ray

        params = RemoteParams(self.server, self.job.worker_id, ray.get)
        run_worker(self.job, params, self.stop_event.is_set, self.emit)

    def emit(self, kind: str, payload) -> None:
        with self.cond:
            self.outbox.append((kind, payload))
            self.cond.notify()

    def drain(self, timeout: float) -> list[tuple[str, object]]:
        """The messages emitted since the last drain; waits up to ``timeout`` s for one."""
        with self.cond:
            self.cond.wait_for(lambda: self.outbox, timeout)
            out, self.outbox = self.outbox, []
        return out

    def stop(self) -> None:
        self.stop_event.set()
