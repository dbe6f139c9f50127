"""Exercises of notebook 01: the expectation as a weighted average, and the variance."""

from __future__ import annotations

import numpy as np

from a3c_lib import expectation as lib
from a3c_lib.exercises._report import CheckResult, check_function


def _cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """(p, x) pairs: the loaded die, a skewed 3-outcome case and random ones (never uniform p)."""
    rng = np.random.default_rng(101)
    cases = [(np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.5]), np.arange(1.0, 7.0)),
             (np.array([0.7, 0.2, 0.1]), np.array([-2.0, 5.0, 10.0]))]
    for k in (2, 4, 7):
        cases.append((rng.dirichlet(np.ones(k)), rng.normal(1.0, 3.0, size=k)))
    return cases


def check_weighted_average(weighted_average) -> CheckResult:
    """Check ``weighted_average(p, x)`` = E_P[X] = Σ_i P_i X_i, a single number.

    >>> check_weighted_average(lambda p, x: float(np.mean(x))).passed  # doctest: +ELLIPSIS
    ❌ not yet: the probabilities are not used as weights: ... (case 1 of 5, ...)
    False
    """
    return check_function(
        weighted_average, name="weighted_average", arg_names=["p", "x"], cases=_cases(),
        reference=lib.expectation,
        variants=[
            ("the probabilities are not used as weights: each value X_i must count in "
             "proportion to its probability P_i", lambda p, x: np.mean(x)),
            ("you divided by the number of outcomes: the weights P_i already sum to 1",
             lambda p, x: np.dot(p, x) / len(p)),
            ("you multiplied the sums, Σ P_i · Σ X_i; multiply each P_i by its own X_i, then sum",
             lambda p, x: np.sum(p) * np.sum(x)),
        ],
        generic_hint="E_P[X] multiplies each value by its probability and adds the products",
        shape_note="(did you forget to add up the products P_i·X_i?)",
        success="E_P[X] is the probability-weighted average of the values")


def check_variance(variance) -> CheckResult:
    """Check ``variance(p, x)`` = Var_P[X] = E_P[(X − E_P[X])²], a single number.

    >>> check_variance(lambda p, x: float(np.dot(p, x ** 2))).passed  # doctest: +ELLIPSIS
    ❌ not yet: you computed E[X²]: ... (case 1 of 5, ...)
    False
    """
    mean = lib.expectation
    return check_function(
        variance, name="variance", arg_names=["p", "x"], cases=_cases(), reference=lib.variance,
        variants=[
            ("you computed E[X²]: subtract the mean E_P[X] from X before squaring",
             lambda p, x: np.dot(p, x**2)),
            ("the deviations X − E[X] are not squared (their weighted average is always 0)",
             lambda p, x: np.dot(p, x - mean(p, x))),
            ("you averaged the squared deviations uniformly: weight them by P_i",
             lambda p, x: np.mean((x - mean(p, x)) ** 2)),
            ("you used the plain average of X as the mean: the mean is E_P[X]",
             lambda p, x: np.dot(p, (x - np.mean(x)) ** 2)),
            ("that is the standard deviation σ; the variance is σ²",
             lambda p, x: np.sqrt(lib.variance(p, x))),
        ],
        generic_hint="Var_P[X] is the P-weighted average of (X_i − E_P[X])²",
        shape_note="(did you forget to add up the weighted squared deviations?)",
        success="Var_P[X] = E_P[(X − E_P[X])²]; the error of an n-sample mean is √(Var/n)")
