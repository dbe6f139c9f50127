"""The two diagrams, drawn by code: the two-headed network (nb 05); A3C's θ and workers (nb 06).

Boxes and arrows on a blank matplotlib ``Figure`` (no pyplot), so a test can read every label.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch


def _box(ax, x: float, y: float, w: float, h: float, text: str, color: str) -> None:
    """A rounded box centred at (x, y) with a label."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02",
                                facecolor=color, edgecolor="0.25", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def _arrow(ax, start: tuple, end: tuple, color: str = "0.25", text: str = "",
           rad: float = 0.0, text_offset: tuple = (0.0, 0.0)) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, lw=1.4,
                                 color=color, connectionstyle=f"arc3,rad={rad}"))
    if text:
        mx, my = (start[0] + end[0]) / 2 + text_offset[0], (start[1] + end[1]) / 2 + text_offset[1]
        ax.text(mx, my, text, ha="center", va="center", fontsize=8, color=color)


def _canvas(width: float, height: float) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10 * height / width)
    ax.set_axis_off()
    return fig, ax


def two_head_network(hidden: tuple[int, ...] = (64, 64), n_actions: int = 2,
                     obs_dim: int = 4) -> Figure:
    """The actor-critic network: a shared tanh trunk, a policy head π(·|s) and a value head V(s).

    >>> fig = two_head_network()
    >>> [t.get_text().split("\\n")[0] for t in fig.axes[0].texts][:4]
    ['state s', 'shared trunk', 'actor: policy head', 'critic: value head']
    """
    fig, ax = _canvas(8.0, 3.2)
    _box(ax, 1.0, 2.0, 1.6, 1.2, f"state s\n({obs_dim} numbers)", "#fff3c4")
    trunk = " → ".join(f"tanh {h}" for h in hidden)
    _box(ax, 4.2, 2.0, 3.0, 1.3, f"shared trunk\n{trunk}\n(features both heads use)", "#dbe9f6")
    _box(ax, 7.9, 3.05, 2.6, 0.95, f"actor: policy head\n{n_actions} logits → π(·|s) = softmax",
         "#d9f0d3")
    _box(ax, 7.9, 0.95, 2.6, 0.95, "critic: value head\n1 number → V(s)", "#fde0dd")
    _arrow(ax, (1.85, 2.0), (2.65, 2.0))
    _arrow(ax, (5.75, 2.3), (6.55, 3.0))
    _arrow(ax, (5.75, 1.7), (6.55, 1.0))
    ax.text(4.2, 0.35, "one forward pass gives both; one loss (actor + c_v·critic − c_H·entropy) "
                       "trains the trunk from both heads", ha="center", fontsize=8, color="0.3")
    return fig


def global_and_workers(n_workers: int = 3) -> Figure:
    """A3C: the global θ (and RMSProp's g), its workers, arrows for "copy θ" and "apply ∇".

    >>> fig = global_and_workers(2)
    >>> sum(t.get_text().startswith("worker") for t in fig.axes[0].texts)
    2
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or not 1 <= n_workers <= 6:
        raise ValueError(f"n_workers must be an integer in [1, 6], got {n_workers!r}")
    fig, ax = _canvas(8.0, 4.0)
    _box(ax, 5.0, 4.1, 3.4, 0.9, "global network θ\n+ shared RMSProp statistics g", "#dbe9f6")
    xs = [5.0 + (i - (n_workers - 1) / 2) * (9.0 / max(n_workers, 2)) for i in range(n_workers)]
    for i, x in enumerate(xs):
        _box(ax, x, 1.55, 2.3, 1.25,
             f"worker {i}\nlocal copy θ'\nown environment\nt_max steps with π_θ'", "#eeeeee")
        top = 5.0 + (x - 5.0) * 0.3  # where the arrows meet the global box's lower edge
        _arrow(ax, (top - 0.2, 3.6), (x - 0.25, 2.25), color="tab:blue")
        _arrow(ax, (x + 0.25, 2.25), (top + 0.2, 3.6), color="tab:red")
        ax.text(x, 0.55, "② act, n-step returns, ∇ of the loss", ha="center", fontsize=7,
                color="0.3")
    ax.text(0.2, 4.35, "① copy θ' ← θ", fontsize=9, color="tab:blue")
    ax.text(0.2, 3.95, "③ apply ∇θ' to θ (RMSProp)", fontsize=9, color="tab:red")
    ax.text(5.0, 4.85, "each worker on its own clock: ① → ② → ③ → ①, never waiting for the others",
            ha="center", fontsize=8, color="0.3")
    return fig
