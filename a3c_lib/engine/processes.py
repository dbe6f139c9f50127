"""Starting and stopping the worker processes without leaving anything behind.

>>> stop_processes([], drain=lambda: None)   # nothing to stop
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

# One BLAS thread per worker: the matrices are tiny, and OpenBLAS threads spinning for them on a
# busy machine made each forward pass several times slower (measured).
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def start_quietly(procs: list) -> None:
    """Start the worker processes with 1 BLAS thread each and SIGINT ignored from birth.

    Ctrl-C in a terminal reaches the whole process group; the parent alone must handle it (by
    setting the stop flag), so the children inherit SIG_IGN (a Python child keeps an ignored
    SIGINT ignored) instead of dying with a KeyboardInterrupt traceback while they import.
    """
    saved_env = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: "1" for k in _THREAD_VARS})
    in_main = threading.current_thread() is threading.main_thread()
    saved_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        for p in procs:
            p.start()
    finally:
        if in_main:
            signal.signal(signal.SIGINT, saved_sigint or signal.default_int_handler)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def stop_processes(procs: list, drain: Callable[[], None], join_seconds: float = 1.0) -> None:
    """Wait up to ``join_seconds`` for ``procs`` to exit (the stop flag must already be set),
    calling ``drain()`` meanwhile so that no worker blocks on a full pipe; then terminate
    (SIGTERM), and finally kill (SIGKILL) the stragglers, and reap them all.
    """
    deadline = time.monotonic() + join_seconds
    while any(p.is_alive() for p in procs) and time.monotonic() < deadline:
        drain()
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(0.5)
        if p.is_alive():
            p.kill()
        if p.pid is not None:
            p.join(1.0)
