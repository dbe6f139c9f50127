"""Plots draw what they claim and widgets redraw when a slider moves (headless, Agg)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from a3c_lib.gridworld import GridWorld
from a3c_lib.viz.plots import (
    PNG_MAGIC,
    convergence_plot,
    figure_to_png,
    frames_strip,
    learning_curve,
    running_mean_plot,
    value_heatmap,
)
from a3c_lib.viz.widgets import gamma_slider, live_image, lr_slider, samples_slider


def _arrows(fig: Figure):
    found = [c for c in fig.axes[0].collections if c.get_gid() == "policy-arrows"]
    return found[0] if found else None


def _cell_texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "cell-value"]


def test_heatmap_writes_one_number_per_state_and_marks_walls():
    grid = GridWorld()
    v = np.arange(grid.n_states, dtype=float)
    fig = value_heatmap(grid, v, fmt="{:.0f}")
    assert sorted(_cell_texts(fig), key=int) == [str(s) for s in range(grid.n_states)]
    assert _arrows(fig) is None  # no policy, no arrows
    image = fig.axes[0].images[0].get_array()  # (rows, cols), masked on walls
    assert image.shape == (grid.rows, grid.cols)
    assert int(np.ma.count_masked(image)) == len(grid.walls)
    r, c = grid.cell_of(5)
    assert image[r, c] == 5.0


def test_heatmap_arrows_are_proportional_to_pi():
    grid = GridWorld(rows=1, cols=3, walls=(), goals=((0, 2),), traps=(), start=(0, 0))
    pi = np.array([[0.0, 0.5, 0.0, 0.5], [0.1, 0.2, 0.3, 0.4], [0.25] * 4])
    arrows = _arrows(value_heatmap(grid, np.zeros(3), policy=pi))
    assert arrows.N == 2 * 4  # two non-terminal states x four actions; the goal gets none
    lengths = np.hypot(arrows.U, arrows.V)  # (8,)
    np.testing.assert_allclose(lengths / lengths.max(), pi[:2].ravel() / pi[:2].max())
    # action 1 is "right": +x; action 0 is "up": towards row −1, i.e. −y in data coordinates
    assert arrows.U[1] > 0 and arrows.V[1] == 0
    assert arrows.V[4] < 0 and arrows.U[4] == 0


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"V": np.zeros(3)}, "V must"), ({"policy": np.full((17, 4), 0.3)}, "policy must")],
)
def test_heatmap_rejects_bad_shapes(kwargs, word):
    grid = GridWorld()
    args = {"V": np.zeros(grid.n_states), **kwargs}
    with pytest.raises(ValueError, match=word):
        value_heatmap(grid, **args)


def test_figure_to_png_returns_png_bytes():
    png = figure_to_png(value_heatmap(GridWorld(), np.zeros(17)))
    assert isinstance(png, bytes) and png[:8] == PNG_MAGIC and len(png) > 1000
    with pytest.raises(ValueError, match="fig must"):
        figure_to_png("not a figure")


def test_convergence_plot_reference_lines():
    ns = np.array([10, 100, 1000])
    fig = convergence_plot(ns, {"no baseline": [1.0, 0.3, 0.1], "baseline": [0.5, 0.2, 0.05]})
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["no baseline", "baseline", "∝ 1/√n"]
    np.testing.assert_allclose(lines[-1].get_ydata(), [1.0, 1.0 / np.sqrt(10), 0.1])
    assert fig.axes[0].get_xscale() == "log"
    fig = convergence_plot([0, 1, 2], [1.0, 0.5, 0.25], reference="geometric", gamma=0.5)
    np.testing.assert_allclose(fig.axes[0].get_lines()[-1].get_ydata(), [1.0, 0.5, 0.25])
    assert fig.axes[0].get_xscale() == "linear"
    with pytest.raises(ValueError, match="gamma"):
        convergence_plot([0, 1], [1.0, 0.5], reference="geometric")
    with pytest.raises(ValueError, match="reference"):
        convergence_plot([0, 1], [1.0, 0.5], reference="cubic")
    with pytest.raises(ValueError, match="errors"):
        convergence_plot([1, 2, 3], [1.0, 0.5])


def test_small_plots_return_figures():
    assert isinstance(running_mean_plot(np.array([1.0, 2.0]), 1.5), Figure)
    assert len(learning_curve([0.0, 1.0]).axes[0].get_lines()) == 1
    assert len(frames_strip([np.zeros((2, 2, 3), np.uint8)] * 2).axes) == 2
    with pytest.raises(ValueError, match="frames"):
        frames_strip([])


def test_sliders_follow_the_widget_conventions():
    g, lr, n = gamma_slider(), lr_slider(0.5), samples_slider(10)
    assert (g.description, g.min, g.max, g.step) == ("γ", 0.0, 0.99, 0.01)
    assert lr.description == "learning rate" and lr.value == pytest.approx(0.5)
    assert n.description == "samples n" and n.value == 10


@pytest.mark.parametrize(
    ("make", "arg"),
    [
        (lambda: gamma_slider(1.5), "value"),
        (lambda: gamma_slider(-0.1), "value"),
        (lambda: gamma_slider(float("nan")), "value"),
        (lambda: lr_slider(0.0), "value"),
        (lambda: lr_slider(0.1, low=-1.0), "low"),
        (lambda: lr_slider(0.1, low=1.0, high=0.5), "high"),
        (lambda: samples_slider(0), "value"),
        (lambda: samples_slider(5, low=10, high=100), "value"),
        (lambda: samples_slider(2.5), "value"),
        (lambda: samples_slider(5, low=0), "low"),
    ],
)
def test_bad_slider_input_names_the_argument(make, arg):
    with pytest.raises(ValueError, match=rf"^{arg} must"):
        make()


def _heatmap_for(grid):
    mdp = grid.to_mdp()
    from a3c_lib.values import policy_evaluation, uniform_policy

    pi = uniform_policy(mdp)

    def draw(gamma):
        return value_heatmap(grid, policy_evaluation(mdp, pi, gamma), pi, colorbar=False)

    return draw


def test_moving_the_slider_changes_the_image_bytes():
    box = live_image(_heatmap_for(GridWorld()), gamma_slider(0.5), css_class="a3c-value-heatmap")
    slider, image = box.children[0], box.children[-1]
    assert image is box.image and "a3c-value-heatmap" in image._dom_classes
    before = bytes(image.value)
    assert before[:8] == PNG_MAGIC
    slider.value = 0.95
    after = bytes(image.value)
    assert after[:8] == PNG_MAGIC and after != before
    slider.value = 0.5  # back: the same γ draws the same picture
    assert bytes(image.value) == before


def test_live_image_accepts_bytes_and_several_sliders():
    calls = []

    def draw(gamma, n):
        calls.append((gamma, n))
        return PNG_MAGIC + bytes([n % 256])

    box = live_image(draw, gamma_slider(0.1), samples_slider(3))
    box.children[1].value = 7
    assert calls == [(0.1, 3), (0.1, 7)]
    assert bytes(box.image.value) == PNG_MAGIC + bytes([7])


@pytest.mark.parametrize(
    ("args", "arg"),
    [(("not callable", gamma_slider()), "draw_fn"), ((lambda g: b"",), "sliders"),
     ((lambda g: b"", 0.5), "sliders")],
)
def test_live_image_validates(args, arg):
    with pytest.raises(ValueError, match=rf"^{arg}"):
        live_image(*args)


def test_heatmap_never_shows_minus_zero():
    import numpy as np

    from a3c_lib.gridworld import GridWorld
    from a3c_lib.viz.plots import value_heatmap

    grid = GridWorld()
    v = np.full(grid.n_states, -1e-17)
    v[0] = -0.004
    texts = [t.get_text() for t in value_heatmap(grid, v).axes[0].texts
             if t.get_gid() == "cell-value"]
    assert texts and all(t == "0.00" for t in texts)
