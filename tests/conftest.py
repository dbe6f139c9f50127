"""Fixtures for every test: no run, worker or signal disposition leaks from one test into the next.

* ``stop_left_over_runs`` (autouse): a test that fails (or forgets) while a training run is
  active would make every later test fail with "a training run is already running" and leave
  workers spinning; after each test, any active run is stopped and waited for, and any spawned
  worker of ours still alive is killed.
* ``sigint_raises`` (opt-in): the test delivers SIGINT to its own process; it must raise
  KeyboardInterrupt even when pytest was started with SIGINT ignored (``&`` from a
  non-interactive shell, nohup, some CI runners). The previous disposition comes back after.
"""

from __future__ import annotations

import signal

import pytest
from process_helpers import spawned_children


@pytest.fixture(autouse=True)
def stop_left_over_runs():
    yield
    from a3c_lib.engine import training

    run = training._active
    if run is not None and run.running:
        run.stop()
        run.wait(timeout=30)
    for p in spawned_children():
        p.kill()
        p.wait(timeout=10)


@pytest.fixture
def sigint_raises():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
