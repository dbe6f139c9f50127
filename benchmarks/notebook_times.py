"""How long does each notebook take, top to bottom in a fresh kernel? (a benchmark, not a test)

    A3C_FAST=0 python3 benchmarks/notebook_times.py   # class mode: cached runs, full sample sizes
    A3C_FAST=1 python3 benchmarks/notebook_times.py   # fast mode, as CI runs them

Prints one line per course notebook: seconds (kernel start included) and the number of error
outputs. Nothing is written back to the notebooks.
"""

from __future__ import annotations

import os
import pathlib
import time

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"


def main() -> None:
    print(f"# A3C_FAST={os.environ.get('A3C_FAST', '0')}")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        t = time.perf_counter()
        try:
            client = NotebookClient(nb, timeout=600,
                                    resources={"metadata": {"path": str(NOTEBOOKS)}})
            client.execute()
            status = "ok"
        except Exception as exc:  # report it and time the next notebook
            status = f"{type(exc).__name__}: {str(exc)[:200]}"
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        errors = sum(o.get("output_type") == "error" for o in outputs)
        print(f"{path.name:36s} {time.perf_counter() - t:6.1f} s  {status}  errors={errors}",
              flush=True)


if __name__ == "__main__":
    main()
