"""The one-process toy A3C of notebook 06: policy lag, schedules, one worker = the 05 loop."""

from __future__ import annotations

import numpy as np
import pytest

from a3c_lib.actor_critic import LoopConfig, actor_critic_update, make_env
from a3c_lib.asynchrony import lag_table, run
from a3c_lib.nn import mlp


def test_one_worker_is_exactly_the_loop_of_notebook_05():
    hp = LoopConfig(t_max=5)
    shared = run(n_workers=1, n_updates=40, schedule="random", hp=hp, seed=3, hidden=(8,))
    spec = mlp.MLPSpec(4, 2, hidden=(8,))
    theta = mlp.init_theta(spec, np.random.default_rng(3))
    g = np.zeros_like(theta)
    env, rng = make_env(), np.random.default_rng(3)  # worker 0 seeds with seed + 0
    obs, _ = env.reset(seed=3)
    for _ in range(40):
        obs, _stats = actor_critic_update(spec, theta, g, env, obs, rng, hp)
    np.testing.assert_array_equal(shared.theta, theta)
    np.testing.assert_array_equal(shared.g, g)
    assert [r.lag for r in shared.log] == [0] * 40


@pytest.mark.parametrize("n_workers", [2, 3, 4])
def test_round_robin_gives_every_gradient_a_lag_of_n_minus_1(n_workers):
    shared = run(n_workers=n_workers, n_updates=6 * n_workers, schedule="round_robin",
                 hp=LoopConfig(t_max=4), hidden=(8,))
    lags = [r.lag for r in shared.log]
    # first round: worker k copied θ_0 and finds k updates before its own
    assert lags[:n_workers] == list(range(n_workers))
    assert lags[n_workers:] == [n_workers - 1] * (5 * n_workers)
    assert [r.worker for r in shared.log] == list(range(n_workers)) * 6


def test_random_schedule_versions_are_consistent_and_lags_vary():
    shared = run(n_workers=2, n_updates=200, schedule="random", hp=LoopConfig(t_max=8),
                 seed=1, hidden=(8,))
    assert shared.version == 200 and len(shared.log) == 200
    for k, r in enumerate(shared.log):
        assert r.applied_to == k  # the k-th update found θ at version k
        assert 0 <= r.copied <= r.applied_to and r.lag == r.applied_to - r.copied
    assert {r.worker for r in shared.log} == {0, 1}
    assert len({r.lag for r in shared.log}) >= 3  # 0, 1, 2, …: the OS-like schedule varies
    ticks = [r.tick for r in shared.log]
    assert ticks == sorted(ticks)
    assert all(w in (0, 1) and ret > 0 for w, ret in shared.episode_returns)


def test_lag_table_and_bad_input():
    shared = run(n_workers=2, n_updates=6, schedule="round_robin", hidden=(4,))
    table = lag_table(shared.log, start=2, n=3).splitlines()
    assert len(table) == 4 and table[1].split()[0] == "3"
    with pytest.raises(ValueError, match="n_workers must be an integer >= 1"):
        run(n_workers=0)
    with pytest.raises(ValueError, match="n_updates must be an integer >= 1"):
        run(n_updates=-1)
    with pytest.raises(ValueError, match="schedule must be one of round_robin, random"):
        run(schedule="fifo")
