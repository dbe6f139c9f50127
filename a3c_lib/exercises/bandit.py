"""Exercise of notebook 04, section 2: the score-function (log-derivative) gradient of a bandit."""

from __future__ import annotations

import numpy as np

from a3c_lib.bandit import bandit_gradient, bandit_policy
from a3c_lib.exercises._report import CheckResult, check_function


def _weighted_score(theta, r, weight, probs=None):
    """Σ_a weight(a) r(a) (e_a − probs): the family of near-misses of the exercise, shape (K,)."""
    probs = bandit_policy(theta) if probs is None else probs  # (K,)
    return weight * r - probs * np.sum(weight * r)  # Σ_a w_a r_a e_a − probs Σ_a w_a r_a


def check_score_function_gradient(score_function_gradient) -> CheckResult:
    """Check ``score_function_gradient(theta, r)`` = Σ_a π(a) r(a) ∇_θ log π(a), shape (K,).

    The checker compares with ∇J computed the other way, by differentiating Σ_a π(a) r(a)
    directly; the two agree only if the log-derivative trick is applied correctly.

    >>> check_score_function_gradient(lambda theta, r: bandit_policy(theta) * r).passed
    ... # doctest: +ELLIPSIS
    ❌ not yet: ∇ log π(a) has two parts: ... (case 1 of 4, ...)
    False
    """
    rng = np.random.default_rng(402)
    cases = [(np.array([0.5, -0.3, 0.2]), np.array([1.0, -0.5, 2.0])),
             (rng.normal(0.0, 1.0, 4), rng.normal(1.0, 1.0, 4)),
             (rng.normal(0.0, 2.0, 5), rng.normal(-1.0, 2.0, 5)),
             (np.array([1.0, -1.0]), np.array([3.0, 1.0]))]
    return check_function(
        score_function_gradient, name="score_function_gradient", arg_names=["theta", "r"],
        cases=cases, reference=bandit_gradient,
        variants=[
            ("∇ log π(a) has two parts: e_a (from θ_a) and −π (from the log of the "
             "normalising sum); you kept only the first",
             lambda th, r: bandit_policy(th) * r),
            ("the actions are not weighted by π(a): the gradient is an expectation over a ∼ π, "
             "so each term r(a) ∇log π(a) counts with probability π(a)",
             lambda th, r: _weighted_score(th, r, np.ones_like(r))),
            ("each action counts 1/K: weight it by its probability π(a) instead",
             lambda th, r: _weighted_score(th, r, np.full_like(r, 1.0 / r.size))),
            ("you subtracted the logits θ where the probabilities π = softmax(θ) belong: "
             "∇ log π(a) = e_a − π",
             lambda th, r: _weighted_score(th, r, bandit_policy(th), probs=th)),
            ("exp(θ) is not normalised: π = exp(θ) / Σ_b exp(θ_b)",
             lambda th, r: _weighted_score(th, r, np.exp(th), probs=np.exp(th))),
            ("r(a) is missing: without it you computed E_π[∇ log π], which is always 0",
             lambda th, r: np.zeros_like(r)),
        ],
        generic_hint="sum over the actions a of π(a) · r(a) · (e_a − π)",
        shape_note="(one entry per logit θ_b)",
        success="Σ_a π(a) r(a) ∇log π(a) equals the derivative of Σ_a π(a) r(a): the "
                "log-derivative trick")
