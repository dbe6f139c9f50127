"""Put the set-up check at the top of the first code cell of every notebook (idempotent).

Opened on Colab, on Binder, or in a Jupyter whose kernel is not the course's virtual
environment, a notebook would otherwise stop deep inside its first import with a bare
``ModuleNotFoundError: No module named 'a3c_lib'``. The check says instead exactly what to run
there. The repository's address comes from ONE setting, ``[project.urls] Repository`` in
pyproject.toml (the website's launch buttons read the same one, docs/conf.py).

    python docs/tools/setup_cell.py           # insert or update the check in every notebook
    python docs/tools/setup_cell.py --check   # exit 1 and name the notebooks that lack it

Only the block between the two marker lines is ever written; the rest of the cell is kept as
it is, and a notebook already up to date is not rewritten. It needs only the standard library.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "# --- set-up check (docs/tools/setup_cell.py writes this block; edit the script) ---"
END = "# --- end of set-up check ---"


def repository() -> str:
    """The repository's address: pyproject.toml's ``[project.urls] Repository``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project["urls"]["Repository"].rstrip("/")


def check_block(repo: str) -> str:
    """The block's source (ends with a newline)."""
    help_text = "\n".join([
        "a3c_lib, the course's package, is not installed for this notebook's Python.",
        "- On Colab: run these two lines in a new cell, then Runtime > Restart session, and run",
        "  this cell again:",
        f"    !git clone --depth 1 {repo} /content/a3c-course",
        "    %pip install -q -e /content/a3c-course",
        "- On Binder: open a Terminal (File > New > Terminal) and run",
        "    python -m pip install -e ~",
        "  then Kernel > Restart Kernel, and run this cell again.",
        "- On your computer: in a terminal, in the course folder, run the README's open command",
        "    python3 -m venv .venv && .venv/bin/python -m pip install -e . && "
        ".venv/bin/python -m a3c_lib lab",
        "  and open this notebook in the JupyterLab it starts (Windows: see the README).",
    ])
    message = [f"        {json.dumps(line + chr(10))}" for line in help_text.splitlines()]
    return "\n".join([
        BEGIN,
        "try:",
        "    import a3c_lib  # noqa: F401",
        "except ModuleNotFoundError as missing:",
        "    if missing.name != \"a3c_lib\":",
        "        raise  # a3c_lib is there, one of ITS imports is missing: show that error",
        "    raise ModuleNotFoundError(",
        *message,
        "    ) from None",
        END,
    ]) + "\n"


def with_check(source: str, block: str) -> str:
    """``source`` with ``block`` at its top, replacing an older block if there is one.

    >>> with_check("import numpy\\n", "# b\\n")
    '# b\\nimport numpy\\n'
    >>> with_check(f"{BEGIN}\\nold\\n{END}\\nimport numpy\\n", "# b\\n")
    '# b\\nimport numpy\\n'
    """
    if source.startswith(BEGIN) and END in source:
        source = source.split(END, 1)[1].removeprefix("\n")
    return block + source


def _first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def _source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def has_current_check(path: Path, block: str) -> bool:
    """True when the first code cell of ``path`` starts with exactly ``block``."""
    cell = _first_code_cell(json.loads(path.read_text(encoding="utf-8")))
    return cell is not None and _source(cell).startswith(block)


def update(path: Path, block: str) -> bool:
    """Inserts or updates the check in ``path``; returns whether the file changed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = _first_code_cell(nb)
    if cell is None:
        raise ValueError(f"{path} has no code cell to put the set-up check in")
    new = with_check(_source(cell), block)
    if new == _source(cell):
        return False
    cell["source"] = new.splitlines(keepends=True)  # the list-of-lines form Jupyter writes
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def notebooks(folder: Path = ROOT / "notebooks") -> list[Path]:
    """Every notebook of the course (solutions included), checkpoints excluded."""
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report, change nothing")
    args = parser.parse_args(argv)
    block = check_block(repository())
    if args.check:
        stale = [p for p in notebooks() if not has_current_check(p, block)]
        for p in stale:
            print(f"missing or outdated set-up check: {p.relative_to(ROOT)}")
        return 1 if stale else 0
    for p in notebooks():
        print(f"{'updated' if update(p, block) else 'up to date'}: {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
