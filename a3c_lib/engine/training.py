"""The trainers: ``a3c`` (asynchronous, Mnih et al. 2016), ``a2c`` (its synchronous twin), ``ac``.

* ``a3c`` — ``workers`` spawned processes, each with its own env(s), a local copy θ' and its own
  rng. Each rolls out t_max steps, computes ∇ on θ' and applies it to the GLOBAL θ with SHARED
  RMSProp statistics (``workers.py``; θ and g live in shared memory, ``shared.py``).
* ``a2c`` — ONE worker process steps ``workers × envs_per_worker`` envs in lockstep and makes one
  update per t_max × N batch: the same maths without asynchrony (policy lag is always 0).
* ``ac`` — a2c with a single env: the plain one-step-at-a-time actor-critic of the course.

Reproducibility: a seeded ``ac``/``a2c`` run is bit-for-bit repeatable (one process, seeded envs
and rng). An ``a3c`` run is not: which worker's gradient lands first depends on how the OS
schedules the processes, so the sequence of θ differs from run to run even with the same seeds.

Only one run may be active per Python process: :func:`start` refuses a second one with
``RuntimeError`` (stop the first with ``run.stop()``).
"""

from __future__ import annotations

import math
import sys
import threading

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.results import TrainResult
from a3c_lib.engine.run import TrainingRun

__all__ = ["TrainConfig", "TrainResult", "TrainingRun", "start", "train"]

_active_lock = threading.Lock()
_active: TrainingRun | None = None


def start(config: TrainConfig | None = None, on_metrics=None, out_dir=None,
          resume_from=None) -> TrainingRun:
    """Start training in the background and return the :class:`TrainingRun` at once.

    Args:
        config: hyperparameters (default: ``TrainConfig()``, the benchmark's configuration).
        on_metrics: a callable ``f(metrics_log)`` (or a list of them) called from the run's
            monitor thread a few times per second and once at the end.
        out_dir: where checkpoints (``checkpoint_every``) and the final outputs are written.
        resume_from: a checkpoint directory (or .npz) to continue from.

    Raises:
        RuntimeError: another run of this process is still running.
        ValueError: bad config, unknown env id, or an unusable checkpoint.
    """
    global _active
    config = TrainConfig() if config is None else config
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    with _active_lock:
        if _active is not None and _active.running:
            raise RuntimeError("a training run is already running; call run.stop() first")
        _active = TrainingRun(config, on_metrics=on_metrics, out_dir=out_dir,
                              resume_from=resume_from)
        return _active


def train(config: TrainConfig | None = None, out_dir=None, progress: bool = False,
          on_metrics=None, resume_from=None) -> TrainResult:
    """Train until solved (``target_return``) or ``max_steps``; block and return the result.

    Ctrl-C (KeyboardInterrupt) stops the workers within about a second, cleans up, writes the
    partial outputs to ``out_dir`` and re-raises. A failing worker raises
    ``RuntimeError("worker 1 failed:\\n<traceback>")``.
    """
    run = start(config, on_metrics=on_metrics, out_dir=out_dir, resume_from=resume_from)
    bar = _progress_bar(run) if progress else None
    try:
        while run.wait(timeout=0.2) is None:
            if bar is not None:
                _update_bar(bar, run)
    except KeyboardInterrupt:
        stop_and_wait(run)
        raise
    finally:
        if bar is not None:
            _update_bar(bar, run)
            bar.close()
    if run.error:
        raise RuntimeError(run.error)
    return run.result


def stop_and_wait(run: TrainingRun) -> None:
    """Stop ``run`` and wait for its clean-up, ignoring further Ctrl-C's meanwhile.

    The clean-up is bounded (~1 s join, then SIGTERM/SIGKILL of stragglers), so waiting cannot
    hang; returning early on a second Ctrl-C would skip the unlinking and the partial results.
    """
    run.stop()
    while True:
        try:
            run.wait()
            return
        except KeyboardInterrupt:
            run.stop()


def _progress_bar(run: TrainingRun):
    from tqdm.auto import tqdm

    return tqdm(total=run.config.max_steps, unit="step", unit_scale=True, file=sys.stderr,
                dynamic_ncols=True, desc=run.config.algo)


def _update_bar(bar, run: TrainingRun) -> None:
    bar.n = min(run.global_step, bar.total)
    mean = run.metrics.mean_return(100)
    bar.set_postfix_str("mean100 " + ("-" if math.isnan(mean) else f"{mean:.1f}"), refresh=False)
    bar.refresh()

