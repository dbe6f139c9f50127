"""The browser tests find Chromium as a user would; without one they skip with one reason,
except in CI, where they fail. (No browser is started here: these are not ``e2e`` tests.)"""

from __future__ import annotations

import os
import pathlib
import sys

import pytest
from process_helpers import group_run

from . import chromium

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _fake_binary(path: pathlib.Path) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_browser_anywhere(tmp_path, monkeypatch):
    """An environment with no Chromium: empty PATH, empty Playwright folder, no install paths."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.delenv(chromium.ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(empty))
    monkeypatch.setattr(chromium, "INSTALL_PATHS", ())
    return tmp_path


def test_nothing_found_gives_none(no_browser_anywhere):
    assert chromium.find_chromium() is None


def test_the_environment_variable_wins(no_browser_anywhere, monkeypatch):
    binary = _fake_binary(no_browser_anywhere / "my" / "chrome")
    _fake_binary(no_browser_anywhere / "empty" / "chromium")  # also on PATH: not chosen
    monkeypatch.setenv(chromium.ENV_VAR, str(binary))
    assert chromium.find_chromium() == str(binary)


def test_a_wrong_environment_variable_is_an_error_not_a_skip(no_browser_anywhere, monkeypatch):
    monkeypatch.setenv(chromium.ENV_VAR, str(no_browser_anywhere / "nope"))
    with pytest.raises(FileNotFoundError, match="A3C_E2E_CHROMIUM=.*nope.* is not an executable"):
        chromium.find_chromium()


@pytest.mark.parametrize("name", ["chromium", "chromium-browser", "google-chrome"])
def test_found_on_path(no_browser_anywhere, name):
    binary = _fake_binary(no_browser_anywhere / "empty" / name)
    assert chromium.find_chromium() == str(binary)


def test_found_among_playwright_browsers(no_browser_anywhere):
    builds = {n: _fake_binary(no_browser_anywhere / "empty" / f"chromium-{n}" / "chrome-linux"
                              / "chrome") for n in (999, 1100, 1200)}
    assert all(b.exists() for b in builds.values())
    # the newest build by NUMBER: as strings "chromium-999" would sort after "chromium-1200"
    assert chromium.find_chromium() == str(builds[1200])


@pytest.mark.parametrize("ci", ["", "true"])
def test_browser_tests_skip_with_one_reason_or_fail_in_ci(no_browser_anywhere, ci):
    # A real pytest run of one browser test in an environment without any Chromium.
    env = dict(os.environ, CI=ci, HOME=str(no_browser_anywhere))
    env.pop(chromium.ENV_VAR, None)
    out = group_run(  # its own process group, killed on every exit path
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
         "tests/e2e/test_browser.py::test_gamma_slider_redraws_value_heatmap"],
        cwd=ROOT, env=env, timeout=300,
    )
    text = out.stdout + out.stderr
    if ci:
        assert out.returncode == 1, text
        assert "CI=true and no Chromium found" in text
    else:
        assert out.returncode == 0, text
        assert "1 skipped" in text
        assert "no Chromium found" in text and "pytest -m \"not e2e\"" in text
