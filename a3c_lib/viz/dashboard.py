"""TrainingDashboard: sliders, Train/Stop buttons, a status line and a live plot (nb 05, 06).

The dashboard never trains by itself: it builds a :class:`TrainConfig` from its
sliders, calls the engine's non-blocking ``training.start`` and watches the run from a monitor
thread, redrawing :func:`training_figure` into an ``ipywidgets.Image`` at most
every ``min_interval`` seconds. Because no cell blocks while a run trains, the kernel stays idle
and can receive the Stop click (a button's message is only handled when the kernel is idle).

The dashboard shows itself only when it is a cell's value (or passed to ``display``).
``headless=True`` also prints every status line, for tests, terminals and CI where no widget is
seen; the pictures are still rendered. ``train_and_wait`` is the blocking form for scripts.

>>> from a3c_lib.engine.config import TrainConfig
>>> dash = TrainingDashboard(TrainConfig(workers=2), headless=True)
>>> [w.description for w in (dash.gamma, dash.lr, dash.workers, dash.train_button,
...                            dash.stop_button)]
['γ', 'learning rate', 'workers', 'Train', 'Stop']
>>> dash.gamma.max = 1.0; dash.gamma.value = 1.0  # a value the config refuses
>>> dash.start()
error: gamma must be in [0, 1), got 1.0
False
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import warnings

import ipywidgets as widgets

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.cpus import available_cpus
from a3c_lib.engine.metrics import MetricsLog
from a3c_lib.viz.live_plot import training_figure
from a3c_lib.viz.plots import figure_to_png

LIVE_PLOT_CLASS = "a3c-live-plot"  #: CSS class of the live image (the browser tests look for it)


class TrainingDashboard:
    """Sliders for γ, learning rate and workers; Train, Stop, a status Label and the live plot.

    Args:
        config: every other hyperparameter (algo, t_max, max_steps, target_return, …).
        headless: also print the status lines (tests, scripts: no widget is on screen).
        min_interval: shortest time between two redraws of the plot, in seconds, > 0.
    """

    def __init__(self, config: TrainConfig | None = None, headless: bool = False,
                 min_interval: float = 0.5) -> None:
        if not (isinstance(min_interval, int | float) and 0 < min_interval < math.inf):
            raise ValueError(f"min_interval must be a number > 0 (seconds), got {min_interval!r}")
        self.config = config if config is not None else TrainConfig()
        self.headless, self.min_interval = headless, float(min_interval)
        c = self.config
        self.gamma = widgets.FloatSlider(value=c.gamma, min=0.0, max=0.999, step=0.001,
                                         description="γ", readout_format=".3f")
        # log10 grid [lr/1000, lr·10^1.5] in steps of 0.1 that holds the config's lr exactly:
        # the browser snaps a slider's value to its grid (3e-3 would become 10^-2.5 = 3.2e-3)
        log_lr = math.log10(c.lr)
        self.lr = widgets.FloatLogSlider(value=c.lr, base=10, min=log_lr - 3.0, max=log_lr + 1.5,
                                         step=0.1, description="learning rate",
                                         readout_format=".1e")
        # up to twice the CPUs this process may use (affinity, cgroup quota; not the host's
        # count): enough to SEE over-subscription slow each worker down
        self.workers = widgets.IntSlider(value=c.workers, min=1,
                                         max=max(2 * available_cpus(), c.workers),
                                         description="workers", disabled=c.algo == "ac")
        for slider in (self.gamma, self.lr, self.workers):
            slider.style.description_width = "initial"  # show "learning rate" in full
        self.train_button = widgets.Button(description="Train", button_style="success")
        self.stop_button = widgets.Button(description="Stop", button_style="danger")
        self.status = widgets.Label(value="ready — press Train")
        # the empty panels as a placeholder; drawing them once also warms up fonts and Agg
        self.image = widgets.Image(format="png", value=figure_to_png(training_figure(MetricsLog()),
                                                                     dpi=80))
        self.image.add_class(LIVE_PLOT_CLASS)
        self.widget = widgets.VBox([
            widgets.HBox([self.gamma, self.lr, self.workers]),
            widgets.HBox([self.train_button, self.stop_button, self.status]),
            self.image,
        ])
        self.train_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.lr.observe(self._on_lr, names="value")
        self.run = None  # the current (or last) TrainingRun
        self.result = None  # the last run's TrainResult
        self.draws = 0  # how many times the live plot was redrawn (tests check it grows)
        self.draw_seconds = 0.0  # how long the last redraw took
        self._monitor: threading.Thread | None = None
        self._stop_requested = False

    # ---- display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _say(self, text: str) -> None:
        self.status.value = text
        if self.headless:
            print(text, flush=True)

    # ---- control
    @property
    def running(self) -> bool:
        """True while a run started here trains or its monitor thread is finishing."""
        return self._monitor is not None and self._monitor.is_alive()

    def config_from_widgets(self) -> TrainConfig:
        """The config with the sliders' γ, learning rate and workers (ValueError if refused)."""
        return dataclasses.replace(self.config, gamma=float(self.gamma.value),
                                   lr=float(self.lr.value), workers=int(self.workers.value))

    def start(self) -> bool:
        """Start training without blocking (the Train button); False if refused, with a status."""
        from a3c_lib.engine import training  # here: importing the dashboard must stay cheap

        if self.running:
            self._say("already running — press Stop first")
            return False
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                config = self.config_from_widgets()
                self.run = training.start(config)
        except (ValueError, RuntimeError) as err:  # the config's or the engine's one clear error
            self._say(f"error: {err}")
            return False
        note = f" ({caught[0].message})" if caught else ""
        self._stop_requested, self.result = False, None
        self._say(f"running — 0 steps, {_workers(config.workers)}{note}")
        self._monitor = threading.Thread(target=self._watch, args=(self.run, config, note),
                                         name="a3c-dashboard", daemon=True)
        self._monitor.start()
        return True

    def stop(self) -> None:
        """Ask the run to stop (the Stop button); harmless when nothing runs or pressed twice."""
        if self.running and not self._stop_requested:
            self._stop_requested = True
            self.run.stop()
            self._say(f"stopping… ({self.run.global_step:,} steps)")

    def wait(self, timeout: float | None = None):
        """Block until the run and the final redraw are done; the TrainResult (None on timeout)."""
        if self._monitor is not None:
            self._monitor.join(timeout)
        return None if self.running else self.result

    def train_and_wait(self, timeout: float | None = None):
        """Blocking: start, wait at most ``timeout`` seconds, then stop; the TrainResult or None."""
        if not self.start():
            return None
        if self.wait(timeout) is None and self.running:
            self.stop()
            self.wait()
        return self.result

    def _on_lr(self, change) -> None:
        if self.running:
            try:
                self.run.set_lr(float(change["new"]))
            except (ValueError, RuntimeError) as err:
                self._say(f"error: {err}")

    # ---- the monitor thread
    def _watch(self, run, config: TrainConfig, note: str) -> None:
        try:
            next_draw, seen = 0.0, -1
            while run.running:
                now = time.monotonic()
                if run.metrics.version != seen and now >= next_draw and not self._stop_requested:
                    seen = run.metrics.version
                    self._draw(run)
                    # drawing takes CPU from the workers: at most half of this thread's time
                    next_draw = now + max(self.min_interval, 2 * (time.monotonic() - now))
                if not self._stop_requested:
                    self.status.value = f"running — {_progress(run, config.workers)}{note}"
                time.sleep(0.2)
            self.result = run.wait()
            self._draw(run)  # the last picture first: once the status says so, nothing changes
            self._say(self._final_status(run))
        except Exception as err:  # never a silent dead thread: show it where the user looks
            self._say(f"error: {type(err).__name__}: {err}")

    def _draw(self, run) -> None:
        t0 = time.monotonic()
        self.image.value = figure_to_png(training_figure(run.metrics), dpi=80)
        self.draws += 1
        self.draw_seconds = time.monotonic() - t0

    def _final_status(self, run) -> str:
        summary = self.result.summary if self.result is not None else {}
        if run.error or summary.get("stopped_by") == "error":
            return f"error: {(run.error or 'unknown').strip().splitlines()[-1]}"
        if summary.get("solved"):
            return (f"solved in {summary['solve_steps']:,} steps "
                    f"({summary['solve_seconds']:.1f} s) — {_progress(run)}")
        if summary.get("stopped_by") == "max_steps":
            return f"finished the budget: {_progress(run)}"
        return f"stopped after {_progress(run)}"


def _progress(run, workers: int | None = None) -> str:
    """'12,345 steps[, 2 workers], mean return 45.6' of a TrainingRun so far."""
    text = f"{run.global_step:,} steps" + (f", {_workers(workers)}" if workers else "")
    mean = run.metrics.mean_return(100)
    return text if math.isnan(mean) else f"{text}, mean return {mean:.1f}"


def _workers(n: int) -> str:
    return f"{n} worker" if n == 1 else f"{n} workers"
