"""Does A3C learn? Two seeds of real training on CartPole-v1, with generous bounds (slow test).

How FAST it learns is measured by benchmarks/solve_cartpole.py, never asserted here.
"""

import pytest

from a3c_lib.engine import training
from a3c_lib.engine.config import TrainConfig
from a3c_lib.experiments.reproduce import solve_point


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("seed", [0, 1])
def test_a3c_two_workers_reaches_195_on_cartpole(seed):
    # the default config solves 475 in ~110k steps; 195 needs far fewer: 200k is generous
    cfg = TrainConfig(algo="a3c", workers=2, seed=seed, target_return=195.0, max_steps=200_000)
    result = training.train(cfg)
    s = result.summary
    assert s["solved"], f"mean return of the last 100 episodes only {s['final_mean_return']}"
    assert s["solve_steps"] <= 200_000 and min(s["worker_updates"]) > 0
    # the solve is the FIRST episode at which the mean of the last 100, itself included (in the
    # order the parent received them), reached 195; the episodes that arrive after it (workers flush
    # every 0.1 s and stop at their next rollout) may pull the final mean below 195 (seen once
    # in CI: 184.13), so the final mean is bounded generously: far above a random policy's ~22
    assert s["metrics_stride"]["episodes"] == 1  # every row kept: the rule can be replayed
    first = solve_point(result.metrics.episodes, target=195.0, window=100)
    assert first is not None and (first.step, first.time) == (s["solve_steps"], s["solve_seconds"])
    assert s["final_mean_return"] == result.metrics.mean_return(100) >= 100.0
