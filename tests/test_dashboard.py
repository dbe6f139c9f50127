"""TrainingDashboard, live_plot and compare: widgets, a live run with Stop, errors as statuses."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from process_helpers import spawned_children

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.metrics import EpisodeRow, MetricsLog, UpdateRow
from a3c_lib.viz.compare import (
    find_cached_runs,
    learning_curves,
    load_metrics_csv,
    update_timeline,
    updates_table,
)
from a3c_lib.viz.dashboard import LIVE_PLOT_CLASS, TrainingDashboard
from a3c_lib.viz.live_plot import running_mean, training_figure, worker_rates
from a3c_lib.viz.plots import PNG_MAGIC


def _wait_for(condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_widgets_follow_the_conventions():
    dash = TrainingDashboard(TrainConfig(gamma=0.95, lr=1e-3, workers=2), headless=True)
    assert (dash.gamma.description, dash.gamma.value) == ("γ", 0.95)
    assert dash.lr.description == "learning rate" and dash.lr.value == pytest.approx(1e-3)
    grid_index = (math.log10(1e-3) - dash.lr.min) / dash.lr.step  # the browser snaps to the grid
    assert grid_index == pytest.approx(round(grid_index), abs=1e-9)
    assert (dash.workers.description, dash.workers.value) == ("workers", 2)
    assert (dash.train_button.description, dash.stop_button.description) == ("Train", "Stop")
    assert LIVE_PLOT_CLASS == "a3c-live-plot" and LIVE_PLOT_CLASS in dash.image._dom_classes
    assert dash.image.format == "png" and dash.image.value[:8] == PNG_MAGIC
    assert dash.config_from_widgets() == TrainConfig(gamma=0.95, lr=1e-3, workers=2)
    assert not dash.running and dash.wait() is None


def test_bad_config_shows_an_error_status_instead_of_raising():
    dash = TrainingDashboard(TrainConfig(), headless=True)
    dash.gamma.max = 1.0
    dash.gamma.value = 1.0  # the slider allows it now, TrainConfig does not
    dash.train_button.click()  # what a user's click does; must not raise
    assert dash.status.value == "error: gamma must be in [0, 1), got 1.0"
    assert not dash.running and dash.run is None
    dash.stop()  # nothing runs: harmless
    assert dash.status.value.startswith("error:")


def test_bad_min_interval_is_one_clear_error():
    with pytest.raises(ValueError, match=r"min_interval must be a number > 0"):
        TrainingDashboard(TrainConfig(), min_interval=0)


@pytest.mark.timeout(120)
def test_live_run_draws_refuses_a_second_train_changes_lr_and_stops_fast():
    config = TrainConfig(workers=2, max_steps=5_000_000, target_return=None, lr=1e-3)
    dash = TrainingDashboard(config, headless=True, min_interval=0.3)
    images = []
    dash.image.observe(lambda change: images.append(change["new"]), names="value")
    try:
        assert dash.start() is True
        assert dash.running and dash.status.value.startswith("running — ")
        assert dash.start() is False  # Train while running is refused…
        assert dash.status.value == "already running — press Stop first"
        # …and the live plot redraws while the workers train
        assert _wait_for(lambda: len(images) >= 3 and dash.run.global_step > 0, timeout=60)
        assert len(set(images)) >= 2 and all(png[:8] == PNG_MAGIC for png in images)
        assert _wait_for(lambda: "steps, 2 workers" in dash.status.value, timeout=10)

        dash.lr.value = 3e-4  # moving the slider reaches the running workers
        assert _wait_for(lambda: any(abs(r.lr - 3e-4) < 1e-12 for r in dash.run.metrics.updates),
                         timeout=30)
    finally:
        t0 = time.monotonic()
        dash.stop()
        dash.stop()  # pressing Stop twice is harmless
        result = dash.wait(timeout=30)
        stop_seconds = time.monotonic() - t0
    assert result is not None and result.summary["stopped_by"] == "stop"
    assert stop_seconds < 5.0, f"Stop took {stop_seconds:.1f} s"
    assert dash.status.value.startswith("stopped after ") and "steps" in dash.status.value
    assert not dash.running
    assert _wait_for(lambda: not spawned_children(), timeout=5), spawned_children()


@pytest.mark.timeout(120)
def test_train_and_wait_blocks_until_the_budget_is_spent():
    dash = TrainingDashboard(TrainConfig(algo="ac", max_steps=1_500, target_return=None),
                             headless=True)
    assert dash.workers.disabled  # one agent: the workers slider does not apply
    result = dash.train_and_wait(timeout=90)
    assert result is not None and result.summary["stopped_by"] == "max_steps"
    assert result.summary["global_steps"] >= 1_500
    assert dash.status.value.startswith("finished the budget: ")
    assert dash.draws >= 1 and not dash.running
    assert dash.start() is True  # after a finished run, Train works again
    dash.stop()
    assert dash.wait(timeout=30) is not None


# ---- live_plot and compare ------------------------------------------------------------------
def _toy_log() -> MetricsLog:
    log = MetricsLog()
    log.append("episodes", [EpisodeRow(i % 2, 20 * i, 0.01 * i, float(i), 20) for i in range(1, 9)])
    log.append("updates", [UpdateRow(i % 2, 8 * i, 0.004 * i, 0.1, 2.0, 0.69, 1.0, i % 3, 1e-3,
                                     1e3) for i in range(1, 21)])
    return log


def test_running_mean_matches_a_direct_loop():
    x = np.random.default_rng(0).normal(size=37)
    for window in (1, 5, 100):
        expected = [x[max(0, t - window + 1): t + 1].mean() for t in range(len(x))]
        np.testing.assert_allclose(running_mean(x, window), expected)
    with pytest.raises(ValueError, match="window must be an integer >= 1"):
        running_mean(x, 0)


def test_training_figure_draws_every_worker_and_the_mean():
    fig = training_figure(_toy_log(), title="t")
    ax_ret = fig.axes[0]
    assert [line.get_label() for line in ax_ret.lines] == ["worker 0", "worker 1",
                                                            "mean of last 100"]
    np.testing.assert_allclose(ax_ret.lines[-1].get_ydata(), running_mean(np.arange(1.0, 9), 100))
    assert len(training_figure(MetricsLog()).axes) == 4  # an empty log is drawn, not an error


def test_csv_round_trip_and_cached_runs(tmp_path):
    log = _toy_log()
    (tmp_path / "a2c").mkdir()
    log.to_csv(tmp_path / "a3c.csv")
    log.to_csv(tmp_path / "a2c" / "metrics.csv")
    back = load_metrics_csv(tmp_path / "a3c.csv")
    assert back.episodes == log.episodes and back.updates == log.updates
    found = find_cached_runs(tmp_path, ["a3c", "a2c"])
    assert found == {"a3c": tmp_path / "a3c.csv", "a2c": tmp_path / "a2c" / "metrics.csv"}
    assert find_cached_runs(tmp_path, ["a3c", "ac"]) is None  # all or nothing
    fig = learning_curves(found)
    assert [line.get_label() for line in fig.axes[0].lines] == ["a3c", "a2c"]
    with pytest.raises(ValueError, match="path must be an existing metrics csv"):
        load_metrics_csv(tmp_path / "missing.csv")


def test_update_timeline_and_table():
    log = _toy_log()
    fig = update_timeline(log)
    counts = [len(c.get_positions()) for c in fig.axes[0].collections]  # ticks per worker
    assert counts == [10, 10]
    heights = [p.get_height() for p in fig.axes[1].patches]  # lags 1, 2, 0, 1, 2, 0, …
    assert heights == [6, 7, 7]
    assert updates_table(log, n=2).splitlines()[1:] == [
        "     1       1            8     0.004           1",
        "     2       0           16     0.008           2",
    ]
    with pytest.raises(ValueError, match="log must hold update rows"):
        update_timeline(MetricsLog())


def test_updates_table_is_in_time_order():
    log = MetricsLog()  # worker 1's batch reaches the log before worker 0's earlier update
    log.append("updates", [UpdateRow(1, 16, 0.2, 0, 0, 0.6, 1, 1, 1e-3, 1)])
    log.append("updates", [UpdateRow(0, 8, 0.1, 0, 0, 0.6, 1, 0, 1e-3, 1)])
    assert [line.split()[1] for line in updates_table(log).splitlines()[1:]] == ["0", "1"]


@pytest.mark.timeout(120)
def test_a_failing_worker_is_shown_as_an_error_status():
    from fault_envs import fault  # a test env that raises in worker 0 after 2 updates

    dash = TrainingDashboard(TrainConfig(workers=1, max_steps=1_000_000, target_return=None,
                                         **fault(0, 2)), headless=True)
    assert dash.start()
    result = dash.wait(timeout=60)
    assert result is not None and result.summary["stopped_by"] == "error"
    assert dash.status.value.startswith("error: ")
    assert _wait_for(lambda: not spawned_children(), timeout=5)


def test_worker_rates_recover_each_workers_speed():
    # worker 0: 8 steps per update every 0.01 s (800/s); worker 1: 32 steps every 0.1 s (320/s)
    events = [(0, 0.01 * i, 8) for i in range(1, 101)] + [(1, 0.1 * i + 0.005, 32)
                                                          for i in range(1, 11)]
    events.sort(key=lambda e: e[1])  # the global step grows in time order
    step, rows = 0, []
    for w, t, b in events:
        step += b
        rows.append(UpdateRow(w, step, t, 0, 0, 0, 0, 0, 1e-3, -1.0))  # reported rate ignored
    rows.reverse()  # arrival order must not matter
    rates = worker_rates(rows, k=5)
    np.testing.assert_allclose(rates[0][1], 800.0)
    np.testing.assert_allclose(rates[1][1], 320.0)
    assert len(rates[0][0]) == 95 and len(rates[1][0]) == 5
    assert worker_rates([]) == {}


def test_episodes_only_csv_of_the_cached_runs_loads(tmp_path):
    # `python -m a3c_lib reproduce` writes episode rows only (no update columns)
    path = tmp_path / "a3c.csv"
    path.write_text("kind,worker,step,time,ret,length\nepisode,0,36,0.608,9,9\n"
                    "episode,1,52,0.7,13,13\n")
    log = load_metrics_csv(path)
    assert log.episodes == [EpisodeRow(0, 36, 0.608, 9.0, 9), EpisodeRow(1, 52, 0.7, 13.0, 13)]
    assert log.updates == []
