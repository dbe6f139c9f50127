"""Every random stream of a run, from ONE ``np.random.SeedSequence(seed)``.

``SeedSequence.spawn`` gives statistically independent children, so no two streams overlap —
not θ's init and a worker's action sampling, not worker 1 of seed 0 and worker 0 of seed 1
(``seed + i`` made those equal), not two seeds of a benchmark::

    SeedSequence(seed)
     ├─ child 0 → θ's initialisation
     └─ child 1 + i → worker i ─┬─ its action-sampling rng
                                └─ one env-reset seed per env it steps

>>> s = run_seeds(seed=0, n_workers=2, envs_per_worker=2)
>>> len(s.workers), len(s.workers[0].env_seeds)
(2, 2)
>>> s.workers[1].env_seeds == run_seeds(1, 2, 2).workers[0].env_seeds
False
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class WorkerSeeds(NamedTuple):
    """A worker's streams: the rng that samples its actions, and its envs' first-reset seeds."""

    rng: np.random.SeedSequence
    env_seeds: list[int]


class RunSeeds(NamedTuple):
    init: np.random.SeedSequence  # θ's initialisation
    workers: list[WorkerSeeds]


def run_seeds(seed: int, n_workers: int, envs_per_worker: int) -> RunSeeds:
    """The streams of a run with ``n_workers`` processes stepping ``envs_per_worker`` envs each."""
    init, *children = np.random.SeedSequence(seed).spawn(1 + n_workers)
    workers = []
    for child in children:
        rng, envs = child.spawn(2)
        # env.reset takes an int seed: 63-bit ints drawn from the env child's own stream
        env_seeds = [int(x) for x in envs.generate_state(envs_per_worker, np.uint64) >> 1]
        workers.append(WorkerSeeds(rng, env_seeds))
    return RunSeeds(init, workers)
