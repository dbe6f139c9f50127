"""Fixtures for every test: no run, worker or signal disposition leaks from one test into the next.

* ``stop_left_over_runs`` (autouse): a test that fails (or forgets) while a training run is
  active would make every later test fail with "a training run is already running" and leave
  workers spinning; after each test, any active run is stopped and waited for, and any spawned
  worker of ours still alive is killed.
* ``sigint_raises`` (opt-in): the test delivers SIGINT to its own process; it must raise
  KeyboardInterrupt even when pytest was started with SIGINT ignored (``&`` from a
  non-interactive shell, nohup, some CI runners). The previous disposition comes back after.
* the whole session, at its end: no spawned worker of ours is alive, and no shared-memory block
  (``/dev/shm/psm_*``), ``a3c-*`` temporary folder or TensorFlow autograph file that the
  session created is left behind; otherwise the run fails and names what was left.
"""

from __future__ import annotations

import os
import signal
import tempfile

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


_LEFTOVER_PLACES = (("/dev/shm", ("psm_",)),
                    (tempfile.gettempdir(), ("a3c-", "__autograph_generated_file")))
_AT_START: set[str] = set()


def _ours_on_disk() -> set[str]:
    found = set()
    for folder, prefixes in _LEFTOVER_PLACES:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found |= {os.path.join(folder, n) for n in names if n.startswith(prefixes)}
    return found


def pytest_sessionstart(session):
    _AT_START.update(_ours_on_disk())  # what other programs (or an earlier run) left is not ours


def pytest_sessionfinish(session, exitstatus):
    left = sorted(_ours_on_disk() - _AT_START)
    workers = [" ".join(p.cmdline())[:100] for p in spawned_children()]
    if left or workers:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = "the test session left behind: " + "; ".join(left + workers)
        if reporter is not None:
            reporter.write_line(text, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
