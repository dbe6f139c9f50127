"""The global state that all worker processes share: ONE ``SharedMemory`` block of numpy views.

Layout::

    theta      (P,)        the global parameters θ, in the policy's dtype (float64 for the MLP)
    g          (P,)        RMSProp's shared mean of squared gradients, same dtype
    lr         (1,)        float64 learning rate (α in the notebooks); may change as workers run
    counters   (2 + W,)    int64: [global env steps, global updates, updates of worker 0 … W-1]
    stop       (1,)        int64: 0 while the run goes on; the parent stores 1 to stop the workers

The parent creates (and finally unlinks) the block; workers attach to it by name. Every read-modify
-write of theta/g/counters happens under one ``multiprocessing.Lock`` held by the caller. ``stop``
and ``lr`` are single aligned 8-byte stores, so they need no lock: the parent never has to take
a lock that a worker killed at the wrong moment could still hold.

>>> s = SharedState.create(n_params=3, n_workers=2)
>>> s.theta[:] = 1.0; s.counters[STEP] += 5
>>> s.stop[0] = 1
>>> t = SharedState.attach(s.handle); float(t.theta.sum()), int(t.counters[STEP]), int(t.stop[0])
(3.0, 5, 1)
>>> t.close(); s.close(); s.unlink()
>>> s = SharedState.create(n_params=3, n_workers=1, dtype="float32"); s.theta.dtype, s.lr.dtype
(dtype('float32'), dtype('float64'))
>>> s.close(); s.unlink()
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
    dtype: str = "float64"  # of theta and g


class SharedState:
    """numpy views (theta, g, lr, counters, stop) into one shared-memory block."""

    def __init__(self, shm: shared_memory.SharedMemory, n_params: int, n_workers: int,
                 dtype: str = "float64") -> None:
        self._shm = shm
        self.handle = Handle(shm.name, n_params, n_workers, np.dtype(dtype).name)
        p, tail = n_params, self._tail_offset(n_params, dtype)
        self.theta = np.ndarray((p,), dtype, shm.buf, offset=0)
        self.g = np.ndarray((p,), dtype, shm.buf, offset=tail // 2)
        self.lr = np.ndarray((1,), np.float64, shm.buf, offset=tail)
        self.counters = np.ndarray((2 + n_workers,), np.int64, shm.buf, offset=tail + 8)
        self.stop = np.ndarray((1,), np.int64, shm.buf, offset=tail + 8 * (3 + n_workers))

    @staticmethod
    def _tail_offset(n_params: int, dtype: str) -> int:
        """Bytes of theta + g, each rounded up to 8 so that lr and the counters stay aligned."""
        return 2 * (-(-n_params * np.dtype(dtype).itemsize // 8) * 8)

    @classmethod
    def nbytes(cls, n_params: int, n_workers: int, dtype: str = "float64") -> int:
        return cls._tail_offset(n_params, dtype) + 8 * (1 + 2 + n_workers + 1)  # lr, counters, stop

    @classmethod
    def create(cls, n_params: int, n_workers: int, dtype: str = "float64") -> SharedState:
        """A new zero-filled block (the parent's; it must call :meth:`unlink` at the end)."""
        size = cls.nbytes(n_params, n_workers, dtype)
        shm = shared_memory.SharedMemory(create=True, size=size)
        state = cls(shm, n_params, n_workers, dtype)
        state.theta.fill(0.0), state.g.fill(0.0), state.lr.fill(0.0)
        state.counters.fill(0), state.stop.fill(0)
        return state

    @classmethod
    def attach(cls, handle: Handle) -> SharedState:
        """Attach to an existing block by name (in a worker)."""
        return cls(shared_memory.SharedMemory(name=handle.name), handle.n_params,
                   handle.n_workers, handle.dtype)

    def close(self) -> None:
        """Drop the views and unmap the block (the data lives on until :meth:`unlink`)."""
        del self.theta, self.g, self.lr, self.counters, self.stop
        self._shm.close()

    def unlink(self) -> None:
        """Free the block (parent only, once, after every worker has closed it)."""
        self._shm.unlink()
