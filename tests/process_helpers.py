"""Counting the worker processes a test started, for the "no orphans" checks."""

from __future__ import annotations

import psutil


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
