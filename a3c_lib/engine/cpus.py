"""How many CPUs may THIS process use? (not ``os.cpu_count()``, the host's)

Classrooms share servers: a container may see 64 host CPUs yet be pinned to 2 (affinity, as
``taskset -c 0,1`` or a cpuset does) or limited to 2 CPUs' worth of time (a cgroup CPU quota, as
``docker --cpus 2`` does). The default worker count, the dashboard's worker slider and the
over-subscription warning all use :func:`available_cpus`.

>>> 1 <= available_cpus() <= (os.cpu_count() or 1)
True
>>> quota_cpus("max 100000", None, None) is None, quota_cpus("150000 100000", None, None)
(True, 2)
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def quota_cpus(v2_max: str | None, v1_quota: str | None, v1_period: str | None) -> int | None:
    """CPUs a cgroup quota allows (rounded up), from the files' texts; None = no quota.

    cgroup v2: ``cpu.max`` holds "QUOTA PERIOD" or "max PERIOD"; cgroup v1: ``cpu.cfs_quota_us``
    (-1 = none) and ``cpu.cfs_period_us``.
    """
    quota = period = None
    if v2_max:
        parts = v2_max.split()
        if len(parts) == 2 and parts[0] != "max":
            quota, period = parts
    elif v1_quota and v1_period and v1_quota != "-1":
        quota, period = v1_quota, v1_period
    try:
        q, p = int(quota), int(period)
    except (TypeError, ValueError):
        return None
    return max(1, math.ceil(q / p)) if q > 0 and p > 0 else None


def _cgroup_dirs() -> tuple[Path | None, Path | None]:
    """This process's cgroup v2 directory and cgroup v1 ``cpu`` directory (if mounted)."""
    v2 = v1 = None
    for line in (_read(Path("/proc/self/cgroup")) or "").splitlines():
        hier, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hier == "0" and controllers == "":
            v2 = CGROUP / path.lstrip("/")
        elif "cpu" in controllers.split(","):
            v1 = CGROUP / "cpu" / path.lstrip("/")
            if not v1.is_dir():  # the container's own view: its cgroup is the mount's root
                v1 = CGROUP / "cpu"
    if v2 is not None and not (v2 / "cpu.max").exists():
        v2 = CGROUP if (CGROUP / "cpu.max").exists() else None
    return v2, v1


def available_cpus() -> int:
    """min(CPUs in this process's affinity mask, the cgroup CPU quota rounded up); >= 1."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        n = os.cpu_count() or 1
    v2, v1 = _cgroup_dirs()
    quota = quota_cpus(_read(v2 / "cpu.max") if v2 else None,
                       _read(v1 / "cpu.cfs_quota_us") if v1 else None,
                       _read(v1 / "cpu.cfs_period_us") if v1 else None)
    return max(1, min(n, quota) if quota else n)
