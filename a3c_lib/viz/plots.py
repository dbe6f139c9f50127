"""Every picture of the course is drawn here (matplotlib, headless-safe).

The functions build ``matplotlib.figure.Figure`` objects directly (no ``pyplot``), so they touch
no global state, work under the Agg backend in tests and widgets, and show up in a notebook when
returned as a cell's last value. :func:`figure_to_png` turns a figure into the PNG bytes that the
live ``ipywidgets.Image`` widgets display.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from a3c_lib.gridworld import MOVES, GridWorld

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"  #: the first eight bytes of every PNG file


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def figure_to_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render ``fig`` with Agg into PNG bytes (what an ``ipywidgets.Image`` displays).

    >>> fig = Figure(figsize=(1, 1))
    >>> figure_to_png(fig)[:8] == PNG_MAGIC
    True
    """
    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    buf = io.BytesIO()
    # light compression: live widgets re-encode on every slider move, and speed matters more
    fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _number(fmt: str, x: float) -> str:
    """``fmt.format(x)``, but never "-0.00": a tiny negative (e.g. −1e-17 from a linear solve)
    that rounds to zero is shown as 0.

    >>> _number("{:.2f}", -1e-17), _number("{:.2f}", -0.004), _number("{:.2f}", -0.006)
    ('0.00', '0.00', '-0.01')
    """
    text = fmt.format(x)
    try:
        return fmt.format(0.0) if float(text) == 0.0 else text
    except ValueError:  # a format that is not a plain number
        return text


def value_heatmap(grid: GridWorld, V, policy=None, ax: Axes | None = None,
                  title: str | None = "V(s)", cmap: str = "RdYlGn", fmt: str = "{:.2f}",
                  label: str = "V(s)", colorbar: bool = True) -> Figure:
    """Colour each free cell of ``grid`` by ``V[s]``, write the number, and draw π as arrows.

    Walls are dark grey; goals (G) and traps (T) get a green or red frame and the start an S.
    With ``policy`` (shape (S, 4), rows summing to 1) each non-terminal cell gets one arrow per
    action whose length is proportional to π(a|s) (the likeliest action of the table: 0.3 cell).
    The same picture serves any per-state quantity (``label="ρ^π(s)"``, ``cmap="Blues"`` for a
    state distribution).

    Artists carry gids for tests: ``"cell-value"`` texts and one ``"policy-arrows"`` Quiver.

    >>> grid = GridWorld()
    >>> pi = np.full((grid.n_states, 4), 0.25)   # uniform random policy
    >>> fig = value_heatmap(grid, np.zeros(grid.n_states), policy=pi)
    >>> ax = fig.axes[0]
    >>> arrows = [c for c in ax.collections if c.get_gid() == "policy-arrows"][0]
    >>> sum(t.get_gid() == "cell-value" for t in ax.texts), arrows.N   # 17 cells, 15 x 4 arrows
    (17, 60)
    """
    V = np.asarray(V, dtype=np.float64)
    if V.shape != (grid.n_states,):
        raise ValueError(f"V must have shape ({grid.n_states},), one value per state, "
                         f"got {V.shape}")
    if policy is not None:
        policy = np.asarray(policy, dtype=np.float64)
        if policy.shape != (grid.n_states, len(MOVES)) or not np.allclose(policy.sum(1), 1.0):
            raise ValueError(f"policy must have shape ({grid.n_states}, {len(MOVES)}) with rows "
                             f"summing to 1, got shape {policy.shape}")
    if ax is None:  # no constrained layout here: the γ slider redraws this in < 0.1 s
        fig = Figure(figsize=(0.85 * grid.cols + 1.0, 0.85 * grid.rows + 0.3))
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.9)
        ax = fig.add_subplot()
    fig = ax.figure
    cm = colormaps[cmap].with_extremes(bad=(0.25, 0.25, 0.25))  # NaN (wall) cells: dark grey
    image = ax.imshow(grid.to_grid(V), cmap=cm)  # (rows, cols), NaN on walls
    if colorbar:  # costs ~1/3 of a redraw; live widgets may leave it out (numbers are written)
        fig.colorbar(image, ax=ax, shrink=0.8, label=label, pad=0.03)
    terminal = set(grid.goals) | set(grid.traps)
    tails, heads = [], []  # one arrow per (non-terminal state, action): tail (x, y), head (dx, dy)
    for s, (r, c) in enumerate(grid.free_cells):
        text_y = r + (0.35 if policy is not None else 0.0)  # numbers below the arrows
        ax.text(c, text_y, _number(fmt, V[s]), ha="center", va="center", fontsize=7,
                gid="cell-value")
        if (r, c) in terminal:
            colour, letter = ("green", "G") if (r, c) in grid.goals else ("red", "T")
            ax.add_patch(Rectangle((c - 0.45, r - 0.45), 0.9, 0.9, fill=False, ec=colour, lw=2.5))
            ax.text(c - 0.38, r - 0.3, letter, color=colour, fontsize=8, weight="bold")
        elif policy is not None:
            for a, (dr, dc) in enumerate(MOVES):
                length = 0.3 * policy[s, a] / policy.max()  # ∝ π(a|s); the likeliest: 0.3 cell
                tails.append((c, r - 0.08))
                heads.append((dc * length, dr * length))
        if grid.start is not None and (r, c) == tuple(grid.start):
            ax.text(c - 0.38, r - 0.3, "S", fontsize=8, weight="bold")
    if tails:
        tails, heads = np.array(tails), np.array(heads)  # (n_arrows, 2) each
        # one Quiver artist for all arrows (fast); y grows downwards in imshow, hence "xy" units
        ax.quiver(tails[:, 0], tails[:, 1], heads[:, 0], heads[:, 1], angles="xy",
                  scale_units="xy", scale=1.0, width=0.01, headwidth=3, headlength=3,
                  headaxislength=2.6, minlength=0, gid="policy-arrows")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def convergence_plot(x, errors, reference: str = "inv_sqrt", gamma: float | None = None,
                     ax: Axes | None = None, title: str | None = None,
                     xlabel: str = "samples n", ylabel: str = "error") -> Figure:
    """Error against sample size or iteration, next to the rate theory predicts.

    Args:
        x: sample sizes n or iteration numbers k, shape (M,).
        errors: the measured errors, shape (M,), or a dict ``{label: errors}`` of several curves.
        reference: ``"inv_sqrt"`` — log–log axes and a line ∝ 1/√n through the first point
            (Monte Carlo means); ``"geometric"`` — log-y axes and a line ∝ γ^k (iterative policy
            evaluation contracts by γ per sweep); ``"none"`` — log–log axes, no reference.
        gamma: the contraction factor, required for ``"geometric"``.

    >>> fig = convergence_plot([1, 10, 100], [1.0, 0.3, 0.1])
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['measured', '∝ 1/√n']
    """
    x = np.asarray(x, dtype=np.float64)  # (M,)
    curves = errors if isinstance(errors, dict) else {"measured": errors}
    curves = {k: np.asarray(v, dtype=np.float64) for k, v in curves.items()}
    if x.ndim != 1 or any(v.shape != x.shape for v in curves.values()):
        raise ValueError(f"errors must have the shape of x {x.shape}, got "
                         f"{[v.shape for v in curves.values()]}")
    if reference not in ("inv_sqrt", "geometric", "none"):
        raise ValueError(f"reference must be 'inv_sqrt', 'geometric' or 'none', got {reference!r}")
    if reference == "geometric" and (gamma is None or not 0.0 < gamma < 1.0):
        raise ValueError(f"gamma must be in (0, 1) for a geometric reference, got {gamma!r}")
    fig, ax = _new_axes(ax, (4.5, 3.2))
    for label, err in curves.items():
        ax.plot(x, err, "o-", ms=3, label=label)
    first = next(iter(curves.values()))[0]
    if reference == "inv_sqrt":
        ax.plot(x, first * np.sqrt(x[0] / x), "k--", label="∝ 1/√n")  # slope −1/2 on log–log
    elif reference == "geometric":
        ax.plot(x, first * gamma ** (x - x[0]), "k--", label=f"∝ γ^k, γ={gamma:g}")
    ax.set_yscale("log")
    if reference != "geometric":
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def running_mean_plot(running: np.ndarray, true_mean: float, ax: Axes | None = None,
                      title: str | None = None) -> Figure:
    """The mean of the first k samples for k = 1 … n, against the exact expectation.

    >>> fig = running_mean_plot(np.array([2.0, 3.0, 2.5]), 2.5)
    >>> len(fig.axes[0].get_lines())
    2
    """
    running = np.asarray(running, dtype=np.float64)  # (n,)
    fig, ax = _new_axes(ax, (5.0, 3.0))
    k = np.arange(1, running.size + 1)
    ax.plot(k, running, lw=1.2, label="mean of the first k samples")
    ax.axhline(true_mean, color="k", ls="--", label=f"E[X] = {true_mean:.3f}")
    ax.set(xlabel="k", ylabel="sample mean", title=title or "")
    ax.set_xscale("log" if running.size > 50 else "linear")
    ax.legend(fontsize=8)
    return fig


def learning_curve(j_history, j_best: float | None = None, ax: Axes | None = None,
                   title: str | None = None, ylim: tuple[float, float] | None = None) -> Figure:
    """J(π_θ) after every step of gradient ascent, optionally against the best achievable J.

    ``j_history`` of shape (steps + 1,) is one run; of shape (runs, steps + 1) several runs
    (thin lines, e.g. one per seed of a sampled gradient) and their mean (thick). ``ylim`` fixes
    the y-axis, so curves redrawn by a slider stay comparable.

    >>> fig = learning_curve([0.1, 0.4, 0.6], j_best=1.0)
    >>> len(fig.axes[0].get_lines())
    2
    >>> len(learning_curve([[0.1, 0.4], [0.2, 0.1]], ylim=(-1, 1)).axes[0].get_lines())  # 2 + mean
    3
    """
    j_history = np.asarray(j_history, dtype=np.float64)  # (steps + 1,) or (runs, steps + 1)
    if j_history.ndim not in (1, 2) or j_history.shape[-1] == 0:
        raise ValueError(f"j_history must have shape (steps + 1,) or (runs, steps + 1), got "
                         f"{j_history.shape}")
    fig, ax = _new_axes(ax, (4.5, 3.0))
    steps = np.arange(j_history.shape[-1])
    if j_history.ndim == 2:
        for k, run in enumerate(j_history):
            ax.plot(steps, run, lw=0.8, alpha=0.5, color="tab:blue",
                    label="one run" if k == 0 else None)
        ax.plot(steps, j_history.mean(axis=0), lw=2.0, color="tab:blue", label="mean J(π_θ)")
    else:
        ax.plot(steps, j_history, lw=1.5, label="J(π_θ)")
    if j_best is not None:
        ax.axhline(j_best, color="k", ls="--", label=f"best J = {j_best:.3f}")
    ax.set(xlabel="gradient step", ylabel="J(π)", title=title or "")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8, loc="lower right" if j_history.ndim == 1 else "center right")
    return fig


def frames_strip(frames, titles=None, width: float = 2.2) -> Figure:
    """Show a few RGB frames (from ``env.render()`` with ``render_mode="rgb_array"``) side by side.

    >>> fig = frames_strip([np.zeros((4, 4, 3), dtype=np.uint8)] * 3, titles=["t=0", "t=1", "t=2"])
    >>> len(fig.axes)
    3
    """
    frames = list(frames)
    if not frames:
        raise ValueError("frames must hold at least one image, got none")
    titles = list(titles) if titles is not None else [f"t={t}" for t in range(len(frames))]
    fig = Figure(figsize=(width * len(frames), width), layout="constrained")
    for frame, title, ax in zip(frames, titles, fig.subplots(1, len(frames), squeeze=False)[0],
                                strict=True):
        ax.imshow(frame)
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    return fig


def distribution_plot(x, p, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Bars of P_i over the values X_i, with the expectation E_P[X] = Σ P_i X_i marked.

    >>> fig = distribution_plot([1, 2, 3], [0.2, 0.3, 0.5])
    >>> len(fig.axes[0].patches), fig.axes[0].get_lines()[0].get_xdata()[0]   # 3 bars; E = 2.3
    (3, 2.3)
    """
    x, p = np.asarray(x, dtype=np.float64), np.asarray(p, dtype=np.float64)  # (K,), (K,)
    if x.shape != p.shape or x.ndim != 1:
        raise ValueError(f"p must have the shape of x {x.shape}, got {p.shape}")
    fig, ax = _new_axes(ax, (4.0, 2.8))
    ax.bar(x, p, width=0.6, color="tab:blue", alpha=0.8)
    mean = float(np.dot(p, x))  # Σ_i P_i X_i
    ax.axvline(mean, color="k", ls="--", label=f"E[X] = {mean:.2f}")
    ax.set(xlabel="value X_i", ylabel="probability P_i", title=title or "")
    ax.legend(fontsize=8)
    return fig


def cartpole_strip(observations, titles=None, width: float = 2.2) -> Figure:
    """Sketch CartPole states [x, ẋ, θ, θ̇] as cart-and-pole pictures, without pygame.

    Gymnasium's own ``render_mode="rgb_array"`` for CartPole needs pygame; this draws the same
    scene from the observation alone: the cart at position x on a track [−2.4, 2.4] and a pole of
    length 1 tilted by θ radians from vertical (positive θ leans right).

    >>> fig = cartpole_strip([np.zeros(4), np.array([1.0, 0.0, 0.2, 0.0])])
    >>> len(fig.axes)
    2
    """
    observations = np.asarray(observations, dtype=np.float64)  # (frames, 4)
    if observations.ndim != 2 or observations.shape[1] != 4 or observations.shape[0] == 0:
        raise ValueError(f"observations must have shape (frames, 4), got {observations.shape}")
    n = observations.shape[0]
    titles = list(titles) if titles is not None else [f"t={t}" for t in range(n)]
    fig = Figure(figsize=(width * n, 0.75 * width), layout="constrained")
    for (x, _, theta, _), title, ax in zip(observations, titles,
                                           fig.subplots(1, n, squeeze=False)[0], strict=True):
        ax.plot([-2.4, 2.4], [0, 0], color="0.5", lw=1)  # the track
        ax.add_patch(Rectangle((x - 0.25, -0.08), 0.5, 0.16, color="tab:blue"))  # the cart
        ax.plot([x, x + np.sin(theta)], [0, np.cos(theta)], color="tab:brown", lw=3)  # the pole
        ax.set(xlim=(-2.6, 2.6), ylim=(-0.3, 1.2), aspect="equal", title=title)
        ax.title.set_fontsize(9)
        ax.set_axis_off()
    return fig


def curves_plot(x, curves: dict, ax: Axes | None = None, xlabel: str = "", ylabel: str = "",
                title: str | None = None, ylim: tuple[float, float] | None = None) -> Figure:
    """Several curves y(x) on one axis, e.g. the cosine between two gradients against γ.

    >>> fig = curves_plot([0.5, 0.9], {"uniform π": [0.5, 0.8], "learned π": [0.7, 0.98]})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['uniform π', 'learned π']
    """
    x = np.asarray(x, dtype=np.float64)  # (M,)
    fig, ax = _new_axes(ax, (4.5, 3.0))
    for label, y in curves.items():
        y = np.asarray(y, dtype=np.float64)
        if y.shape != x.shape:
            raise ValueError(f"curves[{label!r}] must have the shape of x {x.shape}, got {y.shape}")
        ax.plot(x, y, "o-", ms=3, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig
