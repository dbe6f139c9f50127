"""MetricsLog: the ONE place where a run's metrics flow to (drawing lives elsewhere).

Worker processes send batches of rows over a queue; the run's monitor thread appends them here and
calls the ``on_metrics(log)`` callbacks a few times per second. Two kinds of rows:

* episodes — one per finished episode: worker, global step, time (s since the run started),
  return, length;
* updates — one per gradient step applied to the global theta: worker, step, time, policy_loss,
  value_loss, entropy, grad_norm (before clipping), policy_lag (global updates applied by others
  since this worker copied theta), lr, steps_per_second (of that worker).

Bounded memory: a long run makes ~1000 update rows per second (~300 bytes each: ~190 MB in
10 minutes), so each kind keeps at most ``max_rows[kind]`` rows. When a kind reaches its cap,
every second kept row is dropped (the first row stays) and from then on only every
``stride[kind]``-th new row is kept: the history stays evenly sampled from start to end and
memory stays flat. ``n_episodes`` / ``n_updates`` count every row received, and
``mean_return(last)`` uses the last ``RECENT`` episodes exactly, thinned or not. The default caps
(100,000 episodes, 50,000 updates) are far above what the course's runs produce (300k steps:
< 40,000 episodes, ~10,000 updates), so those keep every row.

>>> log = MetricsLog()
>>> log.append("episodes", [EpisodeRow(0, 20, 0.1, 20.0, 20), EpisodeRow(1, 50, 0.2, 30.0, 30)])
>>> log.mean_return(last=100), len(log.episodes)
(25.0, 2)
>>> small = MetricsLog(max_rows={"episodes": 4, "updates": 4})
>>> small.append("episodes", [EpisodeRow(0, i, 0.0, float(i), 1) for i in range(10)])
>>> [r.ret for r in small.episodes], small.stride["episodes"], small.n_episodes
([0.0, 4.0, 8.0], 4, 10)
>>> small.mean_return(last=2)   # exact: the last two episodes received (8 and 9)
8.5
"""

from __future__ import annotations

import collections
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
MAX_ROWS = {"episodes": 100_000, "updates": 50_000}  #: default caps (see the module docstring)
RECENT = 1_000  #: the last RECENT episodes are also kept exactly, for mean_return


class MetricsLog:
    """Thread-safe, append-only log of episode and update rows, bounded by thinning.

    ``version`` grows with every append, so a dashboard can skip redrawing when nothing changed.

    Args:
        max_rows: cap per kind, e.g. ``{"updates": 10_000}`` (missing kinds: ``MAX_ROWS``);
            each an int >= 2.
    """

    def __init__(self, max_rows: dict[str, int] | None = None) -> None:
        caps = {**MAX_ROWS, **(max_rows or {})}
        for kind, cap in caps.items():
            if kind not in _KINDS:
                raise ValueError(f"max_rows keys must be 'episodes' or 'updates', got {kind!r}")
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 2:
                raise ValueError(f"max_rows[{kind!r}] must be an integer >= 2, got {cap!r}")
        self._lock = threading.Lock()
        self._rows: dict[str, list] = {"episodes": [], "updates": []}
        self.max_rows = caps
        self.stride = {"episodes": 1, "updates": 1}  # 1 = every row kept so far
        self._received = {"episodes": 0, "updates": 0}  # rows appended, kept or not
        self._recent: collections.deque = collections.deque(maxlen=RECENT)  # last episodes
        self.version = 0

    def append(self, kind: str, rows: list) -> None:
        """Append rows of ``kind`` ('episodes' or 'updates'); tuples are converted to rows."""
        if kind not in _KINDS:
            raise ValueError(f"kind must be 'episodes' or 'updates', got {kind!r}")
        row_type = _KINDS[kind]
        rows = [r if isinstance(r, row_type) else row_type(*r) for r in rows]
        with self._lock:
            kept = self._rows[kind]
            for row in rows:
                if self._received[kind] % self.stride[kind] == 0:
                    kept.append(row)
                    if len(kept) >= self.max_rows[kind]:  # thin: keep rows 0, 2s, 4s, ...
                        kept[:] = kept[::2]
                        self.stride[kind] *= 2
                self._received[kind] += 1
            if kind == "episodes":
                self._recent.extend(rows)
            self.version += 1

    @property
    def episodes(self) -> list[EpisodeRow]:
        """A copy of the kept episode rows, in the order the parent received them."""
        with self._lock:
            return list(self._rows["episodes"])

    @property
    def updates(self) -> list[UpdateRow]:
        """A copy of the kept update rows (every ``stride["updates"]``-th once thinned)."""
        with self._lock:
            return list(self._rows["updates"])

    @property
    def n_episodes(self) -> int:
        """Episodes received (kept or thinned out)."""
        with self._lock:
            return self._received["episodes"]

    @property
    def n_updates(self) -> int:
        """Update rows received (kept or thinned out)."""
        with self._lock:
            return self._received["updates"]

    def episode_returns(self, worker: int | None = None) -> np.ndarray:
        """Returns of the kept episodes (or of one worker's), shape (E,).

        >>> log = MetricsLog(); log.append("episodes", [(0, 9, 0.1, 9.0, 9), (1, 12, 0.1, 3.0, 3)])
        >>> log.episode_returns(worker=1)
        array([3.])
        """
        rows = self.episodes
        return np.array([r.ret for r in rows if worker is None or r.worker == worker], dtype=float)

    def mean_return(self, last: int = 100) -> float:
        """Mean return of the last ``last`` episodes over all workers (nan if there is none).

        Exact for ``last`` <= ``RECENT`` even after thinning; beyond that, over the kept rows.
        """
        with self._lock:
            exact = last <= RECENT or self.stride["episodes"] == 1
            rows = list(self._recent)[-last:] if exact else self._rows["episodes"][-last:]
        return float(np.mean([r.ret for r in rows])) if rows else float("nan")

    def to_csv(self, path: str | Path) -> Path:
        """Write both kinds' kept rows to ONE csv file with a ``kind`` column; return the path."""
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
