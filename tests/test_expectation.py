"""E_P[X] against hand-worked sums, and the Monte Carlo mean against its σ/√n law."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.expectation import (
    check_distribution,
    expectation,
    running_mean,
    sample,
    sample_mean_errors,
    variance,
)

P = np.array([0.1, 0.2, 0.3, 0.4])
X = np.array([-2.0, 0.0, 1.0, 5.0])
MEAN = 0.1 * -2 + 0.3 * 1 + 0.4 * 5  # 2.1, worked by hand
VAR = 0.1 * 4.1**2 + 0.2 * 2.1**2 + 0.3 * 1.1**2 + 0.4 * 2.9**2


def test_expectation_is_the_weighted_sum():
    assert expectation(P, X) == pytest.approx(MEAN)
    assert expectation([1.0], [7.0]) == 7.0
    assert expectation(np.full(5, 0.2), np.arange(5.0)) == pytest.approx(2.0)  # uniform: plain mean


def test_variance_by_hand():
    assert variance(P, X) == pytest.approx(VAR)
    assert variance([0.0, 1.0], [3.0, 9.0]) == 0.0  # a certain outcome has no spread


@pytest.mark.parametrize(
    ("p", "x", "match"),
    [
        ([0.5, 0.6], [1.0, 2.0], "p must sum to 1"),
        ([1.5, -0.5], [1.0, 2.0], "p must have finite, non-negative"),
        ([[0.5, 0.5]], [[1.0, 2.0]], "p must be a non-empty 1-D"),
        ([np.nan, 1.0], [1.0, 2.0], "p must have finite"),
        ([0.5, 0.5], [1.0, 2.0, 3.0], "x must have the shape of p"),
    ],
)
def test_bad_inputs_raise_naming_the_argument(p, x, match):
    with pytest.raises(ValueError, match=match):
        expectation(p, x)


def test_check_distribution_names_the_given_argument():
    with pytest.raises(ValueError, match="start must sum to 1"):
        check_distribution([0.2, 0.2], "start")


def test_sample_draws_only_values_of_x_with_frequencies_p():
    n = 40_000
    xs = sample(P, X, n, rng=1)
    assert xs.shape == (n,)
    assert set(np.unique(xs)) <= set(X)
    freq = np.array([(xs == x).mean() for x in X])
    se = np.sqrt(P * (1 - P) / n)  # binomial standard error of each frequency
    assert np.all(np.abs(freq - P) < 5 * se)


def test_sample_is_reproducible_from_a_seed():
    np.testing.assert_array_equal(sample(P, X, 10, rng=3), sample(P, X, 10, rng=3))


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_sample_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        sample(P, X, n, rng=0)


def test_running_mean_by_hand_and_its_limit():
    np.testing.assert_allclose(running_mean([1.0, 3.0, 5.0, 7.0]), [1.0, 2.0, 3.0, 4.0])
    xs = sample(P, X, 50_000, rng=2)
    means = running_mean(xs)
    assert means[-1] == pytest.approx(xs.mean())
    assert abs(means[-1] - MEAN) < 5 * np.sqrt(VAR / xs.size)  # the law of large numbers
    with pytest.raises(ValueError, match="samples must be a non-empty 1-D"):
        running_mean(np.zeros((2, 2)))


def test_sample_mean_error_follows_sigma_over_sqrt_n():
    ns = np.array([1, 4, 16, 64, 256])
    errors = sample_mean_errors(P, X, ns, rng=0, repeats=4000)
    np.testing.assert_allclose(errors, np.sqrt(VAR / ns), rtol=0.08)
    slope = np.polyfit(np.log(ns), np.log(errors), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.05)


def test_sample_mean_errors_validates_ns_and_repeats():
    with pytest.raises(ValueError, match="ns must be a 1-D array of integers >= 1"):
        sample_mean_errors(P, X, [0, 10], rng=0)
    with pytest.raises(ValueError, match="repeats must be an integer >= 1"):
        sample_mean_errors(P, X, [1], rng=0, repeats=0)
