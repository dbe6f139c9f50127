"""Processes in tests: each in its own process group, killed as a GROUP on every exit path.

Tests that start a program (the CLI, a script) use :func:`group_popen` / :func:`group_run`:

* the child starts a new session (its own process group), so killing the group also kills
  the training workers it spawned, and a Ctrl-C sent to the group reaches only it;
* the child's SIGINT is reset to the default before exec: started from a non-interactive shell
  with ``&`` (or under nohup), a process inherits SIGINT *ignored*, and Python then installs no
  KeyboardInterrupt handler — a Ctrl-C test would send its signal into the void;
* whatever happens (assertion, timeout, KeyboardInterrupt), the group gets SIGKILL and is
  reaped before the test goes on.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
#: the environment of a child Python: a3c_lib and the test-only modules (fault_envs) importable
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}


def _default_signals() -> None:  # runs in the child between fork and exec
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (its session) and reap ``proc``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@contextlib.contextmanager
def group_popen(args: list[str], **kwargs):
    """``subprocess.Popen`` in its own process group; the group is killed when the block ends."""
    kwargs.setdefault("env", ENV)
    kwargs.setdefault("cwd", ROOT)
    proc = subprocess.Popen(args, start_new_session=True, preexec_fn=_default_signals, **kwargs)
    try:
        yield proc
    finally:
        kill_group(proc)


def group_run(args: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(capture_output=True, text=True)`` in its own group, killed on any exit."""
    with group_popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                     **kwargs) as proc:
        out, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(args, proc.returncode, out, err)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def spawned_children() -> list[psutil.Process]:
    """Live spawned worker processes of this test process (``spawn_main`` in the command line).

    Other children are not ours to count: multiprocessing's resource tracker lives until exit,
    and in a full test session the browser tests' JupyterLab and Chromium are children too.
    Zombies (exited, not yet reaped) are not alive.
    """
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:  # it ended while we looked
            pass
    return out


def run_until_every_worker_updated(cfg, updates: int = 1, **start_kwargs):
    """Start a training run, stop it once every worker has ``updates`` update rows; its result.

    A state, not a step budget: under CPU load one worker can spend a small budget before the
    other has started. ``cfg.max_steps`` should be large, a safety net only.
    """
    from a3c_lib.engine import training  # the engine only for the tests that start runs

    run = training.start(cfg, **start_kwargs)
    try:
        while run.wait(timeout=0.05) is None:
            counts = [0] * cfg.workers
            for u in run.metrics.updates:
                counts[u.worker] += 1
            if min(counts) >= updates:
                run.stop()
    finally:  # a failing assert or the test's timeout must not leave the run going
        run.stop()
        result = run.wait()
    return result
