"""TrainingRun: the parent's side of a run — start the workers, watch them, stop, save.

The run knows no processes: a backend (``engine/backends``; ``config.backend``) runs the workers
and holds the global θ. A monitor thread reads the workers' batched messages into ONE
:class:`~a3c_lib.engine.metrics.MetricsLog`, checks the stopping criteria (target return, the
global step budget), notices errors and dead workers, writes checkpoints and calls the
``on_metrics`` callbacks ~4 times per second. The 100-episode mean is taken over the episodes
in the order the parent receives them: each worker's in completion order, different workers'
interleaved by batch (every ~0.1 s).

The end (always, whatever ended the run): the backend stops the workers (1 s to finish, then
SIGTERM) and frees its resources; then the results are saved; only then is the run done —
``wait()`` returns and a new run may start.
"""

from __future__ import annotations

import collections
import math
import numbers
import threading
import time
import traceback

import numpy as np

from a3c_lib.engine.backends import make_backend
from a3c_lib.engine.checkpoint import load_checkpoint, save_checkpoint
from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.envs import env_spaces
from a3c_lib.engine.metrics import EpisodeRow, MetricsLog
from a3c_lib.engine.results import TrainResult, make_summary
from a3c_lib.engine.seeding import run_seeds
from a3c_lib.engine.shared import STEP, UPDATES
from a3c_lib.engine.workers import WorkerJob
from a3c_lib.nn.policy import make_policy

CALLBACK_SECONDS = 0.25
JOIN_SECONDS = 1.0
SNAPSHOT_TIMEOUT = 1.0  # a checkpoint never waits longer for the workers' lock


class TrainingRun:
    """A running (or finished) training run; create it with ``training.start``."""

    def __init__(self, config: TrainConfig, on_metrics=None, out_dir=None, resume_from=None):
        self.t0 = time.monotonic()  # the training call's start: solve_seconds counts from here
        self.config, self.out_dir = config, out_dir
        self.metrics, self.error, self.result = MetricsLog(), None, None
        self._callbacks = list(on_metrics) if isinstance(on_metrics, list | tuple) else \
            [on_metrics] if on_metrics is not None else []
        obs_space, action_space = env_spaces(config.env_id, config.env_kwargs)
        try:
            self.policy = make_policy(config, obs_space, action_space)
        except ValueError as err:
            raise ValueError(f"env_id {config.env_id!r}: {err}") from None
        n_procs = config.workers if config.algo == "a3c" else 1
        n_envs = config.envs_per_worker if config.algo == "a3c" else config.n_envs
        resumed = load_checkpoint(resume_from) if resume_from is not None else None
        if resumed is not None and resumed.theta.shape != (self.policy.n_params,):
            raise ValueError(f"resume_from holds {resumed.theta.size} parameters; this config's "
                             f"network needs {self.policy.n_params}")
        seeds = run_seeds(config.seed, n_procs, n_envs)
        jobs = [WorkerJob(i, n_envs, seeds.workers[i], config, self.t0) for i in range(n_procs)]
        self._backend = make_backend(config, self.policy.n_params, self.policy.dtype, jobs)
        self._n_workers = n_procs
        self._status = {}  # worker -> 'ready' | 'done' | 'error'
        self._ready_times, self._cpu_seconds = [], {}
        self._solved_at = None  # the EpisodeRow that reached target_return
        self._recent = collections.deque(maxlen=100)  # returns of the last 100 episodes
        self._stopped_by = None
        self._stop_requested, self._done = threading.Event(), threading.Event()
        try:  # whatever fails from here on (even Ctrl-C) leaves nothing behind
            if resumed is None:
                theta = self.policy.init_params(np.random.default_rng(seeds.init))
                g, step, updates = np.zeros_like(theta), 0, 0
            else:
                theta, g, step, updates = resumed.theta, resumed.rms_g, resumed.step, \
                    resumed.updates
            self._start_step, self._updates_seen = step, updates
            self._last_checkpoint = updates
            self._backend.start(theta, g, step, updates, config.lr)
        except BaseException:
            self._backend.shutdown(lambda msg: None, JOIN_SECONDS)
            raise
        self._monitor = threading.Thread(target=self._watch, name="a3c-monitor", daemon=True)
        self._monitor.start()

    # ---- public API ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return not self._done.is_set()

    @property
    def global_step(self) -> int:
        """Global env steps so far."""
        return self._backend.global_step()

    def stop(self) -> None:
        """Ask the workers to stop; returns at once (``wait()`` for the end). Idempotent."""
        if self._stopped_by is None:
            self._stopped_by = "stop"
        self._stop_requested.set()
        self._backend.request_stop()

    def wait(self, timeout: float | None = None) -> TrainResult | None:
        """Block until the run is COMPLETELY over (workers gone, results saved) or ``timeout``
        seconds have passed; return the result, or None while it is still running."""
        if not self._done.wait(timeout):
            return None
        return self.result

    def set_lr(self, lr: float) -> None:
        """Change the learning rate of a running run; workers use it from their next update."""
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) \
                or lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
        self._backend.set_lr(float(lr))

    # ---- monitor thread -----------------------------------------------------------------------
    def _watch(self) -> None:
        next_callback = 0.0
        try:
            while not self._stop_requested.is_set():
                for msg in self._backend.messages(timeout=0.05):
                    self._handle(*msg)
                self._check_workers()
                if len(self._status) == self._n_workers and \
                        all(s in ("done", "error") for s in self._status.values()):
                    self._stopped_by = self._stopped_by or "max_steps"
                    break
                # the budget is spent: end now, even if a hung worker never says "done"
                if self._backend.global_step() >= self.config.max_steps:
                    self._stopped_by = self._stopped_by or "max_steps"
                    break
                self._maybe_checkpoint()
                if time.monotonic() >= next_callback:
                    self._call_callbacks()
                    next_callback = time.monotonic() + CALLBACK_SECONDS
        except BaseException:  # noqa: B036 - a monitor bug must end the run, not hang it
            self._fail(f"monitor thread failed:\n{traceback.format_exc()}")
        finally:
            result = None
            try:
                result = self._finish()
            except BaseException:  # noqa: B036 - the run must end, whatever happens
                self._fail(f"finishing the run failed:\n{traceback.format_exc()}")
            finally:
                self.result = result
                self._call_callbacks()
                self._done.set()  # the LAST thing: wait() returns only now

    def _handle(self, kind: str, worker: int, payload) -> None:
        if kind == "metrics":
            episodes, updates = payload
            episodes = [EpisodeRow(*row) for row in episodes]
            self.metrics.append("episodes", episodes)
            self.metrics.append("updates", updates)
            self._updates_seen += len(updates)
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
                self._stop_requested.set()

    def _check_workers(self) -> None:
        """A worker that died without a word (segfault, OOM kill, os._exit) fails the run.

        Once a stop is requested (Stop, or a failure already reported), workers are SUPPOSED to
        end: ``stop()`` comes from another thread, so a worker can end within this very pass of
        the monitor loop, before its "done" has arrived (the Ray backend delivers it through a
        separate drain call), and must not be reported as dead.
        """
        if self._stop_requested.is_set():
            return
        for i, code in self._backend.exited().items():
            if self._status.get(i) in ("done", "error"):
                continue
            for msg in self._backend.messages(timeout=0.2):  # its last words may be in transit
                self._handle(*msg)
            if self._status.get(i) in ("done", "error"):
                continue
            # A worker that never said "ready" died while importing: in a script run without
            # an `if __name__ == "__main__":` guard, the spawned worker re-runs the script's top
            # level, which tries to start training again and fails.
            why = "(killed? out of memory?)"
            if i not in self._status and code == 1:  # an exception at start-up
                why = ("before it started (running a script? put the training call under "
                       "`if __name__ == \"__main__\":`, because workers are spawned and "
                       "re-import your script)")
            self._status[i] = "error"
            self._fail(f"worker {i} failed:\nits process exited with code {code} without "
                       f"reporting an error {why}")

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error, self._stopped_by = message, "error"
        self._stop_requested.set()
        self._backend.request_stop()

    def _call_callbacks(self) -> None:
        for callback in self._callbacks:
            try:
                callback(self.metrics)
            except Exception:
                self._fail(f"on_metrics callback failed:\n{traceback.format_exc()}")

    def _maybe_checkpoint(self) -> None:
        every = self.config.checkpoint_every
        # the update count from the workers' messages is only the TRIGGER; what is saved (θ, g
        # and ALL counters) comes from one consistent snapshot
        if not every or self.out_dir is None or self._updates_seen - self._last_checkpoint < every:
            return
        snap = self._backend.snapshot(timeout=SNAPSHOT_TIMEOUT)
        if snap is None:  # the lock is held too long (a worker died holding it?): not now
            return
        self._save_checkpoint(snap)

    def _save_checkpoint(self, snap) -> None:
        save_checkpoint(self.out_dir, snap.theta, snap.g, int(snap.counters[STEP]),
                        int(snap.counters[UPDATES]), self.config.to_dict())
        self._last_checkpoint = int(snap.counters[UPDATES])

    # ---- the end ------------------------------------------------------------------------------
    def _finish(self) -> TrainResult:
        """Stop the workers, free the backend, save the checkpoint and the results."""
        self._backend.request_stop()
        final = self._backend.shutdown(lambda msg: self._handle(*msg), JOIN_SECONDS)
        if self.out_dir is not None and self.config.checkpoint_every:
            try:
                self._save_checkpoint(final)
            except Exception:
                self._fail(f"saving the checkpoint to {self.out_dir} failed:\n"
                           f"{traceback.format_exc()}")
        summary = make_summary(
            config=self.config, metrics=self.metrics, counters=final.counters,
            start_step=self._start_step, seconds=time.monotonic() - self.t0,
            ready_seconds=max(self._ready_times) if self._ready_times else None,
            solved_at=self._solved_at, stopped_by=self._stopped_by or "stop", error=self.error,
            cpu_seconds=[self._cpu_seconds.get(i) for i in range(self._n_workers)])
        result = TrainResult(summary, self.metrics, final.theta, self.policy)
        if self.out_dir is not None:
            try:
                result.save(self.out_dir)
            except Exception:
                self._fail(f"saving the results to {self.out_dir} failed:\n"
                           f"{traceback.format_exc()}")
                summary["error"], summary["stopped_by"] = self.error, "error"
        return result
