"""What the benchmarks ran on: printed at the top of every benchmark's output."""

from __future__ import annotations

import os
import platform


def machine_info() -> dict[str, str]:
    """nproc, CPU model, load average and library versions."""
    import gymnasium
    import numpy

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), "?")
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    return {"nproc": str(os.cpu_count()), "cpu": cpu,
            "load average (1/5/15 min)": " ".join(f"{x:.2f}" for x in load),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "gymnasium": gymnasium.__version__}


def print_machine() -> None:
    for key, value in machine_info().items():
        print(f"# {key}: {value}")
