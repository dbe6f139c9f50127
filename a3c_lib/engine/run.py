"""TrainingRun: the parent's side of a run — spawn workers, watch them, stop them, clean up.

The parent owns the shared memory (θ, RMSProp g, lr, counters), one ``mp.Lock``, a stop
``mp.Event`` and one ``mp.Queue``. A monitor thread reads the workers' batched messages into ONE
:class:`~a3c_lib.engine.metrics.MetricsLog`, checks the stopping criteria, notices errors and dead
processes, writes checkpoints and calls the ``on_metrics`` callbacks ~4 times per second.
The 100-episode mean is taken over the episodes in the order the parent receives them: each
worker's in completion order, different workers' interleaved by batch (every ~0.1 s).
Shutdown (always, whatever ended the run): set the event, join the workers for 1 s, terminate the
stragglers, close the queue, unlink the shared memory.
"""

from __future__ import annotations

import collections
import math
import multiprocessing as mp
import numbers
import os
import queue as queue_module
import threading
import time
import traceback

import numpy as np

from a3c_lib.engine.checkpoint import load_checkpoint, save_checkpoint
from a3c_lib.engine.config import TrainConfig, validate_env
from a3c_lib.engine.metrics import EpisodeRow, MetricsLog
from a3c_lib.engine.processes import start_quietly, stop_processes
from a3c_lib.engine.results import TrainResult, make_summary
from a3c_lib.engine.shared import STEP, UPDATES, SharedState
from a3c_lib.engine.workers import WorkerArgs, parse_fault, worker_main
from a3c_lib.nn import mlp

CALLBACK_SECONDS = 0.25
JOIN_SECONDS = 1.0


class TrainingRun:
    """A running (or finished) training run; create it with ``training.start``."""

    def __init__(self, config: TrainConfig, on_metrics=None, out_dir=None, resume_from=None):
        self.t0 = time.monotonic()  # the training call's start: solve_seconds counts from here
        self.config, self.out_dir = config, out_dir
        self.metrics, self.error, self.result = MetricsLog(), None, None
        self._callbacks = list(on_metrics) if isinstance(on_metrics, list | tuple) else \
            [on_metrics] if on_metrics is not None else []
        obs_dim, n_actions = validate_env(config.env_id)
        self.spec = mlp.MLPSpec(obs_dim, n_actions, config.hidden)
        fault = parse_fault(os.environ.get("A3C_FAULT_INJECT"))
        n_procs = config.workers if config.algo == "a3c" else 1
        resumed = load_checkpoint(resume_from) if resume_from is not None else None
        if resumed is not None and resumed.theta.shape != (self.spec.n_params,):
            raise ValueError(f"resume_from holds {resumed.theta.size} parameters; this config's "
                             f"network needs {self.spec.n_params}")
        self._state_lock = threading.Lock()  # guards self._shared against the final unlink
        self._shared = SharedState.create(self.spec.n_params, n_procs)
        try:  # whatever fails from here on (even Ctrl-C) leaves nothing behind
            if resumed is None:
                rng = np.random.default_rng(config.seed)
                self._shared.theta[:] = mlp.init_theta(self.spec, rng)
            else:
                self._shared.theta[:], self._shared.g[:] = resumed.theta, resumed.rms_g
                self._shared.counters[STEP], self._shared.counters[UPDATES] = \
                    resumed.step, resumed.updates
            self._start_step = int(self._shared.counters[STEP])
            self._shared.lr[0] = config.lr
            ctx = mp.get_context("spawn")  # never fork: workers start clean (and TF-free)
            self._lock, self._stop, self._queue = ctx.Lock(), ctx.Event(), ctx.Queue()
            self._procs = []
            for i in range(n_procs):
                n_envs = config.envs_per_worker if config.algo == "a3c" else config.n_envs
                args = WorkerArgs(i, n_envs, config.seed + i * n_envs, config.seed + i, config,
                                  self.spec, self._shared.handle, self.t0, os.getpid(), fault)
                self._procs.append(ctx.Process(target=worker_main, args=(args, self._lock,
                                   self._stop, self._queue), name=f"a3c-worker-{i}", daemon=True))
            self._status = {}  # worker -> 'ready' | 'done' | 'error'
            self._ready_times, self._final_step, self._cpu_seconds = [], None, {}
            self._solved_at = None  # the EpisodeRow that reached target_return
            self._recent = collections.deque(maxlen=100)  # returns of the last 100 episodes
            self._stopped_by, self._last_checkpoint = None, int(self._shared.counters[UPDATES])
            self._done = threading.Event()
            start_quietly(self._procs)
        except BaseException:
            self._abort_start()
            raise
        self._monitor = threading.Thread(target=self._watch, name="a3c-monitor", daemon=True)
        self._monitor.start()

    # ---- public API ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return not self._done.is_set()

    @property
    def global_step(self) -> int:
        """Global env steps so far (read without the lock: an int64 load is atomic)."""
        with self._state_lock:
            if self._final_step is not None:
                return self._final_step
            return int(self._shared.counters[STEP])

    def stop(self) -> None:
        """Ask the workers to stop; returns at once (``wait()`` for the end). Idempotent."""
        if self._stopped_by is None:
            self._stopped_by = "stop"
        stop_event = self._stop  # None once the run has ended and released it
        if stop_event is not None:
            stop_event.set()

    def wait(self, timeout: float | None = None) -> TrainResult | None:
        """Block until the run has ended (or ``timeout`` s); return the result (None if running)."""
        self._done.wait(timeout)
        return self.result

    def set_lr(self, lr: float) -> None:
        """Change the learning rate of a running run; workers use it from their next update."""
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) \
                or lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
        with self._state_lock:
            if self._final_step is None:
                self._shared.lr[0] = float(lr)  # one aligned float64 store: no lock needed

    # ---- monitor thread -----------------------------------------------------------------------
    def _watch(self) -> None:
        next_callback = 0.0
        try:
            while not self._stop.is_set():
                self._drain(timeout=0.05)
                self._check_processes()
                if all(s in ("done", "error") for s in self._status.values()) \
                        and len(self._status) == len(self._procs):
                    self._stopped_by = self._stopped_by or "max_steps"
                    break
                self._maybe_checkpoint()
                if time.monotonic() >= next_callback:
                    self._call_callbacks()
                    next_callback = time.monotonic() + CALLBACK_SECONDS
        except BaseException:  # noqa: B036 - a monitor bug must end the run, not hang it
            self._fail(f"monitor thread failed:\n{traceback.format_exc()}")
        finally:
            self._stop.set()
            self._shutdown()
            self._call_callbacks()
            # drop the lock, event and queue: their named semaphores (/dev/shm/sem.mp-*) are
            # unlinked now, not when the notebook finally lets go of this run object
            self._lock = self._stop = self._queue = None
            self._done.set()

    def _drain(self, timeout: float) -> None:
        """Handle every queued message; wait up to ``timeout`` s for the first."""
        try:
            msg = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            while True:
                self._handle(*msg)
                msg = self._queue.get_nowait()
        except queue_module.Empty:
            pass

    def _handle(self, kind: str, worker: int, payload) -> None:
        if kind == "metrics":
            episodes, updates = payload
            episodes = [EpisodeRow(*row) for row in episodes]
            self.metrics.append("episodes", episodes)
            self.metrics.append("updates", updates)
            self._check_solved(episodes)
        elif kind == "ready":
            self._status[worker] = "ready"
            self._ready_times.append(payload)
        elif kind == "done":  # payload: CPU seconds the worker spent training
            self._status[worker] = "done"
            self._cpu_seconds[worker] = payload
        elif kind == "error":
            self._status[worker] = "error"
            self._fail(f"worker {worker} failed:\n{payload}")

    def _check_solved(self, rows) -> None:
        target = self.config.target_return
        for row in rows:
            self._recent.append(row.ret)
            if target is not None and self._solved_at is None and len(self._recent) == 100 \
                    and sum(self._recent) / 100 >= target:
                self._solved_at = row
                self._stopped_by = self._stopped_by or "target"
                self._stop.set()

    def _check_processes(self) -> None:
        """A worker that died without a word (segfault, OOM kill, os._exit) fails the run."""
        for i, p in enumerate(self._procs):
            if p.exitcode is not None and self._status.get(i) not in ("done", "error"):
                self._drain(timeout=0.2)  # its last words may still be in the pipe
                if self._status.get(i) not in ("done", "error"):
                    # A worker that never said "ready" died while importing: in a script run
                    # without an `if __name__ == "__main__":` guard, the spawned worker re-runs
                    # the script's top level, which tries to start training again and fails.
                    why = "(killed? out of memory?)"
                    if i not in self._status and p.exitcode == 1:  # an exception at start-up
                        why = ("before it started (running a script? put the training call "
                               "under `if __name__ == \"__main__\":`, because workers are "
                               "spawned and re-import your script)")
                    self._status[i] = "error"
                    self._fail(f"worker {i} failed:\nits process exited with code {p.exitcode} "
                               f"without reporting an error {why}")

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error, self._stopped_by = message, "error"
        self._stop.set()

    def _call_callbacks(self) -> None:
        for callback in self._callbacks:
            try:
                callback(self.metrics)
            except Exception:
                self._fail(f"on_metrics callback failed:\n{traceback.format_exc()}")

    def _maybe_checkpoint(self, force: bool = False) -> None:
        every = self.config.checkpoint_every
        if not every or self.out_dir is None or self._final_step is not None and not force:
            return
        updates = int(self._shared.counters[UPDATES])
        if updates - self._last_checkpoint >= every or force:
            with self._lock:  # a consistent snapshot of θ, g and the counters
                theta, g = self._shared.theta.copy(), self._shared.g.copy()
                step = int(self._shared.counters[STEP])
            save_checkpoint(self.out_dir, theta, g, step, updates, self.config.to_dict())
            self._last_checkpoint = updates

    # ---- shutdown -----------------------------------------------------------------------------
    def _abort_start(self) -> None:
        """Undo a half-done __init__: stop what was started, free the shared memory."""
        stop_event, procs = getattr(self, "_stop", None), getattr(self, "_procs", [])
        if stop_event is not None:
            stop_event.set()
        stop_processes([p for p in procs if p.pid is not None], drain=lambda: time.sleep(0.01),
                       join_seconds=JOIN_SECONDS)
        if getattr(self, "_queue", None) is not None:
            self._queue.cancel_join_thread()  # nobody reads it: do not block on its buffer
            self._queue.close()
        self._shared.close()
        self._shared.unlink()

    def _shutdown(self) -> None:
        stop_processes(self._procs, drain=lambda: self._drain(timeout=0.02),
                       join_seconds=JOIN_SECONDS)
        self._drain(timeout=0)
        self._queue.close()
        self._queue.join_thread()
        # every worker is gone: no lock needed (a terminated one may even have died holding it)
        theta, g = self._shared.theta.copy(), self._shared.g.copy()
        counters = self._shared.counters.copy()
        with self._state_lock:
            self._final_step = int(counters[STEP])
            self._shared.close()
            self._shared.unlink()
        if self.out_dir is not None:
            try:
                if self.config.checkpoint_every:
                    save_checkpoint(self.out_dir, theta, g, int(counters[STEP]),
                                    int(counters[UPDATES]), self.config.to_dict())
            except Exception:
                self._fail(f"saving the checkpoint to {self.out_dir} failed:\n"
                           f"{traceback.format_exc()}")
        summary = make_summary(
            config=self.config, metrics=self.metrics, counters=counters,
            start_step=self._start_step, seconds=time.monotonic() - self.t0,
            ready_seconds=max(self._ready_times) if self._ready_times else None,
            solved_at=self._solved_at, stopped_by=self._stopped_by or "stop", error=self.error,
            cpu_seconds=[self._cpu_seconds.get(i) for i in range(len(self._procs))])
        self.result = TrainResult(summary, self.metrics, theta, self.spec)
        if self.out_dir is not None:
            try:
                self.result.save(self.out_dir)
            except Exception:
                self._fail(f"saving the results to {self.out_dir} failed:\n"
                           f"{traceback.format_exc()}")
                summary["error"], summary["stopped_by"] = self.error, "error"
