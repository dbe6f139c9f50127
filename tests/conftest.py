"""Fixtures for every test: no run, worker or signal disposition leaks from one test into the next.

* ``stop_left_over_runs`` (autouse): a test that fails (or forgets) while a training run is
  active would make every later test fail with "a training run is already running" and leave
  workers spinning; after each test, any active run is stopped and waited for, and any spawned
  worker of ours still alive is killed. The stop itself runs in a helper thread with a deadline:
  a stop that hangs fails THIS test by name instead of hanging the session.
* a backstop per test: if a test is still running after ``BACKSTOP_SECONDS`` (pytest-timeout's
  SIGALRM should have ended it long before; it cannot when a thread is blocked in C), every
  thread's traceback goes to stderr and the process exits, so CI shows where instead of timing
  out silently.
* ``sigint_raises`` (opt-in): the test delivers SIGINT to its own process; it must raise
  KeyboardInterrupt even when pytest was started with SIGINT ignored (``&`` from a
  non-interactive shell, nohup, some CI runners). The previous disposition comes back after.
* the whole session, at its end: no spawned worker of ours is alive, and no shared-memory block
  (``/dev/shm/psm_*``), ``a3c-*`` temporary folder or TensorFlow autograph file that the
  session created is left behind; otherwise the run fails and names what was left.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import tempfile
import threading

import pytest
from process_helpers import spawned_children

BACKSTOP_SECONDS = 900  # > the 600 s pytest-timeout of pyproject.toml


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    faulthandler.dump_traceback_later(BACKSTOP_SECONDS, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def _kill_spawned_children() -> None:
    for p in spawned_children():
        p.kill()
        p.wait(timeout=10)


@pytest.fixture(autouse=True)
def stop_left_over_runs():
    yield
    from a3c_lib.engine import training

    run = training._active
    if run is not None and run.running:
        stopper = threading.Thread(target=lambda: (run.stop(), run.wait(timeout=30)),
                                   name="conftest-stop", daemon=True)
        stopper.start()
        stopper.join(40)
        if stopper.is_alive():  # the stop hangs: kill the workers, then give it a last chance
            _kill_spawned_children()
            stopper.join(20)
        if stopper.is_alive() or run.running:
            training._active = None  # let the next tests start runs of their own
            _kill_spawned_children()
            pytest.fail("a training run left over by this test did not stop within 60 s")
    _kill_spawned_children()


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
