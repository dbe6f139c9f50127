"""TrainResult: what a finished run hands back, and how it is written to disk.

``summary`` keys: solved, solve_steps, solve_seconds (from the train/start call to the episode
that brought the 100-episode mean to target_return; imports excluded), steps_per_second (global
env steps per second from the moment every worker was up to the last update), final_mean_return,
episodes, updates, worker_updates, worker_cpu_seconds (CPU seconds each worker spent training),
global_steps, wall_seconds, startup_seconds, stopped_by ('target' | 'max_steps' | 'stop' |
'error'), error, metrics_stride (1 = every row kept; k = the MetricsLog kept every k-th row of
that kind to bound its memory), config, versions, git_commit.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from a3c_lib.engine.metrics import MetricsLog
from a3c_lib.nn.policy import Policy


@dataclass
class TrainResult:
    """The outcome of one run: summary dict, the full MetricsLog, the final global theta and
    the policy that reads it."""

    summary: dict[str, Any]
    metrics: MetricsLog
    theta: np.ndarray  # (P,) final global parameters, laid out as the policy says
    policy: Policy

    @property
    def spec(self):
        """The MLPSpec of an MLP policy (``CategoricalMLP``), else None."""
        return getattr(self.policy, "spec", None)

    def save(self, out_dir: str | Path) -> list[Path]:
        """Write metrics.csv, summary.json and weights.npz (for the Keras file, see
        ``a3c_lib.keras.networks.save_theta``: the engine never imports TensorFlow).

        weights.npz holds ``theta``, ``policy`` (its class name) and, for an MLP policy, its
        sizes ``obs_dim``, ``n_actions``, ``hidden`` (read by :func:`load_theta`).
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = [self.metrics.to_csv(out / "metrics.csv"), out / "summary.json",
                 out / "weights.npz"]
        paths[1].write_text(json.dumps(self.summary, indent=2, default=_jsonable) + "\n")
        sizes = {} if self.spec is None else dict(
            obs_dim=self.spec.obs_dim, n_actions=getattr(self.spec, "n_actions", 0),
            hidden=np.array(self.spec.hidden))
        np.savez(paths[2], theta=self.theta, policy=np.str_(type(self.policy).__name__), **sizes)
        return paths


def make_summary(config, metrics: MetricsLog, counters: np.ndarray, start_step: int,
                 seconds: float, ready_seconds: float | None, solved_at, stopped_by: str,
                 error: str | None, cpu_seconds: list | None = None) -> dict[str, Any]:
    """The summary dict of a finished run (keys in the module docstring).

    Args:
        counters: the final shared counters [steps, updates, updates of worker 0 …].
        start_step: global step at the start (non-zero after a resume).
        seconds: wall seconds from the train/start call to the end.
        ready_seconds: when the last worker was up (None if none came up).
        solved_at: the EpisodeRow that brought the 100-episode mean to the target, or None.
        cpu_seconds: CPU seconds each worker spent training (None for one that did not finish
            cleanly), start-up excluded.
    """
    steps = int(counters[0])
    ready = seconds if ready_seconds is None else ready_seconds
    updates = metrics.updates
    last_update = max((u.time for u in updates[-64:]), default=seconds)  # before the shutdown
    mean = metrics.mean_return(100)
    return {
        "solved": solved_at is not None,
        "solve_steps": None if solved_at is None else solved_at.step,
        "solve_seconds": None if solved_at is None else solved_at.time,
        "steps_per_second": (steps - start_step) / max(last_update - ready, 1e-9),
        "worker_cpu_seconds": cpu_seconds,
        "final_mean_return": None if np.isnan(mean) else mean,
        "episodes": metrics.n_episodes,
        "updates": int(counters[1]),
        "worker_updates": [int(c) for c in counters[2:]],
        "global_steps": steps,
        "wall_seconds": seconds,
        "startup_seconds": ready,
        "stopped_by": stopped_by,
        "error": error,
        "metrics_stride": dict(metrics.stride),
        "config": config.to_dict(),
        "versions": versions(),
        "git_commit": git_commit(),
    }


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


def versions() -> dict[str, str]:
    """Versions of python, numpy, gymnasium, a3c_lib (+ tensorflow/keras only if imported)."""
    import gymnasium

    import a3c_lib

    v = {"python": platform.python_version(), "numpy": np.__version__,
         "gymnasium": gymnasium.__version__, "a3c_lib": a3c_lib.__version__}
    for name in ("tensorflow", "keras"):  # never imported just to read a version
        if name in sys.modules:
            v[name] = getattr(sys.modules[name], "__version__", "?")
    return v


def git_commit() -> str | None:
    """The commit of the a3c_lib checkout, or None outside git."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def load_theta(path: str | Path) -> tuple[np.ndarray, tuple[int, int, tuple[int, ...]]]:
    """(theta (P,), (obs_dim, n_actions, hidden)) from a weights.npz, never unpickling."""
    with np.load(path, allow_pickle=False) as z:
        sizes = (int(z["obs_dim"]), int(z["n_actions"]), tuple(int(h) for h in z["hidden"]))
        return z["theta"].astype(float), sizes
