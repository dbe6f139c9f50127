"""The ``process`` backend: spawned worker processes on ONE shared-memory block.

The parent owns the shared memory (θ, RMSProp g, lr, counters: ``shared.py``), one ``mp.Lock``,
a stop ``mp.Event`` and one ``mp.Queue`` for the workers' messages. Workers are started with
``spawn`` (never ``fork``: they start clean and TensorFlow-free) and import only numpy, gymnasium
and the numpy parts of a3c_lib.

Lock or Hogwild? The paper updates without locks (Hogwild, Recht et al. 2011). Here the locked
part (copy θ ~2 µs, RMSProp on ~5k parameters ~22 µs) is tiny next to the ~1.6 ms of acting and
backprop per rollout of 4 envs × 8 steps, so one ``mp.Lock`` costs < 2 % — measured: the CPU
time per env step was the same with 1 and 2 workers — and it makes every update (θ, g and the
counters together) atomic: simpler to reason about and to test (global updates == Σ worker
updates).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_module
import signal
import threading
import time
import traceback

import numpy as np

from a3c_lib.engine.backends import Snapshot
from a3c_lib.engine.processes import start_quietly, stop_processes
from a3c_lib.engine.shared import STEP, UPDATES, Handle, SharedState
from a3c_lib.engine.workers import WorkerJob, run_worker
from a3c_lib.nn.optim import linear_decay, rmsprop_update


class SharedParams:
    """``GlobalParams`` on shared memory: pull and push each hold the one lock (~µs)."""

    def __init__(self, shared: SharedState, lock, alpha: float, eps: float,
                 decay_steps: int | None = None) -> None:
        self.shared, self.lock, self.alpha, self.eps = shared, lock, alpha, eps
        self.decay_steps = decay_steps  # lr_schedule "linear": α · (1 − step / decay_steps)
        self.scratch = np.empty_like(shared.theta)  # work array of the RMSProp update
        self.seen_updates = 0  # global updates at this worker's last pull

    def pull(self, out: np.ndarray) -> tuple[int, int]:
        s = self.shared
        with self.lock:  # θ' ← θ
            out[:] = s.theta
            self.seen_updates = int(s.counters[UPDATES])
            return self.seen_updates, int(s.counters[STEP])

    def push(self, grad: np.ndarray, n_steps: int, worker: int) -> tuple[int, int, float]:
        s = self.shared
        with self.lock:  # θ ← RMSProp(θ, g, ∇); the counters move with it
            lr = float(s.lr[0]) * linear_decay(int(s.counters[STEP]), self.decay_steps)
            rmsprop_update(s.theta, s.g, grad, lr, self.alpha, self.eps, self.scratch)
            policy_lag = int(s.counters[UPDATES]) - self.seen_updates
            s.counters[STEP] += n_steps
            s.counters[UPDATES] += 1
            s.counters[2 + worker] += 1
            step = int(s.counters[STEP])
        return step, policy_lag, lr


def worker_main(job: WorkerJob, handle: Handle, lock, stop, queue, parent_pid: int) -> None:
    """Process entry point: run the worker; report its messages, or its error's traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it sets `stop`
    shared = None
    try:
        shared = SharedState.attach(handle)
        params = SharedParams(shared, lock, job.config.rms_alpha, job.config.rms_eps,
                              job.config.lr_decay_steps)
        run_worker(job, params,
                   # a worker whose parent died (kill -9 of a kernel) stops instead of spinning
                   should_stop=lambda: stop.is_set() or os.getppid() != parent_pid,
                   emit=lambda kind, payload: queue.put((kind, job.worker_id, payload)))
    except BaseException:  # noqa: B036 - everything goes to the parent, which raises it
        queue.put(("error", job.worker_id, traceback.format_exc()))
    finally:
        if os.getppid() != parent_pid:  # orphaned: nobody reads the queue any more
            queue.cancel_join_thread()
        if shared is not None:
            shared.close()


class ProcessBackend:
    """Workers as spawned processes; θ, g, lr and the counters in one SharedMemory block."""

    def __init__(self, config, n_params: int, dtype, jobs: list[WorkerJob]) -> None:
        self.config, self.jobs = config, jobs
        self._shared = SharedState.create(n_params, len(jobs), np.dtype(dtype).name)
        self._procs: list = []
        self._lock = self._stop = self._queue = None
        self._alive = threading.Lock()  # guards the shared views against the final unlink
        self._closed = False

    # ---- start ----------------------------------------------------------------------------
    def start(self, theta: np.ndarray, g: np.ndarray, step: int, updates: int,
              lr: float) -> None:
        s = self._shared
        s.theta[:], s.g[:] = theta, g
        s.counters[STEP], s.counters[UPDATES] = step, updates
        s.lr[0] = lr
        ctx = mp.get_context("spawn")  # never fork: workers start clean (and TF-free)
        self._lock, self._stop, self._queue = ctx.Lock(), ctx.Event(), ctx.Queue()
        self._procs = [ctx.Process(target=worker_main, name=f"a3c-worker-{job.worker_id}",
                                   args=(job, s.handle, self._lock, self._stop, self._queue,
                                         os.getpid()), daemon=True) for job in self.jobs]
        start_quietly(self._procs)

    # ---- while running --------------------------------------------------------------------
    def messages(self, timeout: float) -> list[tuple]:
        out = []
        try:
            out.append(self._queue.get(timeout=timeout) if timeout > 0
                       else self._queue.get_nowait())
            while True:
                out.append(self._queue.get_nowait())
        except queue_module.Empty:
            pass
        return out

    def exited(self) -> dict[int, int]:
        return {i: p.exitcode for i, p in enumerate(self._procs) if p.exitcode is not None}

    def global_step(self) -> int:
        with self._alive:  # (not the workers' lock: an aligned int64 load is atomic)
            return self._final_step if self._closed else int(self._shared.counters[STEP])

    def snapshot(self, timeout: float) -> Snapshot | None:
        if not self._lock.acquire(timeout=timeout):  # a worker may have died holding it
            return None
        try:
            s = self._shared
            return Snapshot(s.theta.copy(), s.g.copy(), s.counters.copy())
        finally:
            self._lock.release()

    def set_lr(self, lr: float) -> None:
        with self._alive:
            if not self._closed:
                self._shared.lr[0] = lr  # one aligned float64 store: no workers' lock needed

    def request_stop(self) -> None:
        stop = self._stop
        if stop is not None:
            stop.set()

    # ---- the end --------------------------------------------------------------------------
    def shutdown(self, on_message, join_seconds: float) -> Snapshot:
        """Stop, join, terminate stragglers, final snapshot, free everything (once)."""
        if self._stop is not None:
            self._stop.set()

        def drain(timeout: float = 0.02) -> None:
            if self._queue is None:
                time.sleep(0.01)
                return
            for msg in self.messages(timeout):
                on_message(msg)

        stop_processes([p for p in self._procs if p.pid is not None], drain=drain,
                       join_seconds=join_seconds)
        if self._queue is not None:
            drain(0)
            self._queue.cancel_join_thread()  # nobody reads it any more: never block on it
            self._queue.close()
        # every worker is gone: no lock needed (a terminated one may even have died holding it)
        s = self._shared
        final = Snapshot(s.theta.copy(), s.g.copy(), s.counters.copy())
        with self._alive:
            self._closed, self._final_step = True, int(final.counters[STEP])
            s.close()
            s.unlink()
        # drop the lock, event and queue: their named semaphores (/dev/shm/sem.mp-*) go now,
        # not when the notebook finally lets go of the run object
        self._lock = self._stop = self._queue = None
        return final
