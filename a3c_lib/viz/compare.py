"""Compare runs (A3C vs A2C vs one agent) and show WHEN the global network is updated (nb 06).

Runs come as :class:`MetricsLog` objects or as the ``metrics.csv`` files that
``MetricsLog.to_csv`` and ``python -m a3c_lib train --out DIR`` write, so the notebook can plot
fresh runs in fast mode and cached reference runs from ``data/`` otherwise.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import get_type_hints

import numpy as np
from matplotlib.figure import Figure

from a3c_lib.engine.metrics import EpisodeRow, MetricsLog, UpdateRow
from a3c_lib.viz.live_plot import running_mean


def load_metrics_csv(path: str | Path) -> MetricsLog:
    """Read a ``MetricsLog.to_csv`` file back into a MetricsLog.

    >>> import tempfile, os
    >>> log = MetricsLog(); log.append("episodes", [EpisodeRow(0, 20, 0.5, 20.0, 20)])
    >>> with tempfile.TemporaryDirectory() as d:  # removed again afterwards
    ...     back = load_metrics_csv(log.to_csv(os.path.join(d, "metrics.csv")))
    >>> back.episodes
    [EpisodeRow(worker=0, step=20, time=0.5, ret=20.0, length=20)]
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path must be an existing metrics csv file, got {str(path)!r}")
    episodes, updates = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            cls, rows = (EpisodeRow, episodes) if row["kind"] == "episode" else (UpdateRow, updates)
            types = get_type_hints(cls)  # field -> int | float
            rows.append(cls(*(int(float(row[k])) if types[k] is int else float(row[k])
                              for k in cls._fields)))
    log = MetricsLog()
    log.append("episodes", episodes)
    log.append("updates", updates)
    return log


def _as_log(run: MetricsLog | str | Path) -> MetricsLog:
    return run if isinstance(run, MetricsLog) else load_metrics_csv(run)


def learning_curves(runs: Mapping[str, MetricsLog | str | Path], window: int = 100) -> Figure:
    """Mean return of the last ``window`` episodes against env steps and against seconds.

    Args:
        runs: label -> MetricsLog or metrics csv path, e.g. ``{"A3C": log, "A2C": "a2c.csv"}``.
        window: episodes in the running mean.

    >>> log = MetricsLog(); log.append("episodes", [EpisodeRow(0, 10, 0.1, 10.0, 10)])
    >>> fig = learning_curves({"A3C": log})
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['A3C']
    """
    if not runs:
        raise ValueError("runs must hold at least one labelled run")
    fig = Figure(figsize=(9.0, 3.4))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.88, wspace=0.2)
    ax_steps, ax_time = fig.subplots(1, 2)
    for label, run in runs.items():
        episodes = _as_log(run).episodes
        if not episodes:
            continue
        e = np.array([(r.step, r.time, r.ret) for r in episodes])  # (E, 3)
        mean = running_mean(e[:, 2], window)  # (E,)
        ax_steps.plot(e[:, 0], mean, label=label)
        ax_time.plot(e[:, 1], mean, label=label)
    style_return_axes(ax_steps, ax_time, window)
    return fig


def style_return_axes(ax_steps, ax_time, window: int, target: float | None = None,
                      steps_title: str = "sample efficiency") -> None:
    """Label the pair of plots "mean return vs env steps" and "vs seconds" the same way everywhere.

    >>> fig = Figure(); a, b = fig.subplots(1, 2); style_return_axes(a, b, 100, target=475)
    >>> a.get_xlabel(), b.get_title()
    ('global env steps', 'speed')
    """
    for ax, xlabel in ((ax_steps, "global env steps"), (ax_time, "seconds (wall clock)")):
        if target is not None:
            ax.axhline(target, color="gray", ls=":", lw=1)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"mean return (last {window})")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    ax_steps.set_title(steps_title)
    ax_time.set_title("speed")


def update_timeline(log: MetricsLog, window: float | None = None) -> Figure:
    """Left: one tick per update of the global θ, one row per worker. Right: policy lags.

    Args:
        log: a run's metrics (its update rows are used).
        window: on the left, show only the ``window`` seconds after the first update (None = all).

    >>> log = MetricsLog()
    >>> log.append("updates", [UpdateRow(w, 8 * i, 0.01 * i, 0.0, 0.0, 0.6, 1.0, i % 2, 1e-3, 1e3)
    ...                        for i, w in enumerate([0, 1, 0, 1])])
    >>> [ax.get_title() for ax in update_timeline(log).axes]
    ['updates of the global network', 'policy lag']
    """
    u = np.array([(r.worker, r.time, r.policy_lag) for r in log.updates], dtype=float)  # (U, 3)
    if u.size == 0:
        raise ValueError("log must hold update rows (run a few updates first)")
    if window is not None:
        u_shown = u[u[:, 1] <= u[:, 1].min() + window]  # (U', 3) the first `window` seconds
    else:
        u_shown = u
    fig = Figure(figsize=(9.0, 2.8))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.18, top=0.88, wspace=0.25)
    ax_t, ax_lag = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    workers = np.unique(u[:, 0]).astype(int)
    ax_t.eventplot([u_shown[u_shown[:, 0] == w, 1] for w in workers], lineoffsets=workers,
                   linelengths=0.7, colors=[f"C{w % 10}" for w in workers])
    ax_t.set_yticks(workers, [f"worker {w}" for w in workers])
    ax_t.set_xlabel("seconds since start")
    ax_t.set_title("updates of the global network")
    lags = u[:, 2].astype(int)
    ax_lag.hist(lags, bins=np.arange(lags.max() + 2) - 0.5, color="tab:gray")
    ax_lag.set_xlabel("updates by others between copy and update")
    ax_lag.set_title("policy lag")
    return fig


def updates_table(log: MetricsLog, n: int = 10, start: int | None = None) -> str:
    """``n`` consecutive updates in time order as a small text table (worker, step, time, lag).

    Args:
        log: a run's metrics (its update rows are used).
        n: rows to show.
        start: index (in time order) of the first row shown. None picks the window of ``n``
            rows where the workers alternate most often — where the asynchrony is visible —
            rather than the start-up rows, which often come from one worker alone.

    (Rows reach the log in batches per worker, so the log's own order is not the time order.)

    >>> rows = [UpdateRow(w, 8 * (i + 1), 0.01 * i, 0, 0, 0.6, 1, i % 3, 1e-3, 1)
    ...         for i, w in enumerate([0, 0, 0, 1, 0, 1])]
    >>> log = MetricsLog(); log.append("updates", rows)
    >>> print(updates_table(log, n=3))
    update  worker  global step  time (s)  policy lag
         3       0           24     0.020           2
         4       1           32     0.030           0
         5       0           40     0.040           1
    """
    ordered = sorted(log.updates, key=lambda r: r.time)
    if start is None:
        workers = np.array([r.worker for r in ordered])  # (U,)
        switches = np.concatenate([[0], np.cumsum(workers[1:] != workers[:-1])])  # (U,)
        k = max(len(ordered) - n, 0) + 1  # candidate windows
        in_window = switches[min(n, len(ordered)) - 1:][:k] - switches[:k]  # (k,)
        start = int(np.argmax(in_window)) if k > 0 and len(ordered) else 0
    lines = ["update  worker  global step  time (s)  policy lag"]
    for i, r in enumerate(ordered[start:start + n], start=start + 1):
        lines.append(f"{i:6d}  {r.worker:6d}  {r.step:11d}  {r.time:8.3f}  {r.policy_lag:10d}")
    return "\n".join(lines)


def find_cached_runs(directory: str | Path, labels: list[str]) -> dict[str, Path] | None:
    """``{label: csv}`` if ``directory`` holds ``<label>.csv`` or ``<label>/metrics.csv`` for
    EVERY label (a cached comparison), else None.

    >>> find_cached_runs("/nonexistent", ["a3c"]) is None
    True
    """
    found = {}
    for label in labels:
        candidates = [Path(directory) / f"{label}.csv", Path(directory) / label / "metrics.csv"]
        hit = next((p for p in candidates if p.is_file()), None)
        if hit is None:
            return None
        found[label] = hit
    return found
