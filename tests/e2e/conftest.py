"""Fixtures for the browser tests: a throwaway JupyterLab server and a headless Chromium.

The server runs on loopback (random free port, random token, no browser of its own) with
``A3C_FAST=1`` so every kernel it starts uses the tiny fast-mode budgets. Its root directory
is a temporary COPY of ``notebooks/``, so running the notebooks never writes outputs into the
repository. All Jupyter config, settings, workspace and runtime directories point into the
same temporary folder: no first-run news toast, no restored workspace, no leftovers.

Teardown always runs (``finally``): every kernel is shut down through the REST API, the server
process group is terminated (killed after a timeout), and a final check asserts that no
server or kernel process survived.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import psutil
import pytest

from .chromium import MISSING_REASON, chromium_or_skip, find_chromium, in_ci

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The notebooks under test; A3C_E2E_NOTEBOOKS may point elsewhere (used to develop the harness).
NOTEBOOK_DIR = pathlib.Path(os.environ.get("A3C_E2E_NOTEBOOKS", ROOT / "notebooks")).resolve()
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",  # we may run as root (CI containers)
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the sandbox has no network: do not flood it
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 60.0
SERVER_STOP_SECONDS = 10.0

# Lab settings overrides written into the temporary user-settings directory.
LAB_SETTINGS = {
    # No "Would you like to receive official Jupyter news?" toast, no update check.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Opening a notebook starts its kernel without a "Select Kernel" dialog.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "autoStartDefaultKernel": True,
    },
    # Never save executed notebooks (even the temporary copies): each test starts clean.
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "autosave": False,
    },
}


@dataclass
class LabServer:
    """A running JupyterLab server started by the ``lab_server`` fixture."""

    url: str  # e.g. "http://127.0.0.1:41234"
    token: str
    root_dir: pathlib.Path  # the temporary copy of the notebooks
    process: subprocess.Popen
    log_path: pathlib.Path
    seen_pids: set[int] = field(default_factory=set)  # every child process ever observed
    pending: list[threading.Thread] = field(default_factory=list)  # kernel shutdowns under way

    def api(self, method: str, path: str, timeout: float = 10.0):
        """Calls the Jupyter REST API; returns the decoded JSON body (or None when empty)."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_url(self, notebook: str) -> str:
        """The URL a student would open for ``notebook`` (a path relative to the root)."""
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"

    def remember_children(self) -> None:
        """Records the server's current descendants (kernels, workers) for the final check."""
        try:
            parent = psutil.Process(self.process.pid)
            self.seen_pids.update(child.pid for child in parent.children(recursive=True))
        except psutil.NoSuchProcess:
            pass

    def shutdown_kernels_in_background(self) -> None:
        """Shuts every running kernel down from a thread (the next test need not wait for it)."""
        try:
            ids = [kernel["id"] for kernel in self.api("GET", "/api/kernels") or []]
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return  # the session teardown still shuts everything down and checks

        def shutdown() -> None:
            for kernel_id in ids:
                try:
                    self.api("DELETE", f"/api/kernels/{kernel_id}", timeout=30.0)
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass  # already gone, or handled by the session teardown

        thread = threading.Thread(target=shutdown, name="e2e-kernel-shutdown", daemon=True)
        thread.start()
        self.pending.append(thread)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server log, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_nb06: needs notebook 06 (training dashboard); deselect with -m 'not needs_nb06'",
    )


def pytest_collection_modifyitems(config, items):
    """Without a Chromium, every browser test is skipped with ONE reason (never in CI)."""
    try:
        found = find_chromium()
    except FileNotFoundError:
        return  # A3C_E2E_CHROMIUM points nowhere: the browser fixture fails with the message
    if found is None and not in_ci():
        skip = pytest.mark.skip(reason=MISSING_REASON)
        for item in items:
            if item.get_closest_marker("e2e"):
                item.add_marker(skip)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_lab_settings(settings_dir: pathlib.Path) -> None:
    for relative, values in LAB_SETTINGS.items():
        target = settings_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))


def _copy_notebooks(target: pathlib.Path) -> None:
    if not NOTEBOOK_DIR.is_dir():
        pytest.fail(f"notebook directory {NOTEBOOK_DIR} not found")
    shutil.copytree(
        NOTEBOOK_DIR,
        target,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )


def _wait_until_up(server: LabServer) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"JupyterLab exited with code {server.process.returncode} while starting:\n"
                f"{server.log_tail()}"
            )
        try:
            server.api("GET", "/api/status", timeout=2.0)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_error = error
            time.sleep(0.25)
    pytest.fail(
        f"JupyterLab did not answer /api/status within {SERVER_START_SECONDS:.0f} s "
        f"({last_error}):\n{server.log_tail()}"
    )


def _shutdown(server: LabServer) -> list[str]:
    """Stops kernels and server; returns a description of any process that survived."""
    server.remember_children()
    for thread in server.pending:
        thread.join(timeout=30.0)
    try:
        for kernel in server.api("GET", "/api/kernels") or []:
            try:
                server.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=30.0)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # the kill below and the final check still cover it
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass  # server already gone; the final check reports leftovers
    server.remember_children()

    process = server.process
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=SERVER_STOP_SECONDS)

    # Kernels live in their own sessions (jupyter_client), so the group kill above may miss
    # them: give them a moment, then kill and REPORT any survivor.
    survivors = []
    deadline = time.monotonic() + SERVER_STOP_SECONDS
    for pid in sorted(server.seen_pids):
        while time.monotonic() < deadline:
            try:
                proc = psutil.Process(pid)
                if proc.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.1)
        else:
            try:
                proc = psutil.Process(pid)
                if proc.status() != psutil.STATUS_ZOMBIE:
                    survivors.append(f"pid {pid}: {' '.join(proc.cmdline())[:200]}")
                    proc.kill()
            except psutil.NoSuchProcess:
                pass
    return survivors


@pytest.fixture(scope="session")
def lab_server():
    """A JupyterLab server on loopback serving a temporary copy of the notebooks."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="a3c-e2e-"))
    root_dir = workdir / "notebooks"
    _copy_notebooks(root_dir)
    settings_dir = workdir / "lab-settings"
    workspaces_dir = workdir / "lab-workspaces"
    _write_lab_settings(settings_dir)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "jupyter_server.log"

    port = _free_port()
    token = secrets.token_hex(24)
    env = dict(os.environ)
    env.update(
        A3C_FAST="1",  # kernels inherit it: fast-mode budgets
        MPLBACKEND="Agg",
        JUPYTER_CONFIG_DIR=str(workdir / "config"),
        JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(workspaces_dir),
        IPYTHONDIR=str(workdir / "ipython"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={workspaces_dir}",
        # Lets the tests ask the app which cells ran and what they output (the UI is still
        # driven through menus, buttons and sliders like a student would).
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
    ]
    if os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")  # CI containers often run as root
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: one killpg stops it all
        )
    server = LabServer(
        url=f"http://127.0.0.1:{port}",
        token=token,
        root_dir=root_dir,
        process=process,
        log_path=log_path,
    )
    survivors: list[str] = []
    try:
        _wait_until_up(server)
        yield server
    finally:
        survivors = _shutdown(server)
        shutil.rmtree(workdir, ignore_errors=True)
    assert not survivors, "processes survived the JupyterLab shutdown:\n" + "\n".join(survivors)


@pytest.fixture(scope="module")
def browser_context():
    """A headless Chromium (driven by Playwright) with a fresh profile.

    Module scope, not session: Playwright's sync API runs an event loop in this thread while it
    is started, and a later module (tests/test_site.py) that starts its own would fail with
    "using Playwright Sync API inside the asyncio loop".
    """
    chromium = chromium_or_skip(pytest)  # skip with one reason; fail in CI (see chromium.py)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package `playwright` is missing: `pip install playwright`")
    profile = tempfile.mkdtemp(prefix="a3c-e2e-chromium-")
    playwright = sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()
    finally:
        playwright.stop()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser_context, lab_server):
    """A fresh browser tab; closed (and the server's child processes noted) afterwards."""
    tab = browser_context.new_page()
    console_errors: list[str] = []
    tab.on("pageerror", lambda error: console_errors.append(str(error)))
    tab.console_errors = console_errors  # type: ignore[attr-defined]
    try:
        yield tab
    finally:
        lab_server.remember_children()
        tab.close()
        # One kernel per test: shut it down now instead of letting kernels pile up.
        lab_server.shutdown_kernels_in_background()
