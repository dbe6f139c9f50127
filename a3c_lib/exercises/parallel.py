"""Exercises of notebook 06: the order in which the learner receives the workers' steps, and how
often the global network is updated."""

from __future__ import annotations

import numpy as np

from a3c_lib.correlation import interleave
from a3c_lib.exercises._report import CheckResult, check_function


def check_round_robin(round_robin) -> CheckResult:
    """Check ``round_robin(streams, chunk)``: N workers' streams (T, N) merged into one (T·N,).

    ``chunk`` consecutive steps of worker 0, then ``chunk`` of worker 1, …, then worker 0 again.

    >>> check_round_robin(lambda streams, chunk: streams.T.ravel()).passed  # doctest: +ELLIPSIS
    ❌ not yet: you put all of worker 0's steps first: ... (case 1 of 4, ...)
    False
    """
    # values 100·worker + step, so every entry is different and any reordering is visible
    cases = [(100.0 * np.arange(n)[None, :] + np.arange(t)[:, None], chunk)  # (T, N)
             for t, n, chunk in ((4, 3, 1), (6, 2, 3), (8, 4, 2), (6, 3, 6))]
    return check_function(
        round_robin, name="round_robin", arg_names=["streams", "chunk"], cases=cases,
        reference=interleave,
        variants=[
            ("you put all of worker 0's steps first: the workers' rollouts reach the learner "
             "in turns, chunk steps from each", lambda s, chunk: s.T.ravel()),
            ("you switched worker after every step: take `chunk` consecutive steps of one "
             "worker before moving to the next", lambda s, chunk: s.ravel()),
            ("the workers are in the wrong order inside a round: 0, 1, …, N−1",
             lambda s, chunk: interleave(s[:, ::-1], chunk)),
        ],
        generic_hint="round k holds steps k·chunk … (k+1)·chunk − 1 of worker 0, then of "
                     "worker 1, …",
        shape_note="(one flat stream of all T·N steps)",
        success="neighbours in the merged stream come from different workers, which is how "
                "parallel agents decorrelate the learner's data")


def _simulate_updates(steps_per_worker: int, n_workers: int, t_max: int) -> int:
    """Count updates by stepping every worker: an update after each t_max of its own steps."""
    updates = 0
    for _worker in range(n_workers):
        rollout = 0
        for _step in range(steps_per_worker):
            rollout += 1
            if rollout == t_max:  # a full rollout: send its gradient to the global network
                updates, rollout = updates + 1, 0
    return updates


def check_count_global_updates(count_global_updates) -> CheckResult:
    """Check ``count_global_updates(steps_per_worker, n_workers, t_max)``, a whole number.

    Each of the N workers sends one gradient to the global network after every t_max of its
    own steps; a rollout that is still incomplete when the steps run out sends nothing.

    >>> check_count_global_updates(lambda steps, n, t_max: steps // t_max).passed
    ... # doctest: +ELLIPSIS
    ❌ not yet: you counted the updates of ONE worker: ... (case 1 of 5, ...)
    False
    """
    cases = [(20, 4, 5), (23, 3, 5), (100, 8, 20), (7, 2, 8), (1000, 16, 5)]
    return check_function(
        count_global_updates, name="count_global_updates",
        arg_names=["steps_per_worker", "n_workers", "t_max"], cases=cases,
        reference=_simulate_updates,
        variants=[
            ("you counted the updates of ONE worker: every worker updates the global network",
             lambda steps, n, t_max: steps // t_max),
            ("an incomplete rollout is not sent: round DOWN the number of rollouts per worker",
             lambda steps, n, t_max: n * steps / t_max),
            ("an incomplete rollout is not sent: round DOWN the number of rollouts per worker",
             lambda steps, n, t_max: n * -(-steps // t_max)),
            ("round down per worker: each worker's own incomplete rollout is lost, so count "
             "one worker's full rollouts first", lambda steps, n, t_max: n * steps // t_max),
            ("one update per rollout of t_max steps, not one per step",
             lambda steps, n, t_max: n * steps),
            ("the workers do not share their steps: each one has steps_per_worker steps",
             lambda steps, n, t_max: steps // (n * t_max)),
        ],
        generic_hint="count the full rollouts of one worker, then think about all N workers",
        shape_note="(a single whole number)",
        success="with N workers the global network is updated N times as often as by one "
                "agent, each time from a different worker's recent experience")
