"""The bias-variance picture of the advantage estimators (notebook 05): n-step and GAE(λ).

The numbers come from :mod:`a3c_lib.advantage_estimators` (exact, on the grid MDP); this module
only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def bias_variance_figure(ns: Sequence[int], n_stats: Sequence, lams: Sequence[float],
                         lam_stats: Sequence, n: int | None = None,
                         lam: float | None = None, title: str = "") -> Figure:
    """Bias², variance and their sum (the mean squared error) against n and against λ.

    Args:
        ns, n_stats: n values and the ``EstimatorStats`` of the n-step estimator at each.
        lams, lam_stats: λ values and the ``EstimatorStats`` of GAE(λ) at each.
        n, lam: the values chosen on the sliders, marked with a vertical line and a dot.
        title: the figure's title.

    >>> from a3c_lib.advantage_estimators import EstimatorStats
    >>> s = [EstimatorStats(0.2, 0.0), EstimatorStats(0.1, 0.02)]
    >>> [ax.get_xlabel() for ax in bias_variance_figure([1, 2], s, [0.0, 1.0], s).axes]
    ['n (steps before the bootstrap)', 'λ']
    """
    fig = Figure(figsize=(9.0, 3.0))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.17, top=0.85, wspace=0.22)
    ax_n, ax_l = fig.subplots(1, 2, sharey=True)
    for ax, xs, stats, chosen in ((ax_n, ns, n_stats, n), (ax_l, lams, lam_stats, lam)):
        bias2 = np.array([s.bias**2 for s in stats])  # (K,)
        var = np.array([s.variance for s in stats])  # (K,)
        ax.plot(xs, bias2, "-", color="tab:blue", label="bias²")
        ax.plot(xs, var, "-", color="tab:orange", label="variance")
        ax.plot(xs, bias2 + var, "k-", lw=2, label="mean squared error")
        best = int(np.argmin(bias2 + var))
        ax.plot([xs[best]], [bias2[best] + var[best]], "k*", ms=10)
        if chosen is not None:
            ax.axvline(chosen, color="tab:green", lw=1)
            k = int(np.argmin(np.abs(np.asarray(xs, dtype=float) - chosen)))
            ax.plot([xs[k]] * 3, [bias2[k], var[k], bias2[k] + var[k]], "o", color="tab:green",
                    ms=5)
        ax.grid(alpha=0.3)
    ax_n.set_xscale("log")
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100) if min(ns) <= t <= max(ns)]
    ax_n.set_xticks(ticks, [str(t) for t in ticks])
    ax_n.minorticks_off()
    ax_n.set_xlabel("n (steps before the bootstrap)")
    ax_l.set_xlabel("λ")
    ax_n.set_ylabel("squared error of Â")
    ax_n.set_title("n-step advantage", fontsize=9)
    ax_l.set_title("GAE(λ) advantage", fontsize=9)
    ax_n.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
