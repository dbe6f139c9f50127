"""The global state that all worker processes share: ONE ``SharedMemory`` block of numpy views.

Layout (float64 unless said)::

    theta      (P,)        the global parameters θ
    g          (P,)        RMSProp's shared mean of squared gradients
    lr         (1,)        learning rate η; the notebook may change it while workers run
    counters   (2 + W,)    int64: [global env steps, global updates, updates of worker 0 … W-1]

The parent creates (and finally unlinks) the block; workers attach to it by name. Every read-modify
-write of theta/g/counters happens under one ``multiprocessing.Lock`` held by the caller.

>>> s = SharedState.create(n_params=3, n_workers=2)
>>> s.theta[:] = 1.0; s.counters[STEP] += 5
>>> t = SharedState.attach(s.handle); float(t.theta.sum()), int(t.counters[STEP])
(3.0, 5)
>>> t.close(); s.close(); s.unlink()
"""

from __future__ import annotations

from multiprocessing import shared_memory
from typing import NamedTuple

import numpy as np

STEP, UPDATES = 0, 1  # indices into counters; worker i's update count is counters[2 + i]


class Handle(NamedTuple):
    """What a worker needs to attach: picklable, tiny."""

    name: str
    n_params: int
    n_workers: int


class SharedState:
    """numpy views (theta, g, lr, counters) into one shared-memory block."""

    def __init__(self, shm: shared_memory.SharedMemory, n_params: int, n_workers: int) -> None:
        self._shm = shm
        self.handle = Handle(shm.name, n_params, n_workers)
        p = n_params
        self.theta = np.ndarray((p,), np.float64, shm.buf, offset=0)
        self.g = np.ndarray((p,), np.float64, shm.buf, offset=8 * p)
        self.lr = np.ndarray((1,), np.float64, shm.buf, offset=16 * p)
        self.counters = np.ndarray((2 + n_workers,), np.int64, shm.buf, offset=16 * p + 8)

    @staticmethod
    def nbytes(n_params: int, n_workers: int) -> int:
        return 8 * (2 * n_params + 1 + 2 + n_workers)

    @classmethod
    def create(cls, n_params: int, n_workers: int) -> SharedState:
        """A new zero-filled block (the parent's; it must call :meth:`unlink` at the end)."""
        shm = shared_memory.SharedMemory(create=True, size=cls.nbytes(n_params, n_workers))
        state = cls(shm, n_params, n_workers)
        state.theta.fill(0.0), state.g.fill(0.0), state.lr.fill(0.0), state.counters.fill(0)
        return state

    @classmethod
    def attach(cls, handle: Handle) -> SharedState:
        """Attach to an existing block by name (in a worker)."""
        return cls(shared_memory.SharedMemory(name=handle.name), handle.n_params,
                   handle.n_workers)

    def close(self) -> None:
        """Drop the views and unmap the block (the data lives on until :meth:`unlink`)."""
        del self.theta, self.g, self.lr, self.counters
        self._shm.close()

    def unlink(self) -> None:
        """Free the block (parent only, once, after every worker has closed it)."""
        self._shm.unlink()
