"""The training pictures: drawn from a MetricsLog, never by the workers (nb 05, 06).

Workers only report rows to the run's :class:`MetricsLog`; the functions here
turn a log into a matplotlib ``Figure`` (no ``pyplot``: no global state, safe in a background
thread under Agg). The dashboard renders :func:`training_figure` to PNG bytes for its live
``ipywidgets.Image``; the same function draws a finished run in a terminal or a test.

Panels of :func:`training_figure`::

    episode return  — one dot per episode, coloured by worker, and the 100-episode mean
    losses          — policy loss and value loss per update (moving average)
    entropy         — H(π(·|s)) per update: high = exploring, → 0 = deterministic policy
    steps/s         — environment steps per second of each worker (over its last 50 updates)

:class:`LiveReturns` is the small live plot of the hand-written loop of notebook 05: it reads
the returns that gymnasium's ``RecordEpisodeStatistics`` collects, not a MetricsLog.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from a3c_lib.engine.metrics import MetricsLog

MAX_POINTS = 1500  #: at most this many points per line, so a redraw stays fast on long runs


def running_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean of the last ``window`` values (fewer at the start), shape of ``x``.

    >>> running_mean(np.array([1.0, 3.0, 5.0, 7.0]), window=2)
    array([1., 2., 4., 6.])
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    c = np.concatenate([[0.0], np.cumsum(x)])  # (T+1,) c[t] = x_0 + … + x_{t-1}
    t = np.arange(1, x.size + 1)  # (T,)
    start = np.maximum(t - window, 0)  # (T,) first index inside each window
    return (c[t] - c[start]) / (t - start)  # (T,)


def worker_rates(updates: list, k: int = 50) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Env steps per second of each worker, over its last ``k`` updates: {worker: (time, rate)}.

    Every update adds the worker's batch (t_max × its envs) to the global step, so sorting the
    update rows by global step and differencing gives each update's batch size. We average
    TIME, not rates (an average of instantaneous rates overstates the speed when some updates
    wait for the CPU).

    >>> from a3c_lib.engine.metrics import UpdateRow
    >>> rows = [UpdateRow(0, 8 * (i + 1), 0.5 * (i + 1), 0, 0, 0, 0, 0, 0, 0) for i in range(4)]
    >>> t, rate = worker_rates(rows, k=2)[0]; t, rate
    (array([1.5, 2. ]), array([16., 16.]))
    """
    if not updates:
        return {}
    u = np.array([(r.worker, r.step, r.time) for r in updates], dtype=float)  # (U, 3)
    u = u[np.argsort(u[:, 1], kind="stable")]  # by global step
    batch = np.diff(u[:, 1], prepend=0.0)  # (U,) env steps each update added
    out = {}
    for w in np.unique(u[:, 0]).astype(int):
        mine = u[:, 0] == w
        t, steps = u[mine, 2], np.cumsum(batch[mine])  # (U_w,)
        if len(t) > k:
            dt = np.maximum(t[k:] - t[:-k], 1e-9)  # (U_w - k,)
            out[w] = (t[k:], (steps[k:] - steps[:-k]) / dt)
    return out


def _thin(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every k-th entry of each column so that at most MAX_POINTS remain (the last one kept)."""
    n = len(columns[0])
    if n <= MAX_POINTS:
        return columns
    idx = np.unique(np.r_[np.linspace(0, n - 1, MAX_POINTS).astype(int), n - 1])  # (<=MAX+1,)
    return tuple(c[idx] for c in columns)


def training_figure(log: MetricsLog, title: str | None = None, window: int = 100) -> Figure:
    """Four panels (returns, losses, entropy, steps/s) of a run so far; empty axes if no rows yet.

    Args:
        log: the run's metrics.
        title: figure title (e.g. the status line).
        window: episodes in the mean return (100, as in the CartPole "solved" criterion).

    >>> from a3c_lib.engine.metrics import EpisodeRow
    >>> log = MetricsLog(); log.append("episodes", [EpisodeRow(0, 20, 0.1, 20.0, 20)])
    >>> [ax.get_title() for ax in training_figure(log).axes]
    ['episode return', 'losses', 'entropy', 'env steps / s']
    """
    fig = Figure(figsize=(9.0, 5.6))  # fixed margins: "constrained" layout triples the draw time
    fig.subplots_adjust(left=0.07, right=0.93, bottom=0.09, top=0.9, hspace=0.45, wspace=0.3)
    ax_ret, ax_loss, ax_ent, ax_sps = fig.subplots(2, 2).ravel()
    # rows arrive in batches per worker: put them in the order of the global step
    episodes = sorted(log.episodes, key=lambda r: r.step)
    updates = sorted(log.updates, key=lambda r: r.step)
    if episodes:
        e = np.array([(r.worker, r.step, r.ret) for r in episodes], dtype=float)  # (E, 3)
        for w in np.unique(e[:, 0]).astype(int):
            mine = e[e[:, 0] == w]  # (E_w, 3)
            step, ret = _thin(mine[:, 1], mine[:, 2])
            ax_ret.plot(step, ret, ".", ms=2.5, alpha=0.45, label=f"worker {w}")
        step, mean = _thin(e[:, 1], running_mean(e[:, 2], window))
        ax_ret.plot(step, mean, "k-", lw=2, label=f"mean of last {window}")
        ax_ret.legend(loc="upper left", fontsize=7, markerscale=3)
    if updates:
        u = np.array([(r.worker, r.step, r.time, r.policy_loss, r.value_loss, r.entropy)
                      for r in updates], dtype=float)  # (U, 6)
        smooth = max(1, len(u) // 50)  # moving average over ~2 % of the updates
        step, pl, vl, ent = _thin(u[:, 1], *(running_mean(u[:, i], smooth) for i in (3, 4, 5)))
        ax_loss.plot(step, pl, color="tab:blue")
        ax_loss.set_ylabel("policy loss", color="tab:blue", fontsize=8)
        ax_v = ax_loss.twinx()  # value loss ~ (G − V)² lives on a much larger scale
        ax_v.plot(step, vl, color="tab:orange")
        ax_v.set_ylabel("value loss", color="tab:orange", fontsize=8)
        ax_v.tick_params(labelsize=7)
        ax_v.yaxis.set_major_locator(MaxNLocator(5))
        ax_ent.plot(step, ent, color="tab:green")
        ax_ent.ticklabel_format(axis="y", useOffset=False)
        for w, (t, rate) in worker_rates(updates).items():
            t, rate = _thin(t, rate)
            ax_sps.plot(t, rate, lw=1, label=f"worker {w}")
        if ax_sps.lines:
            ax_sps.legend(loc="lower right", fontsize=7)
    for ax, xlabel in ((ax_ret, "global env step"), (ax_loss, "global env step"),
                       (ax_ent, "global env step"), (ax_sps, "seconds since start")):
        ax.set_xlabel(xlabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)
        ax.grid(alpha=0.3)
    for ax, name in ((ax_ret, "episode return"), (ax_loss, "losses"), (ax_ent, "entropy"),
                     (ax_sps, "env steps / s")):
        ax.set_title(name, fontsize=9, y=1.0)  # a fixed y skips a costly layout pass
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.yaxis.set_major_locator(MaxNLocator(5))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


class LiveReturns:
    """A live plot of episode returns for a hand-written loop (notebook 05): call it every update.

    ``plot(update, env)`` reads ``env.return_queue`` (gymnasium's ``RecordEpisodeStatistics``),
    redraws every ``every`` updates and returns True once the mean of the last ``window``
    returns reaches ``target`` (the loop then stops). ``show=False`` draws nothing (tests, CLI).

    >>> class Env: return_queue = [500.0] * 100
    >>> plot = LiveReturns(every=1, target=475.0, show=False)
    >>> plot(0, Env()), plot.solved_at_episode
    (True, 100)
    """

    def __init__(self, every: int = 500, target: float | None = 475.0, window: int = 100,
                 title: str = "", show: bool = True) -> None:
        if isinstance(every, bool) or not isinstance(every, int | np.integer) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        self.every, self.target, self.window, self.title = every, target, window, title
        self.solved_at_episode: int | None = None
        self._handle = None
        if show:
            from IPython.display import display

            self._handle = display(self.figure([]), display_id=True)

    def figure(self, returns: list[float]) -> Figure:
        """Episode returns (dots) and their running mean over ``window`` episodes."""
        fig = Figure(figsize=(7.0, 2.8))
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.17, top=0.88)
        ax = fig.add_subplot()
        if len(returns):
            r = np.asarray(returns, dtype=float)  # (E,)
            ax.plot(r, ".", ms=2.5, alpha=0.4, label="episode return")
            ax.plot(running_mean(r, self.window), "k-", lw=2, label=f"mean of last {self.window}")
            ax.legend(loc="upper left", fontsize=8)
        if self.target is not None:
            ax.axhline(self.target, color="tab:green", lw=0.8, ls="--")
        ax.set_xlabel("episode")
        ax.set_ylabel("return")
        ax.set_title(self.title or f"{len(returns)} episodes", fontsize=9)
        ax.grid(alpha=0.3)
        return fig

    def __call__(self, update: int, env) -> bool:
        returns = env.return_queue
        solved = (self.target is not None and len(returns) >= self.window
                  and float(np.mean(list(returns)[-self.window:])) >= self.target)
        if solved and self.solved_at_episode is None:
            self.solved_at_episode = len(returns)
        if self._handle is not None and (solved or update % self.every == 0):
            self._handle.update(self.figure(list(returns)))
        return bool(solved)

    def draw_final(self, env) -> None:
        """Redraw once with every return so far (after the loop ended for any reason)."""
        if self._handle is not None:
            self._handle.update(self.figure(list(env.return_queue)))
