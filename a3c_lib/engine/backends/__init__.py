"""Backends: HOW the workers of a run execute. ``config.backend`` picks one by name.

:class:`~a3c_lib.engine.run.TrainingRun` (the monitor, the MetricsLog, the stopping criteria,
checkpoints and results) knows no processes: it talks to a :class:`Backend`. Today's backend is
``"process"`` (spawned processes on one shared-memory block, ``process.py``); a distributed one
(e.g. Ray) registers itself next to it with :func:`register_backend`.

What a backend must do (the run calls these from ONE monitor thread, except ``set_lr`` and
``request_stop``, which may come from any thread and must return at once):

* ``__init__(config, n_params, dtype, jobs)`` — hold the global θ, the RMSProp statistics g,
  the lr and the counters (global steps, global updates, updates per worker) in ``dtype``;
  ``jobs`` are the :class:`~a3c_lib.engine.workers.WorkerJob` of each worker.
* ``start(theta, g, step, updates, lr)`` — set the initial state, then start one worker per job;
  each runs :func:`~a3c_lib.engine.workers.run_worker` with a ``GlobalParams`` whose pull/push
  are atomic (θ, g and the counters move together), and stops when asked or when the budget
  is spent. Must not block for long (no waiting for the workers to be up).
* ``messages(timeout) -> list[(kind, worker, payload)]`` — what workers emitted ("ready",
  "metrics", "done") and ("error", worker, traceback text) for a worker's exception; waits up
  to ``timeout`` s for the first.
* ``exited() -> dict[worker, exit code]`` — workers that are gone (for whatever reason); the run
  decides which of them died without a word.
* ``global_step() -> int`` — cheap, lock-free read of the global env-step counter.
* ``snapshot(timeout) -> Snapshot | None`` — a CONSISTENT copy of θ, g and the counters; None
  if it cannot get one within ``timeout`` s (a worker may have died holding a lock: never block).
* ``set_lr(lr)``, ``request_stop()`` — as named; idempotent.
* ``shutdown(on_message, join_seconds) -> Snapshot`` — stop the workers, deliver their last
  messages to ``on_message`` while waiting up to ``join_seconds``, terminate the stragglers, take
  the final snapshot (no worker is left, so no lock is needed) and free every resource (shared
  memory, semaphores, queues). Called exactly once, whatever ended the run; must not hang.

>>> sorted(BACKENDS)
['process', 'ray']
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Snapshot(NamedTuple):
    """A consistent copy of the global state."""

    theta: np.ndarray  # (P,) global parameters
    g: np.ndarray  # (P,) shared RMSProp statistics
    counters: np.ndarray  # int64 [global steps, global updates, updates of worker 0 … W-1]


def _process_backend(*args, **kwargs):
    from a3c_lib.engine.backends.process import ProcessBackend

    return ProcessBackend(*args, **kwargs)


def _ray_backend(*args, **kwargs):
    from a3c_lib.engine.backends.ray import RayBackend  # imports Ray only when asked for

    return RayBackend(*args, **kwargs)


#: name -> class/factory(config, n_params, dtype, jobs) -> backend
BACKENDS: dict[str, object] = {"process": _process_backend, "ray": _ray_backend}


def register_backend(name: str, factory) -> None:
    """Add (or replace) backend ``name``; ``factory(config, n_params, dtype, jobs)``."""
    BACKENDS[name] = factory


def make_backend(config, n_params: int, dtype, jobs: list):
    """The backend ``config.backend`` names (ValueError naming ``backend`` if unknown)."""
    if config.backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(sorted(BACKENDS))}, got "
                         f"{config.backend!r}")
    return BACKENDS[config.backend](config, n_params, dtype, jobs)
