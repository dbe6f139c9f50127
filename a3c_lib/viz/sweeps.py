"""Tables and plots of the cached experiments (``reproduce.load_cached``) for notebook 08.

>>> from a3c_lib.engine.metrics import EpisodeRow, MetricsLog
>>> from a3c_lib.experiments.reproduce import CachedExperiment, CachedRun
>>> log = MetricsLog(); log.append("episodes", [EpisodeRow(0, 9, 0.5, 9.0, 9)])
>>> s = {"solved": True, "solve_steps": 9, "solve_seconds": 0.5, "final_mean_return": 9.0,
...      "global_steps": 9, "config": {"gamma": 0.9, "seed": 0}}
>>> exp = CachedExperiment("gamma_sweep", {}, {"gamma0.9-seed0": CachedRun(log, s, None)})
>>> print(results_table(exp, "gamma"))
gamma    seed  solved  solve steps  solve s  final mean-100
0.9         0     yes            9      0.5             9.0
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from a3c_lib.viz.compare import style_return_axes
from a3c_lib.viz.live_plot import running_mean


def _rows(experiment, field: str) -> list[tuple]:
    """(value of field, seed, summary) per run, sorted by value then seed."""
    rows = [(s["config"][field], s["config"]["seed"], s) for s in
            (run.summary for run in experiment.runs.values())]
    return sorted(rows, key=lambda r: (r[0], r[1]))


def results_table(experiment, field: str = "algo") -> str:
    """One line per run: the swept field's value, seed, solve steps/seconds, final mean return."""
    lines = [f"{field:<7}  seed  solved  solve steps  solve s  final mean-100"]
    for value, seed, s in _rows(experiment, field):
        steps = "-" if s["solve_steps"] is None else f"{s['solve_steps']:,}"
        secs = "-" if s["solve_seconds"] is None else f"{s['solve_seconds']:.1f}"
        final = s["final_mean_return"]
        lines.append(f"{value!s:<7}  {seed:4d}  {'yes' if s['solved'] else 'no':>6}  "
                     f"{steps:>11}  {secs:>7}  {final:14.1f}")
    return "\n".join(lines)


def sweep_plot(experiment, field: str, log_x: bool = True) -> Figure:
    """Env steps to solve against the swept value, one dot per seed; × = not solved in budget."""
    rows = _rows(experiment, field)
    fig = Figure(figsize=(5.0, 3.2))
    fig.subplots_adjust(left=0.17, right=0.97, bottom=0.17, top=0.88)
    ax = fig.subplots()
    budget = max(s["config"]["max_steps"] for _, _, s in rows)
    solved = np.array([(v, s["solve_steps"]) for v, _, s in rows if s["solved"]])  # (n, 2)
    failed = np.array([(v, budget) for v, _, s in rows if not s["solved"]])  # (m, 2)
    if solved.size:
        ax.plot(solved[:, 0], solved[:, 1], "o", color="tab:blue", label="solved")
    if failed.size:
        ax.plot(failed[:, 0], failed[:, 1], "x", color="tab:red", ms=9,
                label=f"not solved in {budget:,} steps")
    if field == "gamma":  # γ near 1 matters: space the x axis by log of the horizon 1/(1−γ)
        ax.set_xscale("function", functions=(lambda g: -np.log1p(-np.minimum(g, 1 - 1e-9)),
                                             lambda h: -np.expm1(-h)))
        ax.set_xticks(sorted({v for v, _, _ in rows}))
        ax.set_xlabel("γ  (spaced by log of the horizon 1/(1−γ))")
    else:
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel(field)
    ax.set_ylabel("env steps to solve")
    ax.set_ylim(0, budget * 1.08)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"A3C on CartPole-v1: {field} sweep")
    return fig


def seed_curves(experiments: Mapping[str, object], window: int = 100) -> Figure:
    """Mean return of the last ``window`` episodes vs env steps and vs seconds, every seed.

    Args:
        experiments: label -> CachedExperiment (e.g. ``{"A3C": load_cached("cartpole_a3c")}``);
            one colour per label, one line per seed.
    """
    fig = Figure(figsize=(9.0, 3.4))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.88, wspace=0.2)
    ax_steps, ax_time = fig.subplots(1, 2)
    for i, (label, experiment) in enumerate(experiments.items()):
        for j, run in enumerate(experiment.runs.values()):
            e = np.array([(r.step, r.time, r.ret) for r in run.metrics.episodes])  # (E, 3)
            if e.size == 0:
                continue
            mean = running_mean(e[:, 2], window)  # (E,)
            kw = dict(color=f"C{i}", alpha=0.8, lw=1.2, label=label if j == 0 else None)
            ax_steps.plot(e[:, 0], mean, **kw)
            ax_time.plot(e[:, 1], mean, **kw)
    style_return_axes(ax_steps, ax_time, window, target=475,
                      steps_title="sample efficiency (one line per seed)")
    return fig


def greedy_sampled_plot(evaluations: Mapping[str, object]) -> Figure:
    """Returns per episode for each mode of ``render.compare_greedy_sampled`` (a strip plot)."""
    fig = Figure(figsize=(5.0, 3.0))
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.15, top=0.88)
    ax = fig.subplots()
    rng = np.random.default_rng(0)  # horizontal jitter only, so equal returns stay visible
    for i, ev in enumerate(evaluations.values()):
        x = i + rng.uniform(-0.15, 0.15, size=len(ev.returns))  # (episodes,)
        ax.plot(x, ev.returns, "o", alpha=0.6, color=f"C{i}")
        ax.plot([i - 0.3, i + 0.3], [ev.returns.mean()] * 2, color="k", lw=2)
    ax.set_xticks(range(len(evaluations)), list(evaluations))
    ax.set_ylabel("episode return")
    ax.set_title("greedy vs sampled actions (black: mean)")
    ax.grid(alpha=0.3, axis="y")
    return fig
