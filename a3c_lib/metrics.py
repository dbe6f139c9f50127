"""MetricsLog: the ONE place where a run's metrics flow to (drawing lives elsewhere).

Worker processes send batches of rows over a queue; the run's monitor thread appends them here and
calls the ``on_metrics(log)`` callbacks a few times per second. Two kinds of rows:

* episodes — one per finished episode: worker, global step, time (s since the run started),
  return, length;
* updates — one per gradient step applied to the global theta: worker, step, time, policy_loss,
  value_loss, entropy, grad_norm (before clipping), policy_lag (global updates applied by others
  since this worker copied theta), lr, steps_per_second (of that worker).

>>> log = MetricsLog()
>>> log.append("episodes", [EpisodeRow(0, 20, 0.1, 20.0, 20), EpisodeRow(1, 50, 0.2, 30.0, 30)])
>>> log.mean_return(last=100), len(log.episodes)
(25.0, 2)
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np


class EpisodeRow(NamedTuple):
    worker: int
    step: int
    time: float
    ret: float  # the undiscounted episode return Σ r
    length: int


class UpdateRow(NamedTuple):
    worker: int
    step: int
    time: float
    policy_loss: float
    value_loss: float
    entropy: float
    grad_norm: float
    policy_lag: int
    lr: float
    steps_per_second: float


_KINDS = {"episodes": EpisodeRow, "updates": UpdateRow}


class MetricsLog:
    """Thread-safe, append-only log of episode and update rows.

    ``version`` grows with every append, so a dashboard can skip redrawing when nothing changed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, list] = {"episodes": [], "updates": []}
        self.version = 0

    def append(self, kind: str, rows: list) -> None:
        """Append rows of ``kind`` ('episodes' or 'updates'); tuples are converted to rows."""
        if kind not in _KINDS:
            raise ValueError(f"kind must be 'episodes' or 'updates', got {kind!r}")
        row_type = _KINDS[kind]
        rows = [r if isinstance(r, row_type) else row_type(*r) for r in rows]
        with self._lock:
            self._rows[kind].extend(rows)
            self.version += 1

    @property
    def episodes(self) -> list[EpisodeRow]:
        """A copy of the episode rows, in the order the parent received them."""
        with self._lock:
            return list(self._rows["episodes"])

    @property
    def updates(self) -> list[UpdateRow]:
        """A copy of the update rows."""
        with self._lock:
            return list(self._rows["updates"])

    @property
    def n_episodes(self) -> int:
        with self._lock:
            return len(self._rows["episodes"])

    def episode_returns(self, worker: int | None = None) -> np.ndarray:
        """Returns of all episodes (or of one worker's), shape (n_episodes,).

        >>> log = MetricsLog(); log.append("episodes", [(0, 9, 0.1, 9.0, 9), (1, 12, 0.1, 3.0, 3)])
        >>> log.episode_returns(worker=1)
        array([3.])
        """
        rows = self.episodes
        return np.array([r.ret for r in rows if worker is None or r.worker == worker], dtype=float)

    def mean_return(self, last: int = 100) -> float:
        """Mean return of the last ``last`` episodes over all workers (nan if there is none)."""
        with self._lock:
            rows = self._rows["episodes"][-last:]
        return float(np.mean([r.ret for r in rows])) if rows else float("nan")

    def to_csv(self, path: str | Path) -> Path:
        """Write both kinds to ONE csv file with a ``kind`` column; return the path."""
        path = Path(path)
        columns = ["kind", *dict.fromkeys(EpisodeRow._fields + UpdateRow._fields)]
        with self._lock:
            rows = [("episode", r) for r in self._rows["episodes"]]
            rows += [("update", r) for r in self._rows["updates"]]
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for kind, r in rows:
                writer.writerow({"kind": kind, **r._asdict()})
        return path
