"""Sliders and live images for the notebooks (ipywidgets 8).

Conventions the browser tests rely on: a slider's ``description`` is the lesson's symbol
(``"γ"``, ``"learning rate"``, ``"samples n"``), and a picture that redraws live is an
``ipywidgets.Image`` holding PNG bytes drawn with the Agg backend, tagged with a CSS class
(``a3c-value-heatmap`` in notebook 02).

Every slider helper checks its arguments and raises one ``ValueError`` naming the argument and
the allowed range, so a typo in a "Try it" cell gives a readable message.

>>> s = gamma_slider(0.5)
>>> s.description, s.min, s.max, s.value
('γ', 0.0, 0.99, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import ipywidgets as widgets
from matplotlib.figure import Figure

from a3c_lib.viz.plots import figure_to_png

GAMMA_MAX = 0.99  #: largest γ a slider offers: V = 1/(1−γ) grows without bound as γ → 1


def _check_range(name: str, x: float, low: float, high: float) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number in [{low}, {high}], got {x!r}")
    if not low <= x <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {x}")
    return float(x)


def gamma_slider(value: float = 0.9) -> widgets.FloatSlider:
    """A slider for the discount γ over [0, 0.99] in steps of 0.01.

    Raises:
        ValueError: if ``value`` is not in [0, 0.99].

    >>> gamma_slider(1.5)
    Traceback (most recent call last):
    ...
    ValueError: value must be in [0.0, 0.99], got 1.5
    """
    value = _check_range("value", value, 0.0, GAMMA_MAX)
    return widgets.FloatSlider(value=value, min=0.0, max=GAMMA_MAX, step=0.01, description="γ",
                               readout_format=".2f")


def lr_slider(value: float = 0.1, low: float = 1e-3, high: float = 10.0) -> widgets.FloatLogSlider:
    """A logarithmic slider for the learning rate α of gradient ascent θ ← θ + α∇J.

    Args:
        value: starting learning rate, in [low, high].
        low: smallest learning rate, > 0.
        high: largest learning rate, > low.

    >>> s = lr_slider(0.1)
    >>> s.description, s.value
    ('learning rate', 0.1)
    """
    low = _check_range("low", low, 1e-12, 1e12)
    high = _check_range("high", high, low, 1e12)
    if high == low:
        raise ValueError(f"high must be > low = {low}, got {high}")
    value = _check_range("value", value, low, high)
    # FloatLogSlider's min/max are exponents of `base`; 0.25 exponent steps ≈ ×1.78 per notch.
    return widgets.FloatLogSlider(value=value, base=10.0, min=math.log10(low),
                                  max=math.log10(high), step=0.25, description="learning rate",
                                  readout_format=".3g", style={"description_width": "initial"})


def samples_slider(value: int = 100, low: int = 1, high: int = 10_000) -> widgets.IntSlider:
    """A slider for the number of samples n in a Monte Carlo mean.

    >>> samples_slider(20).description
    'samples n'
    >>> samples_slider(0)
    Traceback (most recent call last):
    ...
    ValueError: value must be in [1, 10000], got 0
    """
    for name, x in (("low", low), ("high", high), ("value", value)):
        if isinstance(x, bool) or not isinstance(x, int):
            raise ValueError(f"{name} must be an integer, got {x!r}")
    if not 1 <= low < high:
        raise ValueError(f"low must be in [1, high={high}), got {low}")
    if not low <= value <= high:
        raise ValueError(f"value must be in [{low}, {high}], got {value}")
    return widgets.IntSlider(value=value, min=low, max=high, step=1, description="samples n",
                             style={"description_width": "initial"})


def live_image(draw_fn: Callable[..., Figure | bytes], *sliders: widgets.ValueWidget,
               css_class: str | None = None) -> widgets.VBox:
    """Sliders above an Image that is redrawn as ``draw_fn(*slider values)`` whenever one moves.

    Args:
        draw_fn: takes the sliders' values in order and returns a matplotlib Figure (converted
            with :func:`figure_to_png`) or PNG bytes. Keep it fast (< 0.1 s) for smooth sliders.
        *sliders: one or more ipywidgets with a ``value`` trait.
        css_class: optional CSS class added to the Image (e.g. ``"a3c-value-heatmap"``).

    Returns:
        ``VBox([*sliders, image])``; the image is also ``box.image`` and the redraw ``box.redraw``.

    >>> from a3c_lib.viz.plots import figure_to_png
    >>> def draw(gamma):
    ...     fig = Figure(figsize=(1, 1)); fig.add_subplot().set_title(f"{gamma:.2f}"); return fig
    >>> box = live_image(draw, gamma_slider(0.5), css_class="demo")
    >>> before = box.image.value
    >>> box.children[0].value = 0.8   # moving the slider redraws
    >>> box.image.value != before, "demo" in box.image._dom_classes
    (True, True)
    """
    if not callable(draw_fn):
        raise ValueError(f"draw_fn must be callable, got {type(draw_fn).__name__}")
    if not sliders:
        raise ValueError("sliders must contain at least one widget, got none")
    for i, s in enumerate(sliders):
        if not (isinstance(s, widgets.Widget) and s.has_trait("value")):
            raise ValueError(f"sliders[{i}] must be an ipywidget with a value, "
                             f"got {type(s).__name__}")
    image = widgets.Image(format="png")
    if css_class is not None:
        image.add_class(css_class)

    def redraw(change=None) -> None:
        out = draw_fn(*(s.value for s in sliders))
        image.value = out if isinstance(out, bytes) else figure_to_png(out)

    for s in sliders:
        s.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([*sliders, image])
    box.image, box.redraw = image, redraw
    return box
