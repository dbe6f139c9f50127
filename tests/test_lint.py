"""The code follows the project's ruff configuration (pyproject.toml), so style cannot rot."""

import pathlib
import sys

from process_helpers import group_run

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ruff_check_passes():
    result = group_run([sys.executable, "-m", "ruff", "check", "a3c_lib", "tests", "benchmarks"],
                       timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
