"""Checkers for the exercises of notebooks 01–07.

Each ``check_*`` runs the student's function on several cases, compares it with the library's
own tested functions (or with properties, like E_π[A] = 0), and prints either
"✅ correct — …" or "❌ not yet: <a hint>" — never the expected numbers. It returns a
:class:`CheckResult` (``bool(result)`` is True when correct). A function that raises, returns
None or returns the wrong shape gets one friendly line instead of a traceback. Worked solutions:
``notebooks/solutions/``.

>>> check_weighted_average(lambda p, x: float(np.dot(p, x))).passed
✅ correct — E_P[X] is the probability-weighted average of the values
True
"""

import numpy as np  # noqa: F401  (used by the doctest above)

from a3c_lib.exercises._report import CheckResult
from a3c_lib.exercises.actor_critic import check_n_step_return, check_policy_logit_gradient
from a3c_lib.exercises.advantage import check_advantage, check_expected_advantage
from a3c_lib.exercises.bandit import check_score_function_gradient
from a3c_lib.exercises.expectation import check_variance, check_weighted_average
from a3c_lib.exercises.loop import check_actor_critic_update
from a3c_lib.exercises.off_policy import check_importance_weights, check_off_policy_mean
from a3c_lib.exercises.parallel import check_count_global_updates, check_round_robin
from a3c_lib.exercises.policy_gradient import check_grad_log_softmax, check_policy_gradient
from a3c_lib.exercises.quiz import concept_check, grade
from a3c_lib.exercises.values import check_bellman_backup, check_q_from_v

__all__ = [
    "CheckResult",
    "concept_check", "grade",  # concept checks, every notebook
    "check_weighted_average", "check_variance",  # 01
    "check_bellman_backup", "check_q_from_v",  # 02
    "check_advantage", "check_expected_advantage",  # 03
    "check_score_function_gradient", "check_grad_log_softmax", "check_policy_gradient",  # 04
    "check_n_step_return", "check_policy_logit_gradient", "check_actor_critic_update",  # 05
    "check_round_robin", "check_count_global_updates",  # 06
    "check_importance_weights", "check_off_policy_mean",  # 07
]
