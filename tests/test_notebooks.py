"""Every notebook runs top to bottom in a fresh kernel (fast mode), then every cell after the
set-up cell runs a second time in the same kernel (what a student does when going back to an
earlier cell); no error, no stray stderr; none is committed with outputs."""

from __future__ import annotations

import functools
import json
import os
import pathlib
import re
import signal
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]
IDS = [str(p.relative_to(ROOT / "notebooks")) for p in NOTEBOOKS]

#: stderr a notebook may print, each with the reason it is harmless. Anything else fails the scan.
ALLOWED_STDERR: list[tuple[str, str]] = [
    (r"^\s*$", "blank lines carry no message"),
]


def _allowed(line: str) -> bool:
    return any(re.search(pattern, line) for pattern, _reason in ALLOWED_STDERR)


def _problems(cells, passes: str) -> list[str]:
    """Errors and unexpected stderr lines in the outputs of ``cells``."""
    found = []
    for i, cell in cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{passes}, cell {i}: {out.get('ename')}: {out.get('evalue')}")
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                bad = [line for line in out.get("text", "").splitlines() if not _allowed(line)]
                if bad:
                    found.append(f"{passes}, cell {i}: stray stderr: {' | '.join(bad)[:400]}")
    return found


def _kill_kernel_group(client) -> None:
    """SIGKILL the kernel's process group (it runs in its own session): no process survives."""
    try:
        pid = client.km.provisioner.process.pid
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError, OSError):
        pass  # already gone with the kernel's shutdown


@functools.cache
def _execute(path: pathlib.Path) -> dict:
    """Run ``path`` once fresh, then re-run every cell after the first code cell; cached."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env = {"A3C_FAST": "1", "MPLBACKEND": "Agg"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment of this process
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    first, second, raised = [], [], []
    start = time.perf_counter()
    try:
        with client.setup_kernel():
            for i, cell in enumerate(nb.cells):
                try:
                    client.execute_cell(cell, i)
                except CellExecutionError:
                    raised.append(f"first run, cell {i} raised")
                    break
            first = [(i, json.loads(json.dumps(c))) for i, c in enumerate(nb.cells)]
            seconds = time.perf_counter() - start
            code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
            if not raised:
                for i in code[1:]:  # every cell after the set-up cell, in order
                    try:
                        client.execute_cell(nb.cells[i], i)
                    except CellExecutionError:
                        raised.append(f"second run, cell {i} raised")
                    second.append((i, json.loads(json.dumps(nb.cells[i]))))
                    if raised:
                        break
    finally:
        _kill_kernel_group(client)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    timing = ROOT / "tests" / "artifacts" / "notebook_seconds.txt"
    timing.parent.mkdir(exist_ok=True)
    with timing.open("a") as fh:
        fh.write(f"{path.relative_to(ROOT)}\t{seconds:.1f}\t1\n")
    return {"first": first, "second": second, "raised": raised}


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5, "the course's notebooks are missing"


def test_the_stderr_scan_catches_what_it_should():
    cell = {"outputs": [{"output_type": "stream", "name": "stderr",
                         "text": "pygame: XDG_RUNTIME_DIR is invalid\n\n"}]}
    assert _problems([(3, cell)], "first run") == [
        "first run, cell 3: stray stderr: pygame: XDG_RUNTIME_DIR is invalid"]
    quiet = {"outputs": [{"output_type": "stream", "name": "stdout", "text": "fine\n"}]}
    assert _problems([(0, quiet)], "first run") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [
        i for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_executes_in_fast_mode(path):
    run = _execute(path)
    first_errors = [r for r in run["raised"] if r.startswith("first")]
    problems = [p for p in _problems(run["first"], "first run") if "stray stderr" not in p]
    assert not first_errors and not problems, "\n".join(first_errors + problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_cell_after_setup_runs_again_in_the_same_kernel(path):
    run = _execute(path)
    if any(r.startswith("first") for r in run["raised"]):
        pytest.fail("the first run failed (see test_notebook_executes_in_fast_mode)")
    problems = [p for p in _problems(run["second"], "second run") if "stray stderr" not in p]
    assert not run["raised"] and not problems, "\n".join(run["raised"] + problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_stray_stderr(path):
    run = _execute(path)
    stray = [p for p in _problems(run["first"], "first run") + _problems(run["second"],
                                                                          "second run")
             if "stray stderr" in p]
    assert not stray, "\n".join(stray)
