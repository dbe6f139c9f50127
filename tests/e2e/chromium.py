"""Find a Chromium for the browser tests the way a user would, or say in one line why not.

Order: the ``A3C_E2E_CHROMIUM`` environment variable (a path to the binary; if it is set but
wrong, that is an error, not a skip), then ``chromium``, ``chromium-browser``, ``google-chrome``
… on ``PATH``, the usual macOS and Windows install folders, then Playwright's own browsers
(``python -m playwright install chromium``, under ``PLAYWRIGHT_BROWSERS_PATH`` or its default
cache folder). Without one the browser tests skip with :data:`MISSING_REASON`, except in CI
(``CI=true``), where a missing browser fails them.
"""

from __future__ import annotations

import glob
import os
import pathlib
import re
import shutil
import sys

ENV_VAR = "A3C_E2E_CHROMIUM"
PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
INSTALL_PATHS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
)
MISSING_REASON = (
    "no Chromium found (looked at $A3C_E2E_CHROMIUM, chromium/chromium-browser/google-chrome on "
    "PATH, the usual install folders and Playwright's browsers): install one (Debian/Ubuntu: "
    "`apt install chromium`; any system: `python -m playwright install chromium`) or set "
    "A3C_E2E_CHROMIUM=/path/to/chrome; `pytest -m \"not e2e\"` runs everything else"
)


def in_ci() -> bool:
    """True when ``CI`` is set to a true value (CI services set ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _playwright_dirs() -> list[pathlib.Path]:
    custom = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if custom and custom != "0":
        return [pathlib.Path(custom)]
    home = pathlib.Path.home()
    dirs = [home / ".cache" / "ms-playwright", home / "Library" / "Caches" / "ms-playwright"]
    if os.environ.get("LOCALAPPDATA"):
        dirs.append(pathlib.Path(os.environ["LOCALAPPDATA"]) / "ms-playwright")
    try:  # PLAYWRIGHT_BROWSERS_PATH=0 installs next to the package
        import playwright

        dirs.append(pathlib.Path(playwright.__file__).parent / "driver" / "package"
                    / ".local-browsers")
    except ImportError:
        pass
    return dirs


def _playwright_browsers() -> list[str]:
    patterns = ("chromium-*/chrome-*/chrome", "chromium-*/chrome-*/chrome.exe",
                "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
                "chromium_headless_shell-*/chrome-*/headless_shell",
                "chromium_headless_shell-*/chrome-*/headless_shell.exe")
    found = []
    for folder in _playwright_dirs():
        for pattern in patterns:
            found += sorted(glob.glob(str(folder / pattern)), key=_build_number, reverse=True)
    return found  # per folder and pattern, the newest build first


def _build_number(binary: str) -> int:
    """Playwright's build number from ``.../chromium-1200/...`` (as a number: 999 < 1100)."""
    match = re.search(r"chromium(?:_headless_shell)?-(\d+)", binary)
    return int(match.group(1)) if match else -1


def find_chromium() -> str | None:
    """The Chromium binary to use, or None when there is none.

    Raises:
        FileNotFoundError: ``A3C_E2E_CHROMIUM`` is set but is not an executable file.
    """
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
            raise FileNotFoundError(f"{ENV_VAR}={chosen!r} is not an executable file")
        return chosen
    for name in PATH_NAMES:
        path = shutil.which(name)
        if path:
            return path
    for path in INSTALL_PATHS:
        if os.path.isfile(path) and (sys.platform != "win32" or path.endswith(".exe")):
            return path
    browsers = _playwright_browsers()
    return browsers[0] if browsers else None


def chromium_or_skip(pytest) -> str:
    """The binary; else ``pytest.skip`` with one reason (``pytest.fail`` in CI or on a bad path)."""
    try:
        path = find_chromium()
    except FileNotFoundError as error:
        pytest.fail(str(error))
    if path is None:
        if in_ci():
            pytest.fail(f"CI=true and {MISSING_REASON}")
        pytest.skip(MISSING_REASON)
    return path
