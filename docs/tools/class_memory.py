"""Measure what one student costs on a shared server: the numbers in TEACHERS.md.

Runs notebook 06 top to bottom in a fresh kernel in CLASS mode (cached runs, ``A3C_FAST``
unset), then, in the same kernel, starts the A3C trainer the way the dashboard's Train button
does (2 workers x 4 environments), waits until every worker has sent updates, and prints the
resident memory (RSS) of the kernel and of each worker process, then stops the run and checks
that no worker is left. Also prints the RSS of a kernel that only imported numpy (the floor).

    python docs/tools/class_memory.py            # about a minute on 2 cores
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "06_parallel_agents_a3c.ipynb"

MEASURE = r"""
import json, time, psutil
from a3c_lib.engine import training
from a3c_lib.engine.config import TrainConfig
me = psutil.Process()
kernel_after_notebook = me.memory_info().rss
run = training.start(TrainConfig(algo="a3c", workers=2, max_steps=10**9, target_return=None,
                                 seed=0))
deadline = time.monotonic() + 120
while run.global_step < 200_000 and time.monotonic() < deadline:  # every worker well under way
    time.sleep(0.2)
workers = [p for p in me.children(recursive=True)
           if "resource_tracker" not in " ".join(p.cmdline())]
sample = {"kernel_after_notebook": kernel_after_notebook,
          "kernel_training": me.memory_info().rss,
          "workers": [p.memory_info().rss for p in workers],
          "worker_uss": [p.memory_full_info().uss for p in workers],
          "global_step": run.global_step}
training.stop_and_wait(run)
sample["left"] = sum(1 for p in workers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE)
print("MEASURED " + json.dumps(sample))
"""

FLOOR = r"""
import json, psutil, numpy
print("MEASURED " + json.dumps({"bare_kernel": psutil.Process().memory_info().rss}))
"""
NB05 = ROOT / "notebooks" / "05_actor_critic.ipynb"  # the one that imports TensorFlow


def _run(cells: list[str], notebook: Path | None) -> dict:
    nb = nbformat.read(notebook, as_version=4) if notebook else nbformat.v4.new_notebook()
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    for cell in nb.cells[-len(cells):]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise RuntimeError(f"{out['ename']}: {out['evalue']}")
            for line in out.get("text", "").splitlines():
                if line.startswith("MEASURED "):
                    return json.loads(line[len("MEASURED "):])
    raise RuntimeError("no measurement printed")


def main() -> int:
    os.environ.pop("A3C_FAST", None)  # class mode
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    mb = 1 / 2**20
    start = time.perf_counter()
    floor = _run([FLOOR], None)
    m = _run([MEASURE], NOTEBOOK)
    tf_kernel = _run([FLOOR], NB05)["bare_kernel"]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"kernel that imported numpy only:          {floor['bare_kernel'] * mb:7.1f} MB RSS")
    print(f"kernel after notebook 06 (class mode):    "
          f"{m['kernel_after_notebook'] * mb:7.1f} MB RSS")
    print(f"same kernel while 2 workers train:        {m['kernel_training'] * mb:7.1f} MB RSS")
    print(f"kernel after notebook 05 (TensorFlow):    {tf_kernel * mb:7.1f} MB RSS")
    for i, (rss, uss) in enumerate(zip(m["workers"], m["worker_uss"], strict=True)):
        print(f"worker {i} (spawned, numpy + gymnasium):   {rss * mb:7.1f} MB RSS "
              f"({uss * mb:.1f} MB not shared)")
    print(f"global steps when measured: {m['global_step']:,}; workers left after stop: "
          f"{m['left']}; took {time.perf_counter() - start:.0f} s")
    return 0 if m["left"] == 0 and len(m["workers"]) == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
