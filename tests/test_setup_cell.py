"""The set-up check at the top of every notebook (docs/tools/setup_cell.py, issue 10).

Opened where ``a3c_lib`` is not installed (Colab, Binder, a Jupyter outside the course's venv),
a notebook's first cell must say exactly what to run instead of failing deep in an import.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "tools"))
import setup_cell  # noqa: E402


def test_every_notebook_starts_with_the_current_check():
    block = setup_cell.check_block(setup_cell.repository())
    stale = [p.name for p in setup_cell.notebooks() if not setup_cell.has_current_check(p, block)]
    assert not stale, f"run `python docs/tools/setup_cell.py`; missing or outdated in {stale}"
    assert len(setup_cell.notebooks()) == len(list((ROOT / "notebooks").rglob("[0-9]*.ipynb")))


def test_the_address_comes_from_the_one_setting():
    repo = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    first = json.loads((ROOT / "notebooks" / "00_rl_basics.ipynb").read_text())
    source = "".join(next(c for c in first["cells"] if c["cell_type"] == "code")["source"])
    assert f"git clone --depth 1 {repo.rstrip('/')} /content/a3c-course" in source


def _run_block(monkeypatch, blocked: str) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)  # `import blocked` now fails
    exec(setup_cell.check_block("https://example.org/repo"), {})


def test_without_a3c_lib_the_block_says_what_to_run(monkeypatch):
    with pytest.raises(ModuleNotFoundError) as info:
        _run_block(monkeypatch, "a3c_lib")
    text = str(info.value)
    assert text.startswith("a3c_lib, the course's package, is not installed")
    assert "!git clone --depth 1 https://example.org/repo /content/a3c-course" in text
    assert "%pip install -q -e /content/a3c-course" in text
    assert "python -m pip install -e ~" in text  # Binder
    assert ".venv/bin/python -m a3c_lib lab" in text  # a local machine
    assert info.value.__cause__ is None and info.value.__suppress_context__  # one message


def test_with_a3c_lib_installed_the_block_does_nothing():
    exec(setup_cell.check_block("https://example.org/repo"), {})  # no exception, no output
