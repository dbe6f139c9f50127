"""The two diagrams and the bias-variance figure: the labels a student reads are there."""

from __future__ import annotations

import pytest

from a3c_lib.advantage_estimators import EstimatorStats
from a3c_lib.viz.diagrams import global_and_workers, two_head_network
from a3c_lib.viz.estimators import bias_variance_figure


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_two_head_network_names_the_trunk_and_both_heads():
    text = " ".join(_texts(two_head_network(hidden=(32, 16), n_actions=3)))
    assert "tanh 32 → tanh 16" in text and "3 logits" in text and "V(s)" in text


@pytest.mark.parametrize("n", [1, 3, 6])
def test_global_and_workers_draws_one_box_and_two_arrows_per_worker(n):
    fig = global_and_workers(n)
    assert sum(t.startswith("worker") for t in _texts(fig)) == n
    assert len(fig.axes[0].patches) == 1 + 3 * n  # the global box; per worker a box, 2 arrows
    assert any("copy θ' ← θ" in t for t in _texts(fig))
    with pytest.raises(ValueError, match=r"n_workers must be an integer in \[1, 6\]"):
        global_and_workers(7)


def test_bias_variance_figure_marks_the_chosen_values():
    stats = [EstimatorStats(0.3, 0.0), EstimatorStats(0.1, 0.01), EstimatorStats(0.0, 0.05)]
    fig = bias_variance_figure([1, 2, 4], stats, [0.0, 0.5, 1.0], stats, n=2, lam=0.5)
    ax_n, ax_l = fig.axes
    assert [line.get_label() for line in ax_n.lines[:3]] == ["bias²", "variance",
                                                             "mean squared error"]
    # the minimum of the mean squared error (0.01 + 0.01 at the middle point) is starred
    star = [line for line in ax_l.lines if line.get_marker() == "*"][0]
    assert star.get_xdata()[0] == 0.5 and star.get_ydata()[0] == pytest.approx(0.02)
