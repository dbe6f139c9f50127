"""The ``process`` backend: spawned worker processes on ONE shared-memory block.

The parent owns the shared memory (θ, RMSProp g, lr, counters and the stop flag: ``shared.py``),
one ``mp.Lock`` for θ and one one-way pipe per worker for its messages. Workers are started with
``spawn`` (never ``fork``: they start clean and TensorFlow-free) and import only numpy, gymnasium
and the numpy parts of a3c_lib.

A worker can be killed (SIGKILL, the out-of-memory killer) at ANY instruction, so the parent never
waits on anything a dead worker could leave half done: it takes θ's lock only with a timeout; it
stops the workers by storing 1 in shared memory (an ``mp.Event`` would hide a lock that a worker
killed inside ``is_set()`` keeps forever); and each worker writes to its OWN pipe (an ``mp.Queue``
shares one write lock among all workers, and a message cut short in a shared pipe leaves the
reader waiting for bytes that never come). A pipe whose only writer died reads as end-of-file.

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
import signal
import threading
import time
import traceback
from multiprocessing.connection import wait as wait_for_readable

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


def worker_main(job: WorkerJob, handle: Handle, lock, conn, parent_pid: int) -> None:
    """Process entry point: run the worker; send its messages, or its error's traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it sets `stop`
    shared = stop = None
    try:
        shared = SharedState.attach(handle)
        params = SharedParams(shared, lock, job.config.rms_alpha, job.config.rms_eps,
                              job.config.lr_decay_steps)
        stop = shared.stop
        run_worker(job, params,
                   # a worker whose parent died (kill -9 of a kernel) stops instead of spinning
                   should_stop=lambda: stop[0] != 0 or os.getppid() != parent_pid,
                   emit=lambda kind, payload: conn.send((kind, job.worker_id, payload)))
    except BaseException:  # noqa: B036 - everything goes to the parent, which raises it
        try:
            conn.send(("error", job.worker_id, traceback.format_exc()))
        except OSError:  # the parent is gone (or closed the pipe): nobody to tell
            pass
    finally:
        conn.close()
        stop = None  # (a view into the block: it must go before the block is unmapped)
        if shared is not None:
            shared.close()


def _widen(conn, size: int = 1 << 20):
    """Give a pipe 1 MiB of buffer where the OS allows it (Linux; default 64 KiB), so that a
    worker's ``send`` of its ~10 metrics batches a second never waits on a parent that is busy
    for a moment (a checkpoint, a notebook cell). Elsewhere, or if refused, keep the default."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, size)
    except (ImportError, AttributeError, OSError):
        pass
    return conn


class ProcessBackend:
    """Workers as spawned processes; θ, g, lr and the counters in one SharedMemory block."""

    def __init__(self, config, n_params: int, dtype, jobs: list[WorkerJob]) -> None:
        self.config, self.jobs = config, jobs
        self._shared = SharedState.create(n_params, len(jobs), np.dtype(dtype).name)
        self._procs: list = []
        self._lock = None
        self._readers: list = []  # our end of each worker's pipe, until it reads end-of-file
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
        self._lock = ctx.Lock()
        pipes = [ctx.Pipe(duplex=False) for _ in self.jobs]  # (reader, writer) per worker
        self._readers = [_widen(reader) for reader, _ in pipes]
        writers = [writer for _, writer in pipes]
        self._procs = [ctx.Process(target=worker_main, name=f"a3c-worker-{job.worker_id}",
                                   args=(job, s.handle, self._lock, writer, os.getpid()),
                                   daemon=True)
                       for job, writer in zip(self.jobs, writers, strict=True)]
        try:
            start_quietly(self._procs)
        finally:
            for writer in writers:  # each child has its own copy: ours must go, or a dead
                writer.close()      # worker's pipe would never read as end-of-file

    # ---- while running --------------------------------------------------------------------
    def messages(self, timeout: float) -> list[tuple]:
        out: list[tuple] = []
        ready = wait_for_readable(self._readers, timeout=max(timeout, 0.0))
        while ready and len(out) < 1000:  # (a cap: the monitor must come back to its checks)
            for reader in ready:
                try:
                    out.append(reader.recv())
                except (EOFError, OSError):  # its worker has ended, maybe mid-message; the
                    self._readers.remove(reader)  # run learns how from exited() and from
                    reader.close()                # the messages that came before
            ready = wait_for_readable(self._readers, timeout=0)
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
        with self._alive:
            if not self._closed:
                self._shared.stop[0] = 1  # one aligned int64 store; the workers poll it

    # ---- the end --------------------------------------------------------------------------
    def shutdown(self, on_message, join_seconds: float) -> Snapshot:
        """Stop, join, terminate stragglers, final snapshot, free everything (once)."""
        self.request_stop()

        def drain(timeout: float = 0.02) -> None:
            if not self._readers:
                time.sleep(0.01)
                return
            for msg in self.messages(timeout):
                on_message(msg)

        stop_processes([p for p in self._procs if p.pid is not None], drain=drain,
                       join_seconds=join_seconds)
        drain(0)
        for reader in self._readers:  # every worker is gone: what is left unread never comes
            reader.close()
        self._readers = []
        # every worker is gone: no lock needed (a terminated one may even have died holding it)
        s = self._shared
        final = Snapshot(s.theta.copy(), s.g.copy(), s.counters.copy())
        with self._alive:
            self._closed, self._final_step = True, int(final.counters[STEP])
            s.close()
            s.unlink()
        # drop the lock: its named semaphore (/dev/shm/sem.mp-*) goes now, not when the notebook
        # finally lets go of the run object
        self._lock = None
        return final
