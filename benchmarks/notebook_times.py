"""How long does each notebook take, top to bottom in a fresh kernel? (a benchmark, not a test)

    A3C_FAST=0 python3 benchmarks/notebook_times.py   # class mode: cached runs, full sample sizes
    A3C_FAST=1 python3 benchmarks/notebook_times.py   # fast mode, as CI runs them
    A3C_FAST=0 python3 benchmarks/notebook_times.py --save /tmp/executed 04 05   # some, kept

Prints one line per course notebook: seconds (kernel start included) and the number of error
outputs. Nothing is written back to the notebooks; ``--save DIR`` writes the executed copies
there (to read the numbers a class sees); names given select notebooks by prefix.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="only notebooks whose name starts so")
    parser.add_argument("--save", type=pathlib.Path, help="write the executed notebooks here")
    args = parser.parse_args()
    print(f"# A3C_FAST={os.environ.get('A3C_FAST', '0')}")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        if args.prefixes and not path.name.startswith(tuple(args.prefixes)):
            continue
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
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, args.save / path.name)


if __name__ == "__main__":
    main()
